//! The report builder: calls summed by one or two dimensions over a range, with filters
//! and a choice of columns; a sortable table with its totals, the first column charted
//! over time, and the rows as CSV. Everything the page shows is in its URL (the API's
//! parameters, plus `columns`), so a report is bookmarked or shared as a link. A row's
//! name opens the call log narrowed to it.

use bidline_model::reports::{DIMENSIONS, METRICS, Metric, metric_named};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{
    hooks::{use_navigate, use_query_map},
    params::ParamsMap,
};

use super::{
    calls::{Choose, bump_on_call_changes},
    chart::{BarChart, Point, short_count, short_dollars},
    forms::{failure, loading},
};
use crate::{
    calls::dollars,
    network::Kind,
    reports::{REPORT_CSV_PATH, ReportTable, as_of, count, metric_text, run_report},
};
use bidline_model::reports::Unit;

/// Columns shown until the URL picks others.
const DEFAULT_COLUMNS: &str =
    "calls,connected,converted,conversion_rate,revenue_cents,payout_cents,profit_cents,acl_seconds";
/// The report's own parameters the form sets (the tag filter is `tag.NAME`).
const FILTERS: [&str; 7] =
    ["campaign_id", "publisher_id", "buyer_id", "target_id", "status", "converted", "duplicate"];

/// The URL's parameters as the report reads them (everything but `columns`).
fn report_params(params: &ParamsMap) -> Vec<(String, String)> {
    params
        .latest_values()
        .filter(|(key, value)| *key != "columns" && !value.is_empty())
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

/// `pairs` as a query string, encoded, without the `?`.
fn query_string(pairs: impl IntoIterator<Item = (String, String)>) -> String {
    let mut map = ParamsMap::new();
    for (key, value) in pairs {
        map.insert(key, value);
    }
    map.to_query_string().trim_start_matches('?').to_owned()
}

/// The columns picked in the URL, known metrics only, in the catalogue's order.
fn columns(params: &ParamsMap) -> Vec<&'static Metric> {
    let picked = params.get("columns").filter(|c| !c.is_empty());
    let picked = picked.as_deref().unwrap_or(DEFAULT_COLUMNS);
    let names: Vec<&str> = picked.split(',').collect();
    let shown: Vec<&Metric> = METRICS.iter().filter(|m| names.contains(&m.name)).collect();
    if shown.is_empty() { vec![&METRICS[0]] } else { shown }
}

#[component]
pub fn Reports() -> impl IntoView {
    let query = use_query_map();
    // Bumped when calls change: the report is read again.
    let changed = RwSignal::new(0_u64);
    Effect::new(move |_| bump_on_call_changes(changed));
    let params = move || {
        let mut params = query.with(report_params);
        if !params.iter().any(|(k, _)| k == "group_by") {
            params.push(("group_by".into(), "campaign".into()));
        }
        params
    };
    // The count of changes is part of the source: a source equal to the last one would
    // not fetch again.
    let report = Resource::new(
        move || (params(), changed.get()),
        |(params, _)| run_report(query_string(params)),
    );
    // The first column over time, by day (by hour for one day), same range and filters.
    let trend = Resource::new(
        move || (params(), changed.get()),
        |(params, _)| {
            let one_day = {
                let value =
                    |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
                value("from").is_some() && value("from") == value("to")
            };
            let mut params: Vec<(String, String)> = params
                .into_iter()
                .filter(|(k, _)| !matches!(k.as_str(), "group_by" | "sort" | "limit"))
                .collect();
            params.push(("group_by".into(), if one_day { "hour" } else { "day" }.into()));
            params.push(("limit".into(), "10000".into()));
            run_report(query_string(params))
        },
    );
    view! {
        <Title text="Reports · Bidline" />
        <h1>"Reports"</h1>
        <ReportForm />
        <Transition fallback=loading>
            {move || Suspend::new(async move {
                let shown = query.with(columns);
                let sort = query.with(|q| q.get("sort").unwrap_or_default());
                let chart = match trend.await {
                    Ok(trend) => trend_chart(&trend, shown[0]).into_any(),
                    Err(error) => failure(&error),
                };
                match report.await {
                    Ok(table) => view! {
                        {chart}
                        {table_view(table, shown, sort, params())}
                    }
                        .into_any(),
                    Err(error) => failure(&error),
                }
            })}
        </Transition>
    }
}

