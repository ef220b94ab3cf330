//! The first page after sign-in: where the organization stands over a range — its
//! figures against the period before, calls and revenue over time, the campaigns,
//! publishers and buyers that earned most — kept current as calls ring and end. Until
//! the first call, the steps to set up instead.

use bidline_model::reports::{METRICS, Unit, metric_named};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{
    calls::bump_on_call_changes,
    chart::{BarChart, Point, short_count, short_dollars},
    forms::{failure, loading},
};
use crate::{
    auth::Viewer,
    calls::dollars,
    errors::AppError,
    reports::{
        OverviewData, RANGES, TopLine, as_of, calls_text, change, count, metric_text, overview,
        whole_dollars,
    },
    roles::Permission,
    setup::{SetupNumber, SetupProgress, TestCallResult, place_test_call, setup_status},
};

/// The figures the tiles show, by metric name.
const TILES: [&str; 8] = [
    "calls",
    "connected",
    "converted",
    "conversion_rate",
    "revenue_cents",
    "payout_cents",
    "profit_cents",
    "acl_seconds",
];

#[component]
pub fn Overview() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let query = use_query_map();
    let param = move |name: &str| query.with(|q| q.get(name).unwrap_or_default());
    // Bumped when calls change: the figures are read again.
    let changed = RwSignal::new(0_u64);
    Effect::new(move |_| bump_on_call_changes(changed));
    let data = Resource::new(
        move || (param("range"), param("from"), param("to"), changed.get()),
        |(range, from, to, _)| overview(range, from, to),
    );
    let administers = viewer.role.allows(Permission::Administer);
    let test_call: TestCall = Action::new(|number_id: &String| place_test_call(number_id.clone()));
    // Made here, not inside what awaits the figures, so that the page hydrates resources
    // in the order the server rendered them. Read once: steps are done on other pages,
    // and coming back reads it again; calls changing do not move it.
    let progress = Resource::new(|| (), |_| setup_status());
    view! {
        <Title text=format!("{} · Bidline", viewer.org_name) />
        <h1>{viewer.org_name.clone()}</h1>
        <RangePicker range=Signal::derive(move || param("range")) from=param("from") to=param("to") />
        {test_call_outcome(test_call)}
        // Transition, not Suspense: the figures stay while newer ones load.
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(data) if data.has_calls => figures(data).into_any(),
                    Ok(_) => view! { <Setup administers progress test_call /> }.into_any(),
                    Err(error) => failure(&error),
                }
            })}
        </Transition>
    }
}

#[component]
fn RangePicker(range: Signal<String>, from: String, to: String) -> impl IntoView {
    let current = move |name: &str| {
        let range = range.get();
        (range == name || (range.is_empty() && name == "today")).then_some("page")
    };
    view! {
        <nav class="ranges" aria-label="Range">
            {RANGES
                .iter()
                .map(|(name, label)| {
                    view! {
                        <a href=format!("/app?range={name}") aria-current=move || current(name)>
                            {*label}
                        </a>
                    }
                })
                .collect_view()}
            <form class="custom-range" method="get" action="/app">
                <input type="hidden" name="range" value="custom" />
                <label for="range-from">"From"</label>
                <input id="range-from" name="from" type="date" value=from required />
                <label for="range-to">"To"</label>
                <input id="range-to" name="to" type="date" value=to required />
                <button type="submit" class="secondary">"Show"</button>
            </form>
        </nav>
    }
}

