//! The Overview and the Reports page: both read `crate::reports` as the REST API does,
//! with the API's parameters, so a page and `GET /api/v1/reports` never disagree. Any
//! role reads them.

use std::collections::HashMap;

use bidline_app::{
    errors::AppError,
    reports::{OverviewData, ReportLine, ReportTable, SeriesPoint, TopLine},
};
use bidline_model::reports::DIMENSIONS;
use chrono::{DateTime, Datelike, Days, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use super::{caller, internal, member};
use crate::{
    accounts::{OrgId, Permission},
    calls::query,
    db::with_pool,
    http::AppState,
    reports::{
        self, Report,
        keys::{self, name},
        request::{Grain, Group, Request, start_of},
    },
    time::rfc3339,
};

/// The longest custom range the Overview takes (a report's own limit is longer).
const MAX_OVERVIEW_DAYS: u64 = 366;
/// Rows in each of the Overview's top lists.
const TOP: &str = "5";

pub async fn run(state: &AppState, query: String) -> Result<ReportTable, AppError> {
    let member = member(state, &caller().await?, Permission::Read).await?;
    let params: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let (request, report) = read(state, member.org, &params).await?;
    Ok(table(&request, &report))
}

/// Parses `params` as the API does and runs the report.
async fn read(
    state: &AppState,
    org: OrgId,
    params: &HashMap<String, String>,
) -> Result<(Request, Report), AppError> {
    let zone = query::time_zone(&state.db, org).await.map_err(internal)?;
    let request = Request::parse(params, &zone, Utc::now())
        .map_err(|reports::request::Invalid(name, why)| AppError::field(name, why))?;
    let as_of = state.records_as_of();
    let report = reports::run(&state.db, org, &request, as_of).await.map_err(internal)?;
    Ok((request, report))
}

fn table(request: &Request, report: &Report) -> ReportTable {
    let (from, to) = dates(request);
    let rows = report
        .rows
        .iter()
        .map(|row| ReportLine {
            keys: request.groups.iter().map(|group| shown(group, &row.keys)).collect(),
            calls_query: calls_query(request, &row.keys),
            values: row.metrics.values().to_vec(),
        })
        .collect();
    ReportTable {
        key_labels: request.groups.iter().map(header).collect(),
        rows,
        totals: report.totals.values().to_vec(),
        from: from.to_string(),
        to: to.to_string(),
        time_zone: request.zone.name().to_owned(),
        data_as_of: rfc3339(report.data_as_of),
    }
}

/// The first and the last day a request covers, in its zone.
fn dates(request: &Request) -> (NaiveDate, NaiveDate) {
    let day = |at: DateTime<Utc>| at.with_timezone(&request.zone).date_naive();
    let last = request.to - TimeDelta::milliseconds(1);
    (day(request.from), day(last.max(request.from)))
}

fn header(group: &Group) -> String {
    match group {
        Group::Tag(tag) => format!("Tag {tag}"),
        other => {
            let field = name(other);
            let field = field.strip_suffix("_id").unwrap_or(&field);
            DIMENSIONS
                .iter()
                .find(|(name, _)| *name == field)
                .map_or_else(|| field.to_owned(), |(_, label)| (*label).to_owned())
        }
    }
}

/// What a row's key shows: the object's name beside an id, else the value itself.
fn shown(group: &Group, keys: &serde_json::Map<String, Value>) -> String {
    let text = |field: &str| keys.get(field).and_then(Value::as_str).map(str::to_owned);
    let value = text(&name(group));
    match keys::label(group) {
        Some(label) => match (text(label), value) {
            (Some(named), _) => named,
            (None, Some(_)) => "(deleted)".to_owned(),
            (None, None) => format!("(no {})", header(group).to_lowercase()),
        },
        None => value.unwrap_or_else(|| "(none)".to_owned()),
    }
}

/// The call log's filters for a row: the report's own filters and range, narrowed by the
/// row's keys. Empty when a key is one the log cannot filter by.
fn calls_query(request: &Request, keys: &serde_json::Map<String, Value>) -> String {
    let (from, to) = dates(request);
    let mut query: Vec<(String, String)> = Vec::new();
    let mut range = (from, to);
    let filters = &request.filters;
    for (field, id) in [
        ("campaign_id", filters.campaign_id),
        ("publisher_id", filters.publisher_id),
        ("buyer_id", filters.buyer_id),
        ("target_id", filters.target_id),
    ] {
        if let Some(id) = id {
            query.push((field.into(), id.to_string()));
        }
    }
    if filters.number.is_some() || !filters.tags.is_empty() {
        return String::new();
    }
    if let Some(status) = filters.status {
        query.push(("status".into(), status.as_str().into()));
    }
    let yes_no = |flag: bool| if flag { "yes" } else { "no" }.to_owned();
    if let Some(converted) = filters.converted {
        query.push(("converted".into(), yes_no(converted)));
    }
    if let Some(duplicate) = filters.duplicate {
        query.push(("duplicate".into(), yes_no(duplicate)));
    }
    for group in &request.groups {
        let field = name(group);
        let value = keys.get(&field).and_then(Value::as_str).unwrap_or_default();
        match group {
            Group::Campaign | Group::Publisher | Group::Buyer | Group::Target => {
                if value.is_empty() {
                    return String::new();
                }
                query.retain(|(f, _)| *f != field);
                query.push((field, value.to_owned()));
            }
            Group::Time(grain) => match span_dates(*grain, value) {
                Some(span) => range = span,
                None => return String::new(),
            },
            Group::Number | Group::CallerState | Group::Tag(_) => return String::new(),
        }
    }
    query.push(("from".into(), range.0.to_string()));
    query.push(("to".into(), range.1.to_string()));
    url::form_urlencoded::Serializer::new(String::new()).extend_pairs(query).finish()
}

/// The days a time key covers (an hour's is its day; the call log filters by days).
fn span_dates(grain: Grain, value: &str) -> Option<(NaiveDate, NaiveDate)> {
    let date = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    match grain {
        Grain::Hour => value.get(..10).and_then(date).map(|d| (d, d)),
        Grain::Day => date(value).map(|d| (d, d)),
        Grain::Week => date(value).map(|d| (d, d + Days::new(6))),
        Grain::Month => {
            let first = date(&format!("{value}-01"))?;
            let next = first.checked_add_months(chrono::Months::new(1))?;
            Some((first, next.pred_opt()?))
        }
    }
}

pub async fn overview(
    state: &AppState,
    range: String,
    from: String,
    to: String,
) -> Result<OverviewData, AppError> {
    let member = member(state, &caller().await?, Permission::Read).await?;
    let org = member.org;
    let zone: Tz =
        query::time_zone(&state.db, org).await.map_err(internal)?.parse().unwrap_or(Tz::UTC);
    let today = Utc::now().with_timezone(&zone).date_naive();
    let (first, last) = overview_range(&range, &from, &to, today)?;
    let days = (last - first).num_days() as u64 + 1;
    let grain = if days == 1 { Grain::Hour } else { Grain::Day };
    let params = |group_by: &str, first: NaiveDate, last: NaiveDate, extra: &[(&str, &str)]| {
        let mut params = HashMap::from([
            ("group_by".to_owned(), group_by.to_owned()),
            ("from".to_owned(), first.to_string()),
            ("to".to_owned(), last.to_string()),
            ("time_zone".to_owned(), zone.name().to_owned()),
        ]);
        params.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        params
    };
    let time = if grain == Grain::Hour { "hour" } else { "day" };
    let (request, current) = read(state, org, &params(time, first, last, &[])).await?;
    let previous_last = first - Days::new(1);
    let previous_first = first - Days::new(days);
    let (_, previous) =
        read(state, org, &params("day", previous_first, previous_last, &[])).await?;
    let top = |group_by: &'static str| {
        let params = params(group_by, first, last, &[("sort", "-profit_cents"), ("limit", TOP)]);
        async move {
            let (request, report) = read(state, org, &params).await?;
            Ok::<_, AppError>(top_lines(&request, &report))
        }
    };
    let (top_campaigns, top_publishers, top_buyers) =
        futures::try_join!(top("campaign"), top("publisher"), top("buyer"))?;
    Ok(OverviewData {
        from: first.to_string(),
        to: last.to_string(),
        time_zone: zone.name().to_owned(),
        current: current.totals.values().to_vec(),
        previous: previous.totals.values().to_vec(),
        series: series(&request, &current, grain),
        top_campaigns,
        top_publishers,
        top_buyers,
        live_calls: live_calls(state, org).await?,
        has_calls: has_calls(state, org).await?,
        data_as_of: rfc3339(current.data_as_of),
    })
}

