//! One call's page: who called whom, the money, the auction, the legs rung, a timeline
//! in sentences and the call's tags.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::{
    api_keys::day,
    calls::talk,
    forms::{failure, loading},
};
use crate::calls::{call_detail, dollars};

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
                                        <thead>
                                            <tr>
                                                <th scope="col">"After"</th>
                                                <th scope="col">"What happened"</th>
                                            </tr>
                                        </thead>
                                        <tbody>
                                            {d.events
                                                .into_iter()
                                                .map(|e| {
                                                    view! {
                                                        <tr data-kind=e.kind>
                                                            <td class="when"><time datetime=e.at.clone() title=e.at>{e.after}</time></td>
                                                            <td class="detail">{e.text}</td>
                                                        </tr>
                                                    }
                                                })
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