fn figures(data: OverviewData) -> impl IntoView {
    let value = |values: &[f64], name: &str| {
        METRICS.iter().position(|m| m.name == name).map_or(0.0, |i| values[i])
    };
    let tiles = TILES
        .iter()
        .map(|name| {
            let metric = metric_named(name).expect("tiles name metrics");
            let (now, before) = (value(&data.current, name), value(&data.previous, name));
            let moved = change(now, before).unwrap_or_else(|| "no calls before".to_owned());
            view! {
                <div class="tile" data-metric=*name>
                    <span class="tile-label">{metric.label}</span>
                    <span class="tile-value">{tile_text(metric.unit, now)}</span>
                    <span class="tile-change">{moved} " vs the period before"</span>
                </div>
            }
        })
        .collect_view();
    let calls: Vec<Point> = data
        .series
        .iter()
        .map(|p| Point { label: p.label.clone(), value: p.calls as f64 })
        .collect();
    let revenue: Vec<Point> = data
        .series
        .iter()
        .map(|p| Point { label: p.label.clone(), value: p.revenue_cents as f64 })
        .collect();
    let total_calls = format!("Total: {}", count(value(&data.current, "calls") as i64));
    let total_revenue = format!("Total: {}", dollars(value(&data.current, "revenue_cents") as i64));
    let range = if data.from == data.to {
        data.from.clone()
    } else {
        format!("{} to {}", data.from, data.to)
    };
    view! {
        <p class="hint" id="overview-range">
            {range} " (" {data.time_zone.clone()} "). Figures as of " {as_of(&data.data_as_of)} "."
        </p>
        <section class="tiles" aria-label="Figures" id="overview-tiles">
            <div class="tile live" data-metric="live">
                <span class="tile-label">"Live now"</span>
                <span class="tile-value">{count(data.live_calls)}</span>
                <span class="tile-change">
                    <a href="/app/calls">"See live calls"</a>
                </span>
            </div>
            {tiles}
        </section>
        <section class="charts" aria-label="Over time">
            <BarChart
                id="chart-calls"
                title="Calls".to_owned()
                points=calls
                short=short_count
                least_step=1.0
                long=|v| calls_text(v as i64)
                summary=total_calls
            />
            <BarChart
                id="chart-revenue"
                title="Revenue".to_owned()
                points=revenue
                short=short_dollars
                least_step=100.0
                long=|v| dollars(v as i64)
                summary=total_revenue
            />
        </section>
        <section class="tops" aria-label="Top earners">
            {top("Top campaigns", "top-campaigns", data.top_campaigns)}
            {top("Top publishers", "top-publishers", data.top_publishers)}
            {top("Top buyers", "top-buyers", data.top_buyers)}
        </section>
    }
}

/// A tile's figure: money over $10,000 in whole dollars, so it fits its tile.
fn tile_text(unit: Unit, value: f64) -> String {
    if unit == Unit::Cents && value.abs() >= 1_000_000.0 {
        whole_dollars(value as i64)
    } else {
        metric_text(unit, value)
    }
}