#[component]
fn ReportForm() -> impl IntoView {
    let query = use_query_map();
    let initial = |name: &str| query.with_untracked(|q| q.get(name).unwrap_or_default());
    let groups = initial("group_by");
    let mut groups = groups.split(',').map(str::to_owned);
    let (first, then) = (groups.next().unwrap_or_default(), groups.next().unwrap_or_default());
    let tag_of = |group: &str| group.strip_prefix("tag.").map(str::to_owned);
    let tag = RwSignal::new(tag_of(&first).or_else(|| tag_of(&then)).unwrap_or_default());
    let as_choice =
        |group: String| if group.starts_with("tag.") { "tag".to_owned() } else { group };
    let first =
        RwSignal::new(if first.is_empty() { "campaign".to_owned() } else { as_choice(first) });
    let then = RwSignal::new(as_choice(then));
    let from = RwSignal::new(initial("from"));
    let to = RwSignal::new(initial("to"));
    let filters: Vec<(&str, RwSignal<String>)> =
        FILTERS.iter().map(|name| (*name, RwSignal::new(initial(name)))).collect();
    let filter = |name: &str| filters.iter().find(|(n, _)| *n == name).expect("a filter").1;
    let (tag_filter_name, tag_filter_value) = query.with_untracked(|q| {
        q.latest_values()
            .find_map(|(k, v)| k.strip_prefix("tag.").map(|k| (k.to_owned(), v.to_string())))
            .unwrap_or_default()
    });
    let tag_filter_name = RwSignal::new(tag_filter_name);
    let tag_filter_value = RwSignal::new(tag_filter_value);
    let picked: Vec<(&'static str, RwSignal<bool>)> = {
        let shown = query.with_untracked(columns);
        METRICS
            .iter()
            .map(|m| (m.name, RwSignal::new(shown.iter().any(|s| s.name == m.name))))
            .collect()
    };
    let sort = initial("sort");
    let navigate = use_navigate();
    let run = {
        let filters = filters.clone();
        let picked = picked.clone();
        move |event: leptos::ev::SubmitEvent| {
            event.prevent_default();
            let group = |choice: String| {
                if choice == "tag" { format!("tag.{}", tag.get_untracked().trim()) } else { choice }
            };
            let mut group_by = vec![group(first.get_untracked())];
            if !then.get_untracked().is_empty() {
                group_by.push(group(then.get_untracked()));
            }
            let mut params = ParamsMap::new();
            params.insert("group_by", group_by.join(","));
            for (name, value) in [("from", from), ("to", to)] {
                if !value.get_untracked().is_empty() {
                    params.insert(name, value.get_untracked());
                }
            }
            for (name, value) in &filters {
                if !value.get_untracked().is_empty() {
                    params.insert(*name, value.get_untracked());
                }
            }
            let tag_name = tag_filter_name.get_untracked().trim().to_owned();
            if !tag_name.is_empty() {
                params.insert(format!("tag.{tag_name}"), tag_filter_value.get_untracked());
            }
            if !sort.is_empty() {
                params.insert("sort", sort.clone());
            }
            let columns: Vec<&str> =
                picked.iter().filter(|(_, on)| on.get_untracked()).map(|(name, _)| *name).collect();
            params.insert("columns", columns.join(","));
            navigate(&format!("/app/reports{}", params.to_query_string()), Default::default());
        }
    };
    let dimension = |id: &'static str,
                     label: &'static str,
                     value: RwSignal<String>,
                     optional: bool| {
        view! {
            <div class="control">
            <label for=id>{label}</label>
            <select id=id prop:value=move || value.get() on:change=move |e| value.set(event_target_value(&e))>
                {optional.then(|| view! { <option value="">"nothing"</option> })}
                {DIMENSIONS
                    .iter()
                    .map(|(name, label)| view! { <option value=*name>{*label}</option> })
                    .collect_view()}
                <option value="tag">"A tag…"</option>
            </select>
            </div>
        }
    };
    let pick = |id: &'static str,
                label: &'static str,
                options: &'static [(&'static str, &'static str)],
                value: RwSignal<String>| {
        view! {
            <div class="control">
                <label for=id>{label}</label>
                <select id=id prop:value=move || value.get() on:change=move |e| value.set(event_target_value(&e))>
                    <option value="">"any"</option>
                    {options.iter().map(|(v, text)| view! { <option value=*v>{*text}</option> }).collect_view()}
                </select>
            </div>
        }
    };
    let date = |id: &'static str, label: &'static str, value: RwSignal<String>| {
        view! {
            <div class="control">
                <label for=id>{label}</label>
                <input id=id type="date" prop:value=move || value.get() on:input=move |e| value.set(event_target_value(&e)) />
            </div>
        }
    };
    const STATUSES: &[(&str, &str)] = &[
        ("completed", "completed"),
        ("connected", "connected"),
        ("ringing", "ringing"),
        ("failed", "failed"),
        ("rejected", "rejected"),
        ("abandoned", "abandoned"),
        ("interrupted", "interrupted"),
    ];
    const YES_NO: &[(&str, &str)] = &[("true", "yes"), ("false", "no")];
    let wants_tag = move || first.get() == "tag" || then.get() == "tag";
    // Filters and columns fold away until the URL sets one.
    let filtered = query.with_untracked(|q| {
        q.latest_values().any(|(k, v)| {
            !v.is_empty()
                && (FILTERS.contains(&k.as_ref()) || k.starts_with("tag.") || k == "columns")
        })
    });
    view! {
        <form class="filters report-form" id="report-form" on:submit=run>
            {dimension("report-group", "Group by", first, false)}
            {dimension("report-then", "Then by", then, true)}
            <Show when=wants_tag>
                <div class="control">
                    <label for="report-tag">"Tag name"</label>
                    <input id="report-tag" type="text" placeholder="utm_source" prop:value=move || tag.get() on:input=move |e| tag.set(event_target_value(&e)) />
                </div>
            </Show>
            {date("report-from", "From", from)}
            {date("report-to", "To", to)}
            <details class="more" open=filtered>
                <summary>"Filters and columns"</summary>
                <div class="filters">
                <div class="control"><Choose kind=Kind::Campaign id="report-campaign" value=filter("campaign_id") /></div>
                <div class="control"><Choose kind=Kind::Publisher id="report-publisher" value=filter("publisher_id") /></div>
                <div class="control"><Choose kind=Kind::Buyer id="report-buyer" value=filter("buyer_id") /></div>
                <div class="control"><Choose kind=Kind::Target id="report-target" value=filter("target_id") /></div>
                {pick("report-status", "Status", STATUSES, filter("status"))}
                {pick("report-converted", "Converted", YES_NO, filter("converted"))}
                {pick("report-duplicate", "Duplicate", YES_NO, filter("duplicate"))}
                <div class="control">
                    <label for="report-tag-filter">"Where tag"</label>
                    <input id="report-tag-filter" type="text" placeholder="utm_source" prop:value=move || tag_filter_name.get() on:input=move |e| tag_filter_name.set(event_target_value(&e)) />
                </div>
                <div class="control">
                    <label for="report-tag-value">"is"</label>
                    <input id="report-tag-value" type="text" placeholder="google" prop:value=move || tag_filter_value.get() on:input=move |e| tag_filter_value.set(event_target_value(&e)) />
                </div>
                <fieldset class="columns">
                    <legend>"Columns"</legend>
                    {picked
                        .iter()
                        .map(|(name, on)| {
                            let on = *on;
                            let label = metric_named(name).map_or(*name, |m| m.label);
                            let id = format!("column-{name}");
                            view! {
                                <label class="check">
                                    <input id=id type="checkbox" prop:checked=move || on.get() on:change=move |e| on.set(event_target_checked(&e)) />
                                    {label}
                                </label>
                            }
                        })
                        .collect_view()}
                </fieldset>
                </div>
            </details>
            <button type="submit">"Run report"</button>
        </form>
    }
}

