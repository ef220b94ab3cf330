//! Calls: the live calls (pushed by the server as they ring, connect and end) and the
//! call log, with its filters in the URL, its totals, and calls entering it as they end.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    hooks::{use_navigate, use_query_map},
    params::ParamsMap,
};

use super::{
    api_keys::day,
    forms::{failure, loading},
    network::objects_of,
};
use crate::{
    calls::{
        CALLS_CSV_PATH, CallFilter, CallLogTotals, CallSummary, LIVE_STATUSES, call_totals,
        campaign_today, dollars, list_calls, live_calls,
    },
    network::Kind,
    reports::count,
};

/// How many calls the live view shows at most.
const LIVE_SHOWN: usize = 20;

fn call_path(id: &str) -> String {
    format!("/app/calls/{id}")
}

/// `0:17`, `12:05`, `1:02:03`.
pub(super) fn talk(seconds: Option<i64>) -> String {
    seconds
        .map(|s| match s / 3600 {
            0 => format!("{}:{:02}", s / 60, s % 60),
            hours => format!("{hours}:{:02}:{:02}", s % 3600 / 60, s % 60),
        })
        .unwrap_or_default()
}

#[component]
pub fn Calls() -> impl IntoView {
    view! {
        <Title text="Calls · Bidline" />
        <h1>"Calls"</h1>
        <section class="panel" aria-labelledby="live-title">
            <h2 id="live-title">"Live"</h2>
            <LiveCalls />
        </section>
        <section aria-labelledby="log-title">
            <h2 id="log-title">"Call log"</h2>
            <CallLog />
        </section>
    }
}

/// A call's new state in the live list: replaced where it is, added at the top, or
/// taken out once it has ended (the call log takes it in).
fn follow(calls: &mut Vec<CallSummary>, call: CallSummary) {
    let live = LIVE_STATUSES.contains(&call.status.as_str());
    match calls.iter().position(|c| c.id == call.id) {
        Some(at) if live => calls[at] = call,
        Some(at) => {
            calls.remove(at);
        }
        None if live => calls.insert(0, call),
        None => {}
    }
    calls.truncate(LIVE_SHOWN);
}

/// Calls fresh from the server into the log's rows: known ones replaced where they are,
/// new ones placed newest first (ids are ordered by time).
fn merge(rows: &mut Vec<CallSummary>, fresh: Vec<CallSummary>) {
    for call in fresh {
        match rows.iter().position(|row| row.id <= call.id) {
            Some(at) if rows[at].id == call.id => rows[at] = call,
            Some(at) => rows.insert(at, call),
            None => rows.push(call),
        }
    }
}

#[component]
fn LiveCalls() -> impl IntoView {
    let calls = RwSignal::new(Vec::<CallSummary>::new());
    let first = Resource::new(|| (), |_| live_calls());
    // The stream starts once the page is live in the browser.
    Effect::new(move |_| follow_live_calls(move |call| calls.update(|calls| follow(calls, call))));
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match first.await {
                    Ok(now) => {
                        calls.update(|calls| {
                            for call in now.into_iter().rev() {
                                follow(calls, call);
                            }
                        });
                        view! {
                            <div class="table-scroll" tabindex="0">
                                <table class="data" id="live-calls">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Started"</th>
                                            <th scope="col">"Caller"</th>
                                            <th scope="col">"Campaign"</th>
                                            <th scope="col">"Target"</th>
                                            <th scope="col">"Status"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        <For
                                            each=move || calls.get()
                                            key=|call| (call.id.clone(), call.status.clone())
                                            children=|call| {
                                                view! {
                                                    <tr data-call=call.id.clone() data-status=call.status.clone()>
                                                        <td class="when">
                                                            <a href=call_path(&call.id)>{day(&call.started_at)}</a>
                                                        </td>
                                                        <td>{call.caller.unwrap_or_else(|| "withheld".into())}</td>
                                                        <td>{call.campaign}</td>
                                                        <td>{call.target.unwrap_or_default()}</td>
                                                        <td>
                                                            <span class=format!("status {}", call.status)>{call.status.clone()}</span>
                                                        </td>
                                                    </tr>
                                                }
                                            }
                                        />
                                    </tbody>
                                </table>
                            </div>
                            <Show when=move || calls.with(Vec::is_empty)>
                                <p class="empty">"No calls right now. They appear here as they ring."</p>
                            </Show>
                        }
                            .into_any()
                    }
                    Err(error) => failure(&error),
                }
            })}
        </Suspense>
    }
}

