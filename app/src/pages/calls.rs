//! Calls: the live calls (pushed by the server as they ring, connect and end), the call
//! log with its filters, and one call's page with its timeline, auction and money.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    hooks::{use_params_map, use_query_map},
    params::ParamsMap,
};

use super::{
    api_keys::day,
    forms::{failure, loading},
    network::objects_of,
};
use crate::{
    calls::{
        CALLS_CSV_PATH, CallFilter, CallSummary, call_detail, campaign_today, dollars, list_calls,
        live_calls,
    },
    network::Kind,
};

/// How many calls the live view keeps, ended ones included.
const LIVE_SHOWN: usize = 20;

fn call_path(id: &str) -> String {
    format!("/app/calls/{id}")
}

fn talk(seconds: Option<i64>) -> String {
    seconds.map(|s| format!("{}:{:02}", s / 60, s % 60)).unwrap_or_default()
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

/// A call's new state in the live list: replaced where it is, or added at the top.
fn upsert(calls: &mut Vec<CallSummary>, call: CallSummary) {
    match calls.iter_mut().find(|c| c.id == call.id) {
        Some(known) => *known = call,
        None => calls.insert(0, call),
    }
    calls.truncate(LIVE_SHOWN);
}

#[component]
fn LiveCalls() -> impl IntoView {
    let calls = RwSignal::new(Vec::<CallSummary>::new());
    let first = Resource::new(|| (), |_| live_calls());
    // The stream starts once the page is live in the browser.
    Effect::new(move |_| follow_live_calls(move |call| calls.update(|calls| upsert(calls, call))));
    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match first.await {
                    Ok(now) => {
                        calls.update(|calls| {
                            for call in now.into_iter().rev() {
                                upsert(calls, call);
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

fn capitalized(text: &str) -> String {
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

#[component]
fn CallLog() -> impl IntoView {
    // The filters start as the URL gives them (a report's row or an Overview list links
    // to the log narrowed to it).
    let query = use_query_map();
    let names = [
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
    let fields: [RwSignal<String>; 10] = std::array::from_fn(|i| {
        RwSignal::new(query.with_untracked(|q| q.get(names[i]).unwrap_or_default()))
    });
    let [from, to, campaign, publisher, buyer, target, status, converted, duplicate, caller] =
        fields;
    let current = move || CallFilter {
        from: from.get_untracked(),
        to: to.get_untracked(),
        campaign_id: campaign.get_untracked(),
        publisher_id: publisher.get_untracked(),
        buyer_id: buyer.get_untracked(),
        target_id: target.get_untracked(),
        status: status.get_untracked(),
        converted: converted.get_untracked(),
        duplicate: duplicate.get_untracked(),
        caller: caller.get_untracked(),
    };
    let filter = RwSignal::new(current());
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
    let apply = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        filter.set(current());
    };
    let csv = move || {
        let filter = filter.get();
        let mut params = ParamsMap::new();
        for (name, value) in [
            ("from", filter.from),
            ("to", filter.to),
            ("campaign_id", filter.campaign_id),
            ("publisher_id", filter.publisher_id),
            ("buyer_id", filter.buyer_id),
            ("target_id", filter.target_id),
            ("status", filter.status),
            ("converted", filter.converted),
            ("duplicate", filter.duplicate),
            ("caller", filter.caller),
        ] {
            if !value.is_empty() {
                params.insert(name, value);
            }
        }
        format!("{CALLS_CSV_PATH}{}", params.to_query_string())
    };
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
                                            key=|call| call.id.clone()
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
                                </table>
                            </div>
                            <Show when=move || rows.with(Vec::is_empty)>
                                <p class="empty">"No calls match."</p>
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
                    <dl class="facts" id="campaign-today">
                        <dt>"Calls"</dt><dd id="today-calls">{t.calls}</dd>
                        <dt>"Connected"</dt><dd id="today-connected">{t.connected}</dd>
                        <dt>"Converted"</dt><dd id="today-converted">{t.converted}</dd>
                        <dt>"Revenue"</dt><dd id="today-revenue">{dollars(t.revenue_cents)}</dd>
                        <dt>"Payout"</dt><dd id="today-payout">{dollars(t.payout_cents)}</dd>
                    </dl>
                    <p class="hint">"Since midnight, " {t.time_zone} "."</p>
                }
                .into_any(),
                Some(Err(error)) => failure(&error),
            }}
        </section>
    }
}

#[component]
pub fn CallDetail() -> impl IntoView {
    let params = use_params_map();
    let detail = Resource::new(move || params.read().get("id").unwrap_or_default(), call_detail);
    view! {
        <Title text="Call · Bidline" />
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => {
                        let call = d.call.clone();
                        view! {
                            <h1>{call.caller.clone().unwrap_or_else(|| "Withheld caller".into())} " → " {call.dialed.clone()}</h1>
                            <p class="lede">
                                <span class=format!("status {}", call.status) id="call-status">{call.status.clone()}</span>
                                " · " {call.campaign.clone()} " · started " {day(&call.started_at)}
                                {d.end_reason.clone().map(|r| format!(" · {r}"))}
                            </p>
                            <section class="panel" aria-labelledby="money-title">
                                <h2 id="money-title">"Money"</h2>
                                <dl class="facts" id="call-money">
                                    <dt>"Buyer / target"</dt>
                                    <dd>{call.buyer.clone().unwrap_or_else(|| "—".into())} " / " {call.target.clone().unwrap_or_else(|| "—".into())}</dd>
                                    <dt>"Publisher"</dt>
                                    <dd>{call.publisher.clone().unwrap_or_else(|| "—".into())}</dd>
                                    <dt>"Ring / talk"</dt>
                                    <dd>{talk(d.ring_seconds)} " / " {talk(call.talk_seconds)}</dd>
                                    <dt>"Winning bid"</dt>
                                    <dd>{d.bid_cents.map(dollars).unwrap_or_else(|| "—".into())} {d.buffer_seconds.map(|s| format!(" after {s} s"))}</dd>
                                    <dt>"Converted"</dt>
                                    <dd>{if call.converted { "yes" } else { "no" }} {call.duplicate.then_some(" (duplicate)")}</dd>
                                    <dt>"Revenue"</dt>
                                    <dd id="call-revenue">{dollars(call.revenue_cents)}</dd>
                                    <dt>"Payout"</dt>
                                    <dd>{dollars(call.payout_cents)}</dd>
                                    <dt>"Profit"</dt>
                                    <dd>{dollars(d.profit_cents)}</dd>
                                </dl>
                            </section>
                            <section aria-labelledby="auction-title">
                                <h2 id="auction-title">"Auction"</h2>
                                <div class="table-scroll" tabindex="0">
                                    <table class="data" id="auction">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Target"</th>
                                                <th scope="col">"Buyer"</th>
                                                <th scope="col">"Outcome"</th>
                                                <th scope="col">"Bid"</th>
                                                <th scope="col">"Ping"</th>
                                                <th scope="col">"Rung"</th>
                                                <th scope="col">"Why"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {d.auction
                                                .into_iter()
                                                .map(|line| {
                                                    let ping = if line.pinged {
                                                        format!(
                                                            "{} ms{}",
                                                            line.latency_ms.map(|ms| ms.to_string()).unwrap_or_else(|| "—".into()),
                                                            line.http_status.map(|s| format!(", HTTP {s}")).unwrap_or_default(),
                                                        )
                                                    } else {
                                                        "not pinged".into()
                                                    };
                                                    view! {
                                                        <tr class:won=line.won data-outcome=line.outcome.clone()>
                                                            <td>{line.target}</td>
                                                            <td>{line.buyer}</td>
                                                            <td>{line.outcome.replace('_', " ")}</td>
                                                            <td class="money">{line.bid_cents.map(dollars).unwrap_or_default()}</td>
                                                            <td>{ping}</td>
                                                            <td>{line.rank.map(|r| format!("#{r}")).unwrap_or_default()}</td>
                                                            <td>{line.reason.unwrap_or_default()}</td>
                                                        </tr>
                                                    }
                                                })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            </section>
                            <section aria-labelledby="legs-title">
                                <h2 id="legs-title">"Legs"</h2>
                                <div class="table-scroll" tabindex="0">
                                    <table class="data" id="legs">
                                        <thead>
                                            <tr>
                                                <th scope="col">"Target"</th>
                                                <th scope="col">"SIP URI"</th>
                                                <th scope="col">"Result"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {d.legs
                                                .into_iter()
                                                .map(|leg| view! { <tr><td>{leg.target}</td><td><code>{leg.uri}</code></td><td>{leg.result}</td></tr> })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            </section>
                            <section aria-labelledby="timeline-title">
                                <h2 id="timeline-title">"Timeline"</h2>
                                <div class="table-scroll" tabindex="0">
                                    <table class="data" id="timeline">
                                        <tbody>
                                            {d.events
                                                .into_iter()
                                                .map(|e| view! { <tr><td class="when">{e.at}</td><td><code>{e.kind}</code></td><td class="detail">{e.detail}</td></tr> })
                                                .collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            </section>
                            <section aria-labelledby="tags-title">
                                <h2 id="tags-title">"Tags"</h2>
                                <dl class="facts" id="tags">
                                    {d.tags
                                        .into_iter()
                                        .map(|(k, v)| view! { <dt>{k}</dt><dd>{v}</dd> })
                                        .collect_view()}
                                </dl>
                            </section>
                        }
                            .into_any()
                    }
                    Err(error) => failure(&error),
                }
            })}
        </Suspense>
    }
}