/// A time key as a chart's label: `Dec 5` for a day, `14:00` for an hour.
fn short_time(key: &str) -> String {
    const MONTHS: [&str; 12] =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    match (key.len(), key.get(5..7).and_then(|m| m.parse::<usize>().ok()), key.get(8..10)) {
        (10, Some(month @ 1..=12), Some(day)) => {
            format!("{} {}", MONTHS[month - 1], day.trim_start_matches('0'))
        }
        (25, _, _) => key.get(11..16).unwrap_or(key).to_owned(),
        _ => key.to_owned(),
    }
}

/// Writes a value for a chart.
type Format = fn(f64) -> String;

fn trend_chart(trend: &ReportTable, metric: &'static Metric) -> impl IntoView {
    let index = METRICS.iter().position(|m| m.name == metric.name).unwrap_or(0);
    let points: Vec<Point> = trend
        .rows
        .iter()
        .map(|row| Point {
            label: short_time(row.keys.first().map(String::as_str).unwrap_or_default()),
            value: row.values.get(index).copied().unwrap_or_default(),
        })
        .collect();
    let (short, long, least_step): (Format, Format, f64) = match metric.unit {
        Unit::Cents => (short_dollars, |v| dollars(v as i64), 100.0),
        Unit::Count => (short_count, |v| count(v as i64), 1.0),
        Unit::Rate => (|v| format!("{:.0}%", v * 100.0), |v| format!("{:.1}%", v * 100.0), 0.01),
        Unit::Seconds => (short_count, |v| format!("{v:.0} s"), 1.0),
    };
    let total = metric_text(metric.unit, trend.totals.get(index).copied().unwrap_or_default());
    view! {
        <section class="charts single" aria-label="Over time">
            <BarChart
                id="report-chart"
                title=format!("{} by {}", metric.label, trend.key_labels.first().cloned().unwrap_or_default().to_lowercase())
                points
                short
                long
                least_step
                summary=format!("{total} over the range")
            />
        </section>
    }
}