fn top(title: &'static str, id: &'static str, lines: Vec<TopLine>) -> impl IntoView {
    let empty = lines.is_empty();
    view! {
        <section class="panel top" aria-labelledby=format!("{id}-title")>
            <h2 id=format!("{id}-title")>{title}</h2>
            <div class="table-scroll" tabindex="0">
                <table class="data" id=id>
                    <thead>
                        <tr>
                            <th scope="col">"Name"</th>
                            <th scope="col" class="number">"Calls"</th>
                            <th scope="col" class="number">"Profit"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {lines
                            .into_iter()
                            .map(|line| {
                                let name = if line.calls_query.is_empty() {
                                    view! { <span>{line.name}</span> }.into_any()
                                } else {
                                    view! { <a href=format!("/app/calls?{}", line.calls_query)>{line.name}</a> }
                                        .into_any()
                                };
                                view! {
                                    <tr>
                                        <td>{name}</td>
                                        <td class="number">{count(line.calls)}</td>
                                        <td class="money">{dollars(line.profit_cents)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            {empty.then(|| view! { <p class="empty">"No calls in this range."</p> })}
        </section>
    }
}

/// Until the first call: what to set up, in order, each step ticked once done.
#[component]
fn Setup(
    administers: bool,
    progress: Resource<Result<SetupProgress, AppError>>,
    test_call: TestCall,
) -> impl IntoView {
    if !administers {
        return view! {
            <section class="panel empty-state" id="setup">
                <h2>"No calls yet"</h2>
                <p>
                    "Your organization's owners and admins set Bidline up; its figures appear "
                    "here once calls come in."
                </p>
            </section>
        }
        .into_any();
    }
    view! {
        <section class="panel" id="setup">
            <h2>"Set up your first campaign"</h2>
            <p class="hint">"No calls yet. In this order; each step is ticked once it is done."</p>
            <Transition fallback=loading>
                {move || Suspend::new(async move {
                    match progress.await {
                        Ok(progress) => steps(progress, test_call).into_any(),
                        Err(error) => failure(&error),
                    }
                })}
            </Transition>
        </section>
    }
    .into_any()
}

/// A test call: placed from the setup, its outcome shown above whatever the Overview
/// shows by then (the call itself makes the figures appear).
pub type TestCall = Action<String, Result<TestCallResult, AppError>>;

fn steps(progress: SetupProgress, test_call: TestCall) -> impl IntoView {
    let with_query = |path: &str, name: &str, value: &Option<String>| match value {
        Some(value) => format!("{path}?{name}={value}"),
        None => path.to_owned(),
    };
    let ring_tree = match &progress.campaign_id {
        Some(id) => format!("/app/campaigns/{id}"),
        None => "/app/campaigns".to_owned(),
    };
    let steps = [
        (
            progress.inbound_trunks > 0,
            "/app/trunks/new?direction=inbound".to_owned(),
            "Add an inbound trunk",
            " for the carrier that sends you calls: calls are let in only from its addresses \
             (or with its username and password).",
        ),
        (
            progress.campaigns > 0,
            "/app/campaigns/new".to_owned(),
            "Create a campaign",
            ": the offer callers ring about. A call pays its publisher only once it lasts the \
             campaign's conversion buffer (60 s unless you change it): a shorter call shows $0.",
        ),
        (
            progress.buyers > 0,
            "/app/buyers/new".to_owned(),
            "Add a buyer",
            ": the business that takes the calls.",
        ),
        (
            progress.targets > 0,
            with_query("/app/targets/new", "buyer_id", &progress.buyer_id),
            "Add a target for the buyer",
            ": where its calls ring — a SIP address, or a phone number through an outbound \
             trunk (add one under Trunks first: an inbound trunk cannot carry calls out). \
             Its revenue too counts only past its buffer.",
        ),
        (
            progress.ring_tree_entries > 0,
            ring_tree,
            "Put the target in the campaign's ring tree",
            " (on the campaign's page, below its settings): the targets a call may ring.",
        ),
        (
            !progress.numbers.is_empty(),
            with_query("/app/numbers/new", "campaign_id", &progress.campaign_id),
            "Add a tracking number",
            " to the campaign, credited to a publisher if you have one.",
        ),
    ];
    let numbers = progress.numbers.clone();
    view! {
        <ol class="steps">
            {steps
                .into_iter()
                .map(|(done, href, what, why)| {
                    view! {
                        <li class:done=done>
                            {done.then(|| view! { <span class="badge ok">"Done"</span> " " })}
                            <a href=href>{what}</a>
                            {why}
                        </li>
                    }
                })
                .collect_view()}
            <li>
                <strong>"Place a test call"</strong>
                ": Bidline's own test phone dials the number through your SIP edge, as a \
                 carrier would, talks 10 seconds once answered, and tells you what happened."
                {if numbers.is_empty() {
                    view! { <p class="hint">"Add a tracking number first."</p> }.into_any()
                } else {
                    test_call_form(numbers, test_call).into_any()
                }}
            </li>
        </ol>
    }
}

fn test_call_form(numbers: Vec<SetupNumber>, test_call: TestCall) -> impl IntoView {
    let chosen = RwSignal::new(numbers.first().map(|n| n.id.clone()).unwrap_or_default());
    view! {
        <form
            class="test-call"
            on:submit=move |event: leptos::ev::SubmitEvent| {
                event.prevent_default();
                test_call.dispatch(chosen.get_untracked());
            }
        >
            <div class="control">
                <label for="test-call-number">"Number"</label>
                <select
                    id="test-call-number"
                    on:change=move |event| chosen.set(event_target_value(&event))
                >
                    {numbers
                        .into_iter()
                        .map(|n| {
                            let label = format!("{} ({})", n.number, n.campaign);
                            view! { <option value=n.id>{label}</option> }
                        })
                        .collect_view()}
                </select>
            </div>
            <button type="submit" id="place-test-call" disabled=move || test_call.pending().get()>
                "Place a test call"
            </button>
        </form>
    }
}

/// The test call's progress and outcome.
fn test_call_outcome(test_call: TestCall) -> impl IntoView {
    move || {
        if test_call.pending().get() {
            return view! {
                <p class="panel notice" id="test-call-outcome" role="status">
                    "Calling… the test call rings, talks 10 seconds if answered, then hangs up."
                </p>
            }
            .into_any();
        }
        match test_call.value().get() {
            None => ().into_any(),
            Some(Ok(result)) => view! {
                <p
                    class="panel notice"
                    class:success=result.answered
                    id="test-call-outcome"
                    role="status"
                >
                    "Test call: " {result.summary}
                    {result.call_id.map(|id| {
                        view! { " " <a href=format!("/app/calls/{id}")>"See the call"</a> }
                    })}
                </p>
            }
            .into_any(),
            Some(Err(error)) => view! {
                <p class="panel notice error" id="test-call-outcome" role="alert">
                    "The test call could not be placed: " {error.to_string()}
                </p>
            }
            .into_any(),
        }
    }
}