/// How long a page of figures waits after a call changes before it reads them again, so
/// a burst of calls costs one read.
const SETTLE_MS: u64 = 300;

/// Bumps `changed` shortly after calls ring, connect or end (once for a burst), for pages
/// whose figures count calls and read them again when it moves.
pub fn bump_on_call_changes(changed: RwSignal<u64>) {
    let pending = StoredValue::new(false);
    follow_live_calls(move |_| {
        if pending.get_value() {
            return;
        }
        pending.set_value(true);
        set_timeout(
            move || {
                pending.set_value(false);
                changed.update(|n| *n += 1);
            },
            std::time::Duration::from_millis(SETTLE_MS),
        );
    });
}

/// Hands every change the server's live-call stream reports to `on_call`; the stream
/// closes when the page goes.
#[cfg(feature = "hydrate")]
pub fn follow_live_calls(on_call: impl Fn(CallSummary) + 'static) {
    use leptos::__reexports::send_wrapper::SendWrapper;
    use wasm_bindgen::{JsCast, closure::Closure};
    use web_sys::{EventSource, MessageEvent};

    let Ok(source) = EventSource::new(crate::calls::LIVE_PATH) else { return };
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
        let call = event.data().as_string().and_then(|text| serde_json::from_str(&text).ok());
        if let Some(call) = call {
            on_call(call);
        }
    });
    source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    let held = SendWrapper::new((source, on_message));
    on_cleanup(move || held.0.close());
}