fn table_view(
    table: ReportTable,
    shown: Vec<&'static Metric>,
    sort: String,
    params: Vec<(String, String)>,
) -> impl IntoView {
    let indexes: Vec<usize> = shown
        .iter()
        .map(|m| METRICS.iter().position(|all| all.name == m.name).unwrap_or(0))
        .collect();
    let csv = format!("{REPORT_CSV_PATH}?{}", query_string(params.clone()));
    let columns_param = shown.iter().map(|m| m.name).collect::<Vec<_>>().join(",");
    // A header sorts by its metric, descending first; again, ascending.
    let sort_link = |name: &str| {
        let next = if sort == format!("-{name}") { name.to_owned() } else { format!("-{name}") };
        let mut pairs: Vec<(String, String)> =
            params.iter().filter(|(k, _)| k != "sort").cloned().collect();
        pairs.push(("sort".into(), next));
        pairs.push(("columns".into(), columns_param.clone()));
        format!("/app/reports?{}", query_string(pairs))
    };
    let sorted = |name: &str| {
        if sort == format!("-{name}") {
            "descending"
        } else if sort == name {
            "ascending"
        } else {
            "none"
        }
    };
    let empty = table.rows.is_empty();
    let keys = table.key_labels.len();
    view! {
        <p class="hint" id="report-range">
            {table.from.clone()} " to " {table.to.clone()} " (" {table.time_zone.clone()} "), "
            {count(table.rows.len() as i64)} " rows. Figures as of " {as_of(&table.data_as_of)} ". "
            <a href=csv id="report-csv" download="report.csv">"Download CSV"</a>
        </p>
        <div class="table-scroll" tabindex="0">
            <table class="data report" id="report-table">
                <thead>
                    <tr>
                        {table.key_labels.iter().map(|label| view! { <th scope="col">{label.clone()}</th> }).collect_view()}
                        {shown
                            .iter()
                            .map(|m| {
                                view! {
                                    <th scope="col" class="number" aria-sort=sorted(m.name)>
                                        <a href=sort_link(m.name)>{m.label}</a>
                                    </th>
                                }
                            })
                            .collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {table
                        .rows
                        .iter()
                        .map(|row| {
                            let keys = row
                                .keys
                                .iter()
                                .enumerate()
                                .map(|(i, key)| {
                                    if i == 0 && !row.calls_query.is_empty() {
                                        view! {
                                            <th scope="row">
                                                <a href=format!("/app/calls?{}", row.calls_query)>{key.clone()}</a>
                                            </th>
                                        }
                                            .into_any()
                                    } else if i == 0 {
                                        view! { <th scope="row">{key.clone()}</th> }.into_any()
                                    } else {
                                        view! { <td>{key.clone()}</td> }.into_any()
                                    }
                                })
                                .collect_view();
                            let values = indexes
                                .iter()
                                .zip(&shown)
                                .map(|(&i, m)| {
                                    view! { <td class="number">{metric_text(m.unit, row.values[i])}</td> }
                                })
                                .collect_view();
                            view! { <tr>{keys}{values}</tr> }
                        })
                        .collect_view()}
                </tbody>
                <tfoot>
                    <tr>
                        <th scope="row" colspan=keys>"Total"</th>
                        {indexes
                            .iter()
                            .zip(&shown)
                            .map(|(&i, m)| view! { <td class="number">{metric_text(m.unit, table.totals[i])}</td> })
                            .collect_view()}
                    </tr>
                </tfoot>
            </table>
        </div>
        {empty.then(|| view! {
            <p class="empty">"No calls in this range match. Widen the dates or clear a filter."</p>
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_keeps_the_report_and_its_columns_apart() {
        let mut url = ParamsMap::new();
        url.insert("group_by", "campaign,day".to_owned());
        url.insert("tag.utm_source", "a b".to_owned());
        url.insert("columns", "revenue_cents,calls,bogus".to_owned());
        url.insert("status", String::new());
        let params = report_params(&url);
        let pair = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(params, [pair("group_by", "campaign,day"), pair("tag.utm_source", "a b")]);
        let query = query_string(params);
        assert!(query.contains("campaign%2Cday") && query.contains("=a%20b"), "{query}");
        let names: Vec<&str> = columns(&url).iter().map(|m| m.name).collect();
        assert_eq!(names, ["calls", "revenue_cents"]);
        assert_eq!(short_time("2026-12-05"), "Dec 5");
        assert_eq!(short_time("2026-12-05T14:00:00-05:00"), "14:00");
    }
}
