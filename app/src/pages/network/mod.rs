//! The configuration pages: a list (search, status filter, pages) and an object page
//! (its form, its history, delete) for every kind, one component each, driven by the
//! kind's fields ([`fields`]). Object pages add their kind's [`sections`] (a campaign's
//! ring-tree editor, a buyer's postback keys…); numbers add an import page.

mod fields;
mod history;
mod import;
mod ring_tree;
pub mod sections;
mod test_ping;

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};
use serde_json::Value;

use self::fields::{Field, Input, Preset, RTB_PRESETS, fields, shown, text_of};
pub use self::import::ImportNumbers;
use self::sections::{Sections, Shown};
use super::{
    calls::capitalized,
    forms::{TIME_ZONES, TimeZones, failure, loading},
    shell::Notice,
};
use crate::{
    auth::Viewer,
    calls::dollars,
    errors::AppError,
    network::{
        Kind, ListPage, ObjectPageData, all_objects, delete_object, list_objects, object_page,
        save_object,
    },
    roles::Permission,
};

/// The text an object is known by (its name, or its number).
fn label(kind: Kind, object: &Value) -> String {
    object[kind.label_field()].as_str().unwrap_or_default().to_owned()
}

/// Every object of `kind`, fetched in the browser once the page is live: the server
/// renders what lists them empty, so hydration sees the same markup.
pub(in crate::pages) fn objects_of(kind: Kind) -> RwSignal<Vec<Value>> {
    let choices = RwSignal::new(Vec::new());
    Effect::new(move |_| {
        leptos::task::spawn_local(async move {
            if let Ok(all) = all_objects(kind).await {
                choices.set(all);
            }
        });
    });
    choices
}

fn object_path(kind: Kind, id: &str) -> String {
    format!("/app/{}/{id}", kind.plural())
}

/// How a list's column shows its value.
#[derive(Clone, Copy)]
enum Column {
    Text,
    Money,
    /// An id of an object of that kind, shown by its name.
    Name(Kind),
}

/// The columns a list shows besides the label and status: key, title, how shown.
fn columns(kind: Kind) -> &'static [(&'static str, &'static str, Column)] {
    match kind {
        Kind::Campaign => {
            &[("time_zone", "Time zone", Column::Text), ("floor_cents", "Floor", Column::Money)]
        }
        Kind::Publisher => &[
            ("payout.cents", "Payout per call", Column::Money),
            ("payout.percent", "Share of revenue (%)", Column::Text),
        ],
        Kind::Buyer => {
            &[("contact.name", "Contact", Column::Text), ("contact.email", "Email", Column::Text)]
        }
        Kind::Target => &[
            ("buyer_id", "Buyer", Column::Name(Kind::Buyer)),
            ("destination", "Destination", Column::Text),
            ("revenue.kind", "Revenue", Column::Text),
            ("revenue.cents", "Per call", Column::Money),
        ],
        Kind::Number => &[
            ("campaign_id", "Campaign", Column::Name(Kind::Campaign)),
            ("publisher_id", "Publisher", Column::Name(Kind::Publisher)),
            ("provider", "Provider", Column::Text),
        ],
        Kind::DniPool => &[
            ("campaign_id", "Campaign", Column::Name(Kind::Campaign)),
            ("lease_minutes", "Lease (min)", Column::Text),
        ],
        Kind::Trunk => &[("direction", "Direction", Column::Text), ("host", "Host", Column::Text)],
        Kind::BlockedCaller => &[("reason", "Reason", Column::Text)],
        Kind::Webhook => &[("kind", "Kind", Column::Text), ("url", "URL", Column::Text)],
    }
}

/// Active or paused (a webhook says so as `enabled`).
fn status_of(object: &Value) -> String {
    match object["enabled"].as_bool() {
        Some(true) => "active".to_owned(),
        Some(false) => "paused".to_owned(),
        None => cell(object, "status"),
    }
}

fn cell(object: &Value, key: &str) -> String {
    match key.split('.').fold(object, |value, part| &value[part]) {
        Value::String(text) => text.clone(),
        Value::Null => "—".to_owned(),
        other => other.to_string(),
    }
}