/// The days `range` covers, `today` being the zone's today.
fn overview_range(
    range: &str,
    from: &str,
    to: &str,
    today: NaiveDate,
) -> Result<(NaiveDate, NaiveDate), AppError> {
    let back = |days: u64| today - Days::new(days);
    Ok(match range {
        "today" | "" => (today, today),
        "yesterday" => (back(1), back(1)),
        "7d" => (back(6), today),
        "30d" => (back(29), today),
        "custom" => {
            let date = |field: &str, text: &str| {
                NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                    .map_err(|_| AppError::field(field, "is not a date like 2026-12-01"))
            };
            let (first, last) = (date("from", from)?, date("to", to)?);
            if last < first {
                return Err(AppError::field("to", "must not be before from"));
            }
            if (last - first).num_days() as u64 >= MAX_OVERVIEW_DAYS {
                return Err(AppError::field("to", "the range may cover a year at most"));
            }
            (first, last)
        }
        _ => return Err(AppError::field("range", "must be today, yesterday, 7d, 30d or custom")),
    })
}

/// Calls and revenue for every hour or day of the range, those without calls as zero.
fn series(request: &Request, report: &Report, grain: Grain) -> Vec<SeriesPoint> {
    let field = if grain == Grain::Hour { "hour" } else { "day" };
    let found: HashMap<&str, (i64, i64)> = report
        .rows
        .iter()
        .filter_map(|row| {
            let key = row.keys.get(field)?.as_str()?;
            Some((key, (row.metrics.calls, row.metrics.revenue_cents)))
        })
        .collect();
    let mut points: Vec<SeriesPoint> = Vec::new();
    let mut at = request.from;
    while at < request.to {
        let key = keys::span(at, grain, request.zone);
        let local = at.with_timezone(&request.zone);
        let (calls, revenue_cents) = found.get(key.as_str()).copied().unwrap_or_default();
        let label = if grain == Grain::Hour {
            local.format("%H:00").to_string()
        } else {
            format!("{} {}", month_abbreviation(local.month()), local.day())
        };
        points.push(SeriesPoint { label, calls, revenue_cents });
        // A day is not always 24 hours: step to the next local midnight.
        at = match grain {
            Grain::Hour => at + TimeDelta::hours(1),
            _ => start_of(local.date_naive() + Days::new(1), request.zone),
        };
    }
    points
}

