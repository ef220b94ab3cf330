//! Pieces of the dashboard's forms: labelled fields with their errors, and the
//! message of a failed action.

use leptos::prelude::*;

use crate::{errors::AppError, roles::Role};

/// A labelled input whose error (from the action's last answer) shows beneath it and
/// is announced by screen readers.
#[component]
pub fn Field(
    /// The input's `name`, which is also the server function's argument.
    name: &'static str,
    label: &'static str,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] autocomplete: &'static str,
    #[prop(optional)] hint: &'static str,
    /// The id of a `<datalist>` of suggestions (e.g. [`TIME_ZONES`]).
    #[prop(optional)]
    list: Option<&'static str>,
    #[prop(into)] error: Signal<Option<AppError>>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let error_id = format!("{id}-error");
    let message = move || error.get().and_then(|error| error.field_message(name));
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input
                id=id
                name=name
                type=kind
                required=true
                autocomplete=autocomplete
                list=list
                aria-invalid=move || if message().is_some() { "true" } else { "false" }
                aria-describedby=error_id.clone()
            />
            {(!hint.is_empty()).then(|| view! { <p class="hint">{hint}</p> })}
            <p class="field-error" id=error_id role="alert">
                {message}
            </p>
        </div>
    }
}

/// The id of the [`TimeZones`] list, for an input's `list`.
pub const TIME_ZONES: &str = "time-zones";

/// Every IANA time zone the browser knows, as suggestions for inputs whose `list` is
/// [`TIME_ZONES`]: typing `chicago` offers America/Chicago. Filled in the browser (from
/// `Intl`), so the list costs the page nothing; the server checks what is sent.
#[component]
pub fn TimeZones() -> impl IntoView {
    let zones = RwSignal::new(Vec::<String>::new());
    Effect::new(move |_| zones.set(browser_time_zones()));
    view! {
        <datalist id=TIME_ZONES>
            {move || zones.get().into_iter().map(|zone| view! { <option value=zone></option> }).collect_view()}
        </datalist>
    }
}

#[cfg(feature = "hydrate")]
fn browser_time_zones() -> Vec<String> {
    use wasm_bindgen::JsCast;
    use web_sys::js_sys::{Array, Function, Reflect, global};
    let listed = || -> Option<Array> {
        let intl = Reflect::get(&global(), &"Intl".into()).ok()?;
        let list: Function =
            Reflect::get(&intl, &"supportedValuesOf".into()).ok()?.dyn_into().ok()?;
        list.call1(&intl, &"timeZone".into()).ok()?.dyn_into().ok()
    };
    let mut zones: Vec<String> = listed()
        .map(|zones| zones.iter().filter_map(|zone| zone.as_string()).collect())
        .unwrap_or_default();
    if !zones.iter().any(|zone| zone == "UTC") {
        zones.insert(0, "UTC".to_owned());
    }
    zones
}

#[cfg(not(feature = "hydrate"))]
fn browser_time_zones() -> Vec<String> {
    Vec::new()
}

/// The message of an action's error, unless it belongs to one field (shown there).
#[component]
pub fn FormError(#[prop(into)] error: Signal<Option<AppError>>) -> impl IntoView {
    let message = move || match error.get() {
        Some(AppError::Invalid(fields)) if !fields.is_empty() => None,
        Some(error) => Some(error.to_string()),
        None => None,
    };
    view! {
        <p class="form-error" role="alert">
            {message}
        </p>
    }
}

/// The error of an action's latest answer, as a signal.
pub fn last_error<T: Send + Sync + 'static>(
    value: MappedSignal<Option<Result<T, AppError>>>,
) -> Signal<Option<AppError>> {
    Signal::derive(move || {
        value.with(|answer| answer.as_ref().and_then(|r| r.as_ref().err().cloned()))
    })
}

/// What a section shows while its data loads.
pub fn loading() -> impl IntoView {
    view! { <p class="loading">"Loading…"</p> }
}

/// What a section shows when its data could not be had.
pub fn failure(error: &AppError) -> AnyView {
    view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any()
}

/// A secret shown once (a new API key, an invite link), ready to copy.
#[component]
pub fn ShownOnce(
    id: &'static str,
    label: &'static str,
    /// What the reader must do, e.g. "Copy this key now."
    heading: &'static str,
    note: &'static str,
    value: String,
) -> impl IntoView {
    view! {
        <div class="secret" role="status">
            <p>
                <strong>{heading}</strong>
                " "
                {note}
            </p>
            <input id=id readonly=true aria-label=label value=value />
        </div>
    }
}

/// A choice among `roles`, as a form field named `name`.
#[component]
pub fn RoleSelect(
    id: &'static str,
    name: &'static str,
    roles: Vec<Role>,
    selected: Role,
) -> impl IntoView {
    view! {
        <select id=id name=name>
            {roles
                .into_iter()
                .map(|role| {
                    view! {
                        <option value=role.as_str() selected=role == selected>
                            {role.as_str()}
                        </option>
                    }
                })
                .collect_view()}
        </select>
    }
}