#[component]
pub fn ObjectList(kind: Kind) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let edits = viewer.role.allows(Permission::EditConfiguration);
    let name = RwSignal::new(String::new());
    let status = RwSignal::new(String::new());
    // Cursors of the pages before the current one, and the current one's.
    let previous = RwSignal::new(Vec::<Option<String>>::new());
    let cursor = RwSignal::new(None::<String>);
    let page = Resource::new(
        move || (name.get(), status.get(), cursor.get()),
        move |(name, status, cursor)| list_objects(kind, name, status, cursor),
    );
    let search = move |text: String| {
        previous.set(Vec::new());
        cursor.set(None);
        name.set(text);
    };

    view! {
        <Title text=format!("{} · Bidline", kind.title()) />
        <div class="page-head">
            <h1>{kind.title()}</h1>
            {edits
                .then(|| {
                    view! {
                        <a class="button" href=object_path(kind, "new") id="new-object">
                            "New " {kind.singular()}
                        </a>
                        {(kind == Kind::Number)
                            .then(|| view! { <a class="button secondary" href="/app/numbers/import">"Import numbers"</a> })}
                    }
                })}
        </div>
        <div class="filters" role="search">
            <label>
                <span class="visually-hidden">"Search"</span>
                <input
                    id="search"
                    type="search"
                    placeholder=format!("Search {}", kind.title().to_lowercase())
                    on:change=move |event| search(event_target_value(&event))
                />
            </label>
            <label>
                <span class="visually-hidden">"Status"</span>
                <select
                    id="status-filter"
                    on:change=move |event| {
                        previous.set(Vec::new());
                        cursor.set(None);
                        status.set(event_target_value(&event));
                    }
                >
                    <option value="">"Any status"</option>
                    <option value="active">"Active"</option>
                    <option value="paused">"Paused"</option>
                </select>
            </label>
        </div>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(ListPage { items, .. }) if items.is_empty() => {
                        let filtered = !name.get_untracked().is_empty()
                            || !status.get_untracked().is_empty();
                        let title = kind.title().to_lowercase();
                        let text = if filtered {
                            format!("No {title} match this search or status.")
                        } else if edits {
                            format!(
                                "No {title} yet. {} Add one with “New {}”.",
                                kind.purpose(),
                                kind.singular(),
                            )
                        } else {
                            format!("No {title} yet. {}", kind.purpose())
                        };
                        view! { <p class="empty-state" id="empty-list">{text}</p> }.into_any()
                    }
                    Ok(ListPage { items, next_cursor }) => {
                        view! {
                            <ObjectTable kind items />
                            <nav class="pager" aria-label="Pages">
                                <button
                                    class="secondary"
                                    disabled=move || previous.with(Vec::is_empty)
                                    on:click=move |_| {
                                        let mut stack = previous.get();
                                        if let Some(before) = stack.pop() {
                                            previous.set(stack);
                                            cursor.set(before);
                                        }
                                    }
                                >
                                    "Previous"
                                </button>
                                <button
                                    class="secondary"
                                    disabled=next_cursor.is_none()
                                    on:click=move |_| {
                                        previous.update(|stack| stack.push(cursor.get_untracked()));
                                        cursor.set(next_cursor.clone());
                                    }
                                >
                                    "Next"
                                </button>
                            </nav>
                        }
                            .into_any()
                    }
                    Err(error) => failure(&error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ObjectTable(kind: Kind, items: Vec<Value>) -> impl IntoView {
    // The objects named columns refer to, fetched once per column.
    let named: Vec<Option<(Kind, RwSignal<Vec<Value>>)>> = columns(kind)
        .iter()
        .map(|(_, _, column)| match column {
            Column::Name(kind) => Some((*kind, objects_of(*kind))),
            _ => None,
        })
        .collect();
    view! {
        <div class="table-scroll" tabindex="0">
            <table class="data" id="objects">
                <thead>
                    <tr>
                        <th scope="col">{if kind == Kind::Number { "Number" } else { "Name" }}</th>
                        {columns(kind).iter().map(|(_, title, _)| view! { <th scope="col">{*title}</th> }).collect_view()}
                        <th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {items
                        .into_iter()
                        .map(|object| {
                            let id = object["id"].as_str().unwrap_or_default().to_owned();
                            view! {
                                <tr>
                                    <td>
                                        <a href=object_path(kind, &id)>{label(kind, &object)}</a>
                                    </td>
                                    {columns(kind)
                                        .iter()
                                        .zip(&named)
                                        .map(|((key, _, column), named)| {
                                            let value = key.split('.').fold(&object, |value, part| &value[part]);
                                            match (column, value.as_i64(), named) {
                                                (Column::Money, Some(cents), _) => {
                                                    view! { <td class="money">{dollars(cents)}</td> }.into_any()
                                                }
                                                (Column::Name(_), _, Some((kind, objects))) if !value.is_null() => {
                                                    let (kind, objects, id) = (*kind, *objects, value.clone());
                                                    let name = move || {
                                                        objects.with(|all| {
                                                            all.iter()
                                                                .find(|o| o["id"] == id)
                                                                .map_or_else(String::new, |o| label(kind, o))
                                                        })
                                                    };
                                                    view! { <td>{name}</td> }.into_any()
                                                }
                                                _ => view! { <td>{cell(&object, key)}</td> }.into_any(),
                                            }
                                        })
                                        .collect_view()}
                                    <td>
                                        {
                                            let status = status_of(&object);
                                            view! { <span class=format!("status {status}")>{status.clone()}</span> }
                                        }
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

/// What an object page shows; nothing yet for a new object.
async fn load(kind: Kind, id: String) -> Result<Option<ObjectPageData>, AppError> {
    if id == "new" { Ok(None) } else { object_page(kind, id).await.map(Some) }
}

/// `/app/{kind}/{id}`, or `/app/{kind}/new` for a new object, with the kind's
/// [`Sections`] besides its form.
#[component]
pub fn ObjectDetail(kind: Kind, sections: Sections) -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let loaded = Resource::new(id, move |id| load(kind, id));
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match loaded.await {
                    Ok(loaded) => view! { <ObjectView kind sections loaded /> }.into_any(),
                    Err(error) => failure(&error),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ObjectView(kind: Kind, sections: Sections, loaded: Option<ObjectPageData>) -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let edits = viewer.role.allows(Permission::EditConfiguration);
    let shown = loaded.map(|ObjectPageData { object, history, ring_tree }| {
        let id = object["id"].as_str().unwrap_or_default().to_owned();
        let administers = viewer.role.allows(Permission::Administer);
        (Shown { id, object, ring_tree, edits, administers }, history)
    });
    let heading = match &shown {
        Some((shown, _)) => label(kind, &shown.object),
        None => format!("New {}", kind.singular()),
    };
    let object = shown.as_ref().map(|(shown, _)| shown.object.clone());
    let dni_key = object.as_ref().and_then(|o| o["dni_public_key"].as_str()).map(str::to_owned);
    let above = shown.as_ref().map(|(shown, _)| sections.above(shown));
    let (below, ending) = match shown {
        Some((shown, history)) => {
            let id = shown.id.clone();
            let ending = view! {
                {edits.then(|| view! { <DeleteObject kind id /> })}
                <history::History changes=history />
            };
            (Some(sections.below(shown)), Some(ending))
        }
        None => (None, None),
    };
    view! {
        <Title text=format!("{heading} · Bidline") />
        <p class="breadcrumb">
            <a href=format!("/app/{}", kind.plural())>{kind.title()}</a>
        </p>
        <h1>{heading}</h1>
        {dni_key.map(|key| view! { <p class="hint">"DNI key: " <code>{key}</code></p> })}
        {above}
        <ObjectForm kind object edits />
        {below}
        {ending}
    }
}

#[component]
fn ObjectForm(kind: Kind, object: Option<Value>, edits: bool) -> impl IntoView {
    let navigate = use_navigate();
    let notice = use_context::<Notice>();
    let id = object.as_ref().and_then(|o| o["id"].as_str()).map(str::to_owned);
    // A new object's fields may come prefilled from the link that opened the form
    // (`/app/targets/new?buyer_id=…`, as the Overview's setup steps link).
    let query = use_query_map();
    let prefilled = |key: &str| {
        if object.is_some() { None } else { query.with_untracked(|q| q.get(key)) }
    };
    let texts: RwSignal<BTreeMap<&'static str, String>> = RwSignal::new(
        fields(kind)
            .iter()
            .map(|field| {
                let text = prefilled(field.key).unwrap_or_else(|| text_of(field, object.as_ref()));
                (field.key, text)
            })
            .collect(),
    );
    // Problems found here before asking the server, then the server's.
    let problems = RwSignal::new(BTreeMap::<String, String>::new());
    let saved = RwSignal::new(false);
    // A new object's secret (a webhook's signing secret), shown before its page opens.
    let shown_once = RwSignal::new(None::<(String, String)>);
    let save = Action::new(move |(id, body): &(Option<String>, String)| {
        save_object(kind, id.clone(), body.clone())
    });
    let creating = id.is_none();
    Effect::new(move |_| match save.value().get() {
        Some(Ok(object)) => {
            problems.set(BTreeMap::new());
            saved.set(true);
            if creating && let Some(new_id) = object["id"].as_str() {
                match object["secret"].as_str() {
                    Some(secret) => shown_once.set(Some((new_id.to_owned(), secret.to_owned()))),
                    None => {
                        let path = object_path(kind, new_id);
                        if let Some(notice) = notice {
                            let text = format!("{} created.", capitalized(kind.singular()));
                            notice.show(path.clone(), text);
                        }
                        navigate(&path, Default::default());
                    }
                }
            }
        }
        Some(Err(AppError::Invalid(fields))) => {
            problems.set(fields);
            focus_first_problem();
        }
        Some(Err(error)) => {
            problems.set(BTreeMap::from([(String::new(), error.to_string())]));
            focus_first_problem();
        }
        None => {}
    });
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        saved.set(false);
        match fields::body(kind, &texts.get_untracked()) {
            Ok(body) => {
                save.dispatch((id.clone(), body.to_string()));
            }
            Err(found) => {
                problems.set(found);
                focus_first_problem();
            }
        }
    };
    // Messages no field owns (and failures that are not about input).
    let other = move || {
        problems.with(|all| {
            all.iter()
                .filter(|(key, _)| !fields(kind).iter().any(|f| f.owns(key)))
                .map(
                    |(key, message)| {
                        if key.is_empty() { message.clone() } else { format!("{key} {message}") }
                    },
                )
                .collect::<Vec<_>>()
        })
    };

    let secret = move || {
        shown_once.get().map(|(new_id, secret)| {
            view! {
                <super::forms::ShownOnce
                    id="new-secret"
                    label="The signing secret"
                    heading="Copy this signing secret now."
                    note="Receivers verify Bidline-Signature with it; it is shown only once."
                    value=secret
                />
                <p>
                    <a class="button" id="open-created" href=object_path(kind, &new_id)>
                        "Open the " {kind.singular()}
                    </a>
                </p>
            }
        })
    };
    view! {
        {secret}
        <form class="object-form stack" id="object-form" on:submit=submit hidden=move || shown_once.with(Option::is_some)>
            <fieldset disabled=!edits>
                {fields(kind)
                    .iter()
                    .map(|field| view! { <FormField field=*field texts problems /> })
                    .collect_view()}
                {(kind == Kind::Target).then(|| view! { <RtbPresets texts /> })}
            </fieldset>
            <TimeZones />
            <ul class="form-error" role="alert" id="form-problems" tabindex="-1">
                {move || other().into_iter().map(|message| view! { <li>{message}</li> }).collect_view()}
            </ul>
            {edits
                .then(|| {
                    view! {
                        <div class="actions">
                            <button type="submit" id="save" disabled=move || save.pending().get()>
                                {if creating { "Create" } else { "Save" }}
                            </button>
                            <span class="success" role="status">
                                {move || saved.get().then_some("Saved.")}
                            </span>
                        </div>
                    }
                })}
        </form>
    }
}

/// Buttons that fill an RTB target's answer fields in a known buyer format.
#[component]
fn RtbPresets(texts: RwSignal<BTreeMap<&'static str, String>>) -> impl IntoView {
    let rtb = move || texts.with(|t| t.get("revenue.kind").is_some_and(|kind| kind == "rtb"));
    view! {
        <div class="presets" hidden=move || !rtb()>
            <span>"Fill the answer fields for a buyer speaking:"</span>
            {RTB_PRESETS
                .iter()
                .map(|Preset { id, name, texts: values }| {
                    let fill = move |_| {
                        texts.update(|t| {
                            for (key, value) in values.iter() {
                                t.insert(key, (*value).to_owned());
                            }
                        })
                    };
                    view! {
                        <button type="button" class="secondary" id=format!("preset-{id}") on:click=fill>
                            {*name}
                        </button>
                    }
                })
                .collect_view()}
        </div>
    }
}

/// Moves focus to the first field in error, or to the form's own problems, once the
/// page shows them: after a failed submit a keyboard or screen reader user lands there.
fn focus_first_problem() {
    #[cfg(feature = "hydrate")]
    request_animation_frame(|| {
        use wasm_bindgen::JsCast;
        let first = document()
            .query_selector("#object-form [aria-invalid='true'], #form-problems:not(:empty)")
            .ok()
            .flatten()
            .and_then(|element| element.dyn_into::<web_sys::HtmlElement>().ok());
        if let Some(element) = first {
            let _ = element.focus();
        }
    });
}

/// One labelled input of an object form, its error beneath it.
#[component]
fn FormField(
    field: Field,
    texts: RwSignal<BTreeMap<&'static str, String>>,
    problems: RwSignal<BTreeMap<String, String>>,
) -> impl IntoView {
    let id = format!("field-{}", field.key.replace('.', "-"));
    let error_id = format!("{id}-error");
    let value = move || texts.with(|t| t.get(field.key).cloned().unwrap_or_default());
    let set = move |text: String| {
        texts.update(|t| {
            t.insert(field.key, text);
        })
    };
    let message = move || {
        problems.with(|all| {
            all.iter()
                .filter(|(key, _)| field.owns(key))
                .map(|(key, message)| match key.strip_prefix(field.key) {
                    Some("") => message.clone(),
                    Some(rest) => format!("{}: {message}", rest.trim_start_matches('.')),
                    None => message.clone(),
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
    };
    let invalid = move || if message().is_empty() { "false" } else { "true" };
    let hint_id = format!("{id}-hint");
    // Screen readers read the hint and the error with the field.
    let described =
        if field.hint.is_empty() { error_id.clone() } else { format!("{hint_id} {error_id}") };
    // Ticked choices are a group named by the field's label; any other input is labelled.
    let heading = match field.input {
        Input::Choices(_) => {
            view! { <span class="label" id=format!("{id}-label")>{field.label}</span> }.into_any()
        }
        _ => view! { <label for=id.clone()>{field.label}</label> }.into_any(),
    };
    // Few shapes of control, each compiled once: every list of options is one `<select>`
    // (a fixed list, or the objects a reference may name), every one-line input one
    // `<input>` (a checkbox included).
    let control = match field.input {
        Input::Select(_) | Input::Reference(_) => {
            let objects = match field.input {
                Input::Reference(kind) => Some((kind, objects_of(kind))),
                _ => None,
            };
            let options = move || -> Vec<(String, String)> {
                match (field.input, objects) {
                    (Input::Select(options), _) => options
                        .iter()
                        .map(|(option, text)| ((*option).to_owned(), (*text).to_owned()))
                        .collect(),
                    (_, Some((kind, objects))) => {
                        let none = if field.nullable { "— none —" } else { "— choose —" };
                        std::iter::once((String::new(), none.to_owned()))
                            .chain(objects.with(|all| {
                                all.iter()
                                    .filter(|object| field.offers(object))
                                    .map(|object| {
                                        let id = object["id"].as_str().unwrap_or_default();
                                        (id.to_owned(), label(kind, object))
                                    })
                                    .collect::<Vec<_>>()
                            }))
                            .collect()
                    }
                    _ => Vec::new(),
                }
            };
            view! {
                <select
                    id=id.clone()
                    aria-invalid=invalid
                    aria-describedby=described
                    prop:value=value
                    on:change=move |event| set(event_target_value(&event))
                >
                    {move || {
                        options()
                            .into_iter()
                            .map(|(option, text)| {
                                let chosen = option.clone();
                                view! { <option value=option selected=move || value() == chosen>{text}</option> }
                            })
                            .collect_view()
                    }}
                </select>
            }
            .into_any()
        }
        Input::Choices(options) => {
            let described = described.clone();
            view! {
                <div class="choices" id=id.clone() role="group" aria-labelledby=format!("{id}-label")>
                    {options
                        .iter()
                        .map(|(option, text)| {
                            let ticked = move || value().lines().any(|line| line.trim() == *option);
                            let tick = move |event| {
                                let on = event_target_checked(&event);
                                texts.update(|t| {
                                    let mut chosen: Vec<String> = t
                                        .get(field.key)
                                        .map(|text| {
                                            text.lines()
                                                .map(str::trim)
                                                .filter(|line| !line.is_empty() && line != option)
                                                .map(str::to_owned)
                                                .collect()
                                        })
                                        .unwrap_or_default();
                                    if on {
                                        chosen.push((*option).to_owned());
                                    }
                                    t.insert(field.key, chosen.join("\n"));
                                })
                            };
                            view! {
                                <label class="check">
                                    <input
                                        type="checkbox"
                                        id=format!("{id}-{}", option.replace('.', "-"))
                                        aria-invalid=invalid
                                        aria-describedby=described.clone()
                                        prop:checked=ticked
                                        on:change=tick
                                    />
                                    {*text}
                                </label>
                            }
                        })
                        .collect_view()}
                </div>
            }
            .into_any()
        }
        Input::LongText | Input::Lines | Input::Weekly | Input::Conditions | Input::Headers => {
            view! {
                <textarea
                    id=id.clone()
                    rows="4"
                    aria-invalid=invalid
                    aria-describedby=described
                    prop:value=value
                    on:input=move |event| set(event_target_value(&event))
                ></textarea>
            }
            .into_any()
        }
        Input::Checkbox
        | Input::Text
        | Input::TimeZone
        | Input::Int
        | Input::Decimal
        | Input::Money
        | Input::Secret => {
            let checkbox = field.input == Input::Checkbox;
            let kind = match field.input {
                Input::Checkbox => "checkbox",
                Input::Secret => "password",
                _ => "text",
            };
            let mode = match field.input {
                Input::Int => Some("numeric"),
                Input::Decimal | Input::Money => Some("decimal"),
                Input::Checkbox => None,
                _ => Some("text"),
            };
            view! {
                <input
                    id=id.clone()
                    type=kind
                    inputmode=mode
                    aria-invalid=invalid
                    aria-describedby=described
                    list=(field.input == Input::TimeZone).then_some(TIME_ZONES)
                    autocomplete=(!checkbox).then_some("off")
                    prop:checked=move || checkbox && value() == "true"
                    prop:value=move || if checkbox { String::new() } else { value() }
                    on:input=move |event| {
                        set(
                            if checkbox {
                                event_target_checked(&event).to_string()
                            } else {
                                event_target_value(&event)
                            },
                        )
                    }
                />
            }
            .into_any()
        }
    };
    view! {
        <div class="field" hidden=move || !texts.with(|t| shown(&field, t))>
            {heading}
            {control}
            {(!field.hint.is_empty()).then(|| view! { <p class="hint" id=hint_id>{field.hint}</p> })}
            <p class="field-error" id=error_id role="alert">{message}</p>
        </div>
    }
}

#[component]
fn DeleteObject(kind: Kind, id: String) -> impl IntoView {
    let navigate = use_navigate();
    let confirming = RwSignal::new(false);
    let delete = Action::new(move |id: &String| delete_object(kind, id.clone()));
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            navigate(&format!("/app/{}", kind.plural()), Default::default());
        }
    });
    let error = move || delete.value().get().and_then(Result::err).map(|e| e.to_string());
    view! {
        <section class="panel danger-zone" aria-labelledby="delete-heading">
            <h2 id="delete-heading">"Delete this " {kind.singular()}</h2>
            <Show
                when=move || confirming.get()
                fallback=move || view! { <button class="secondary" id="delete" on:click=move |_| confirming.set(true)>"Delete…"</button> }
            >
                {
                    let id = id.clone();
                    view! {
                        <button class="danger" id="confirm-delete" on:click=move |_| { delete.dispatch(id.clone()); }>
                            "Confirm delete"
                        </button>
                        <button class="secondary" on:click=move |_| confirming.set(false)>"Keep"</button>
                    }
                }
            </Show>
            <p class="form-error" role="alert" id="delete-error">{error}</p>
        </section>
    }
}