#[cfg(not(feature = "hydrate"))]
pub fn follow_live_calls(_: impl Fn(CallSummary) + 'static) {}

pub(crate) fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// A select of every object of `kind`, filled in the browser.
#[component]
pub fn Choose(kind: Kind, id: &'static str, value: RwSignal<String>) -> impl IntoView {
    let choices = objects_of(kind);
    view! {
        <label for=id>{capitalized(kind.singular())}</label>
        <select id=id prop:value=move || value.get() on:change=move |e| value.set(event_target_value(&e))>
            <option value="">"any"</option>
            {move || {
                choices
                    .get()
                    .into_iter()
                    .map(|object| {
                        let option = object["id"].as_str().unwrap_or_default().to_owned();
                        let text = object[kind.label_field()].as_str().unwrap_or_default().to_owned();
                        view! { <option value=option>{text}</option> }
                    })
                    .collect_view()
            }}
        </select>
    }
}

/// The call log's filters in the order of their fields, by their names in the URL.
const FILTERS: [&str; 10] = [
    "from",
    "to",
    "campaign_id",
    "publisher_id",
    "buyer_id",
    "target_id",
    "status",
    "converted",
    "duplicate",
    "caller",
];

fn filter_from(values: [String; 10]) -> CallFilter {
    let [
        from,
        to,
        campaign_id,
        publisher_id,
        buyer_id,
        target_id,
        status,
        converted,
        duplicate,
        caller,
    ] = values;
    CallFilter {
        from,
        to,
        campaign_id,
        publisher_id,
        buyer_id,
        target_id,
        status,
        converted,
        duplicate,
        caller,
    }
}

fn values_of(filter: CallFilter) -> [String; 10] {
    let CallFilter {
        from,
        to,
        campaign_id,
        publisher_id,
        buyer_id,
        target_id,
        status,
        converted,
        duplicate,
        caller,
    } = filter;
    [from, to, campaign_id, publisher_id, buyer_id, target_id, status, converted, duplicate, caller]
}

fn filter_of(query: &ParamsMap) -> CallFilter {
    filter_from(FILTERS.map(|name| query.get(name).unwrap_or_default()))
}

/// `?status=completed&caller=…`, or nothing when no filter is set.
fn query_of(filter: CallFilter) -> String {
    let mut params = ParamsMap::new();
    for (name, value) in FILTERS.into_iter().zip(values_of(filter)) {
        if !value.is_empty() {
            params.insert(name, value);
        }
    }
    params.to_query_string()
}

#[component]
fn CallLog() -> impl IntoView {
    // The filters live in the URL: a report's row or an Overview list links to the log
    // narrowed to it, and a filtered log can be bookmarked, shared, and gone back to.
    let query = use_query_map();
    let filter = Memo::new(move |_| query.with(filter_of));
    let fields: [RwSignal<String>; 10] = values_of(filter.get_untracked()).map(RwSignal::new);
    Effect::new(move |_| {
        for (field, value) in fields.iter().zip(values_of(filter.get())) {
            field.set(value);
        }
    });
    let [from, to, campaign, publisher, buyer, target, status, converted, duplicate, caller] =
        fields;
    let navigate = use_navigate();
    let apply = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        let current = filter_from(fields.map(|field| field.get_untracked()));
        navigate(&format!("/app/calls{}", query_of(current)), Default::default());
    };
    let rows = RwSignal::new(Vec::<CallSummary>::new());
    let cursor = RwSignal::new(None::<String>);
    let page = Resource::new(move || filter.get(), |filter| list_calls(filter, None));
    let more = Action::new(move |cursor: &Option<String>| {
        list_calls(filter.get_untracked(), cursor.clone())
    });
    Effect::new(move |_| {
        if let Some(Ok(next)) = more.value().get() {
            rows.update(|rows| rows.extend(next.items));
            cursor.set(next.next_cursor);
        }
    });
    // Calls that ring, connect and end enter the log (and its totals) as they change.
    let changed = RwSignal::new(0u64);
    bump_on_call_changes(changed);
    let fresh = Action::new(move |_: &()| list_calls(filter.get_untracked(), None));
    Effect::new(move |_| {
        if changed.get() > 0 {
            fresh.dispatch(());
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(page)) = fresh.value().get() {
            rows.update(|rows| merge(rows, page.items));
        }
    });
    let totals = RwSignal::new(None::<CallLogTotals>);
    Effect::new(move |_| {
        let (filter, _) = (filter.get(), changed.get());
        leptos::task::spawn_local(async move {
            totals.set(call_totals(filter).await.ok());
        });
    });
    let csv = move || format!("{CALLS_CSV_PATH}{}", query_of(filter.get()));
    let text = |id: &'static str,
                label: &'static str,
                kind: &'static str,
                value: RwSignal<String>| {
        view! {
            <div class="control">
                <label for=id>{label}</label>
                <input id=id type=kind prop:value=move || value.get() on:input=move |e| value.set(event_target_value(&e)) />
            </div>
        }
    };
    let pick = |id: &'static str,
                label: &'static str,
                options: &'static [&'static str],
                value: RwSignal<String>| {
        view! {
            <div class="control">
                <label for=id>{label}</label>
                <select id=id prop:value=move || value.get() on:change=move |e| value.set(event_target_value(&e))>
                    <option value="">"any"</option>
                    {options.iter().map(|o| view! { <option value=*o>{*o}</option> }).collect_view()}
                </select>
            </div>
        }
    };
    view! {
        <form class="filters" id="call-filters" on:submit=apply>
            {text("filter-from", "From", "date", from)}
            {text("filter-to", "To", "date", to)}
            <div class="control"><Choose kind=Kind::Campaign id="filter-campaign" value=campaign /></div>
            <div class="control"><Choose kind=Kind::Publisher id="filter-publisher" value=publisher /></div>
            <div class="control"><Choose kind=Kind::Buyer id="filter-buyer" value=buyer /></div>
            <div class="control"><Choose kind=Kind::Target id="filter-target" value=target /></div>
            {pick(
                "filter-status",
                "Status",
                &["ringing", "connected", "completed", "failed", "rejected", "abandoned", "interrupted"],
                status,
            )}
            {pick("filter-converted", "Converted", &["yes", "no"], converted)}
            {pick("filter-duplicate", "Duplicate", &["yes", "no"], duplicate)}
            {text("filter-caller", "Caller", "text", caller)}
            <button type="submit">"Filter"</button>
        </form>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(first) => {
                        rows.set(first.items);
                        cursor.set(first.next_cursor);
                        view! {
                            <p class="hint" id="call-log-zone">
                                "Dates are read in " {first.time_zone} " (Settings). "
                                <a href=csv id="call-log-csv" download="calls.csv">"Download CSV"</a>
                            </p>
                            <div class="table-scroll" tabindex="0">
                                <table class="data" id="call-log">
                                    <thead>
                                        <tr>
                                            <th scope="col">"Started"</th>
                                            <th scope="col">"Caller"</th>
                                            <th scope="col">"Campaign"</th>
                                            <th scope="col">"Publisher"</th>
                                            <th scope="col">"Buyer / target"</th>
                                            <th scope="col">"Status"</th>
                                            <th scope="col">"Talk"</th>
                                            <th scope="col">"Revenue"</th>
                                            <th scope="col">"Payout"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        <For
                                            each=move || rows.get()
                                            key=|call| {
                                                (call.id.clone(), call.status.clone(), call.converted, call.revenue_cents, call.payout_cents)
                                            }
                                            children=|call| {
                                                let flags = [(call.converted, "converted"), (call.duplicate, "duplicate")]
                                                    .into_iter()
                                                    .filter_map(|(on, name)| on.then_some(name))
                                                    .collect::<Vec<_>>()
                                                    .join(" ");
                                                view! {
                                                    <tr data-call=call.id.clone()>
                                                        <td class="when">
                                                            <a href=call_path(&call.id)>{day(&call.started_at)}</a>
                                                        </td>
                                                        <td>{call.caller.unwrap_or_else(|| "withheld".into())}</td>
                                                        <td>{call.campaign}</td>
                                                        <td>{call.publisher.unwrap_or_default()}</td>
                                                        <td>
                                                            {call.buyer.unwrap_or_default()}
                                                            {call.target.map(|t| format!(" / {t}"))}
                                                        </td>
                                                        <td>
                                                            <span class=format!("status {}", call.status)>{call.status.clone()}</span>
                                                            " "
                                                            <small>{flags}</small>
                                                        </td>
                                                        <td>{talk(call.talk_seconds)}</td>
                                                        <td class="money">{dollars(call.revenue_cents)}</td>
                                                        <td class="money">{dollars(call.payout_cents)}</td>
                                                    </tr>
                                                }
                                            }
                                        />
                                    </tbody>
                                    <tfoot id="call-log-totals">
                                        {move || {
                                            totals
                                                .get()
                                                .map(|t| {
                                                    let calls = if t.calls == 1 { "1 call".to_owned() } else { format!("{} calls", count(t.calls)) };
                                                    view! {
                                                        <tr>
                                                            <th scope="row" colspan="6">{calls} " in all"</th>
                                                            <td>{talk(Some(t.talk_seconds))}</td>
                                                            <td class="money">{dollars(t.revenue_cents)}</td>
                                                            <td class="money">{dollars(t.payout_cents)}</td>
                                                        </tr>
                                                    }
                                                })
                                        }}
                                    </tfoot>
                                </table>
                            </div>
                            <Show when=move || rows.with(Vec::is_empty)>
                                <p class="empty">
                                    "No calls match. Calls appear here as they ring; a tracking number (Numbers) on a campaign with a ring tree receives them."
                                </p>
                            </Show>
                            <Show when=move || cursor.get().is_some()>
                                <button class="secondary" on:click=move |_| { more.dispatch(cursor.get()); }>
                                    "Older"
                                </button>
                            </Show>
                        }
                            .into_any()
                    }
                    Err(error) => failure(&error),
                }
            })}
        </Suspense>
    }
}