fn month_abbreviation(month: u32) -> &'static str {
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        [(month as usize).saturating_sub(1) % 12]
}

fn top_lines(request: &Request, report: &Report) -> Vec<TopLine> {
    let group = &request.groups[0];
    report
        .rows
        .iter()
        .map(|row| TopLine {
            name: shown(group, &row.keys),
            calls_query: calls_query(request, &row.keys),
            calls: row.metrics.calls,
            profit_cents: row.metrics.profit_cents,
        })
        .collect()
}

async fn live_calls(state: &AppState, org: OrgId) -> Result<i64, AppError> {
    with_pool!(&state.db, pool => {
        sqlx::query_scalar("SELECT COUNT(*) FROM calls WHERE organization_id = $1 AND ended_at IS NULL")
            .bind(org)
            .fetch_one(pool)
            .await
    })
    .map_err(internal)
}

async fn has_calls(state: &AppState, org: OrgId) -> Result<bool, AppError> {
    let any: Option<uuid::Uuid> = with_pool!(&state.db, pool => {
        sqlx::query_scalar("SELECT id FROM calls WHERE organization_id = $1 LIMIT 1")
            .bind(org)
            .fetch_optional(pool)
            .await
    })
    .map_err(internal)?;
    Ok(any.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_keys_drill_down_to_the_days_they_cover() {
        let d = |text: &str| NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap();
        assert_eq!(span_dates(Grain::Day, "2026-12-05"), Some((d("2026-12-05"), d("2026-12-05"))));
        assert_eq!(span_dates(Grain::Week, "2026-11-30"), Some((d("2026-11-30"), d("2026-12-06"))));
        assert_eq!(span_dates(Grain::Month, "2026-02"), Some((d("2026-02-01"), d("2026-02-28"))));
        assert_eq!(
            span_dates(Grain::Hour, "2026-12-05T14:00:00-05:00"),
            Some((d("2026-12-05"), d("2026-12-05")))
        );
        assert_eq!(span_dates(Grain::Day, ""), None);
    }

    #[test]
    fn overview_ranges_end_today_and_custom_ones_are_checked() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 6).unwrap();
        let range = |r: &str| overview_range(r, "", "", today).unwrap();
        assert_eq!(range("today"), (today, today));
        assert_eq!(range("7d").0, NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert_eq!(range("30d").0, NaiveDate::from_ymd_opt(2026, 11, 7).unwrap());
        assert!(overview_range("custom", "2026-12-05", "2026-12-01", today).is_err());
        assert!(overview_range("custom", "2025-01-01", "2026-12-01", today).is_err());
        assert!(overview_range("week", "", "", today).is_err());
    }
}