/// One figure as a tile: its label above, the value large.
#[component]
fn Tile(label: &'static str, id: &'static str, value: String) -> impl IntoView {
    view! {
        <div class="tile">
            <span class="tile-label">{label}</span>
            <span class="tile-value" id=id>{value}</span>
        </div>
    }
}

/// A campaign's calls today, on the campaign's page. Fetched once the page is live in
/// the browser (the page around it is itself loaded in a suspense, where a second
/// resource would have to hydrate in step with it).
#[component]
pub fn CampaignToday(campaign_id: String) -> impl IntoView {
    let today = RwSignal::new(None);
    Effect::new(move |_| {
        let campaign_id = campaign_id.clone();
        leptos::task::spawn_local(async move {
            today.set(Some(campaign_today(campaign_id).await));
        });
    });
    view! {
        <section class="panel" aria-labelledby="today-title">
            <h2 id="today-title">"Today"</h2>
            {move || match today.get() {
                None => loading().into_any(),
                Some(Ok(t)) => view! {
                    <div class="tiles" id="campaign-today">
                        <Tile label="Calls" id="today-calls" value=t.calls.to_string() />
                        <Tile label="Connected" id="today-connected" value=t.connected.to_string() />
                        <Tile label="Converted" id="today-converted" value=t.converted.to_string() />
                        <Tile label="Revenue" id="today-revenue" value=dollars(t.revenue_cents) />
                        <Tile label="Payout" id="today-payout" value=dollars(t.payout_cents) />
                    </div>
                    <p class="hint">"Since midnight, " {t.time_zone} "."</p>
                }
                .into_any(),
                Some(Err(error)) => failure(&error),
            }}
        </section>
    }
}
