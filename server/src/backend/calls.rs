//! The calls pages: the call log, one call, the live calls. Any role reads them; names
//! come from the routing snapshot (the configuration as it is now).

use bidline_app::{
    calls::{
        AuctionLine, CallDetailView, CallFilter, CallLogPage, CallLogTotals, CallSummary, LegLine,
        TodayFigures,
    },
    errors::AppError,
};
use chrono::{DurationRound, NaiveDate, TimeZone};
use chrono_tz::Tz;
use uuid::Uuid;

use super::{caller, internal, member, timeline};
use crate::{
    accounts::{OrgId, Permission},
    calls::{
        Status,
        query::{self, CallView, Filter},
    },
    e164::E164,
    http::AppState,
    reports::{engine, request},
    routing::snapshot::Snapshot,
    time::rfc3339,
};

const PAGE: i64 = 50;
const LIVE: i64 = 20;

/// What an id is called in the configuration now.
fn name<T>(
    map: &std::collections::HashMap<Uuid, crate::routing::snapshot::Owned<T>>,
    org: OrgId,
    id: Uuid,
    name: impl Fn(&T) -> String,
) -> String {
    map.get(&id)
        .filter(|owned| owned.org == org)
        .map_or_else(|| "(deleted)".to_owned(), |owned| name(&owned.object))
}

/// A call as the pages show it.
pub fn summary(snapshot: &Snapshot, org: OrgId, call: &CallView) -> CallSummary {
    CallSummary {
        id: call.id.to_string(),
        started_at: rfc3339(call.started_at),
        caller: call.caller.clone(),
        dialed: call.dialed.clone(),
        campaign: name(&snapshot.campaigns, org, call.campaign_id, |c| c.name.clone()),
        publisher: call
            .publisher_id
            .map(|id| name(&snapshot.publishers, org, id, |p| p.name.clone())),
        buyer: call.buyer_id.map(|id| name(&snapshot.buyers, org, id, |b| b.name.clone())),
        target: call.target_id.map(|id| name(&snapshot.targets, org, id, |t| t.name.clone())),
        status: call.status.as_str().to_owned(),
        talk_seconds: call.talk_seconds,
        converted: call.converted,
        duplicate: call.duplicate,
        revenue_cents: call.revenue_cents,
        payout_cents: call.payout_cents,
    }
}

/// Midnight of `date` in `zone`, in UTC.
fn midnight(date: NaiveDate, zone: Tz) -> chrono::DateTime<chrono::Utc> {
    let local = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    // A midnight skipped by a clock change starts the day at the next valid time.
    zone.from_local_datetime(&local)
        .earliest()
        .unwrap_or_else(|| zone.from_utc_datetime(&local))
        .with_timezone(&chrono::Utc)
}

/// The query's filter from the form's, dates read in `zone`; a bad field is named.
pub fn filter(form: &CallFilter, zone: Tz) -> Result<Filter, AppError> {
    let text = |value: &str| Some(value.trim()).filter(|v| !v.is_empty()).map(str::to_owned);
    let date = |field: &str, value: &str| -> Result<Option<NaiveDate>, AppError> {
        text(value)
            .map(|v| {
                NaiveDate::parse_from_str(&v, "%Y-%m-%d")
                    .map_err(|_| AppError::field(field, "is not a date like 2026-12-01"))
            })
            .transpose()
    };
    let id = |field: &str, value: &str| -> Result<Option<Uuid>, AppError> {
        text(value)
            .map(|v| v.parse().map_err(|_| AppError::field(field, "is not valid")))
            .transpose()
    };
    let flag = |field: &str, value: &str| -> Result<Option<bool>, AppError> {
        match value.trim() {
            "" => Ok(None),
            "yes" => Ok(Some(true)),
            "no" => Ok(Some(false)),
            _ => Err(AppError::field(field, "must be yes or no")),
        }
    };
    Ok(Filter {
        from: date("from", &form.from)?.map(|d| midnight(d, zone)),
        to: date("to", &form.to)?.and_then(|d| d.succ_opt()).map(|d| midnight(d, zone)),
        campaign_id: id("campaign_id", &form.campaign_id)?,
        publisher_id: id("publisher_id", &form.publisher_id)?,
        buyer_id: id("buyer_id", &form.buyer_id)?,
        target_id: id("target_id", &form.target_id)?,
        status: text(&form.status)
            .map(|s| Status::parse(&s).ok_or_else(|| AppError::field("status", "is not a status")))
            .transpose()?,
        converted: flag("converted", &form.converted)?,
        duplicate: flag("duplicate", &form.duplicate)?,
        caller: text(&form.caller)
            .map(|c| {
                E164::parse(&c)
                    .map(|n| n.as_str().to_owned())
                    .map_err(|why| AppError::field("caller", why))
            })
            .transpose()?,
    })
}

pub async fn list(
    state: &AppState,
    form: CallFilter,
    cursor: Option<String>,
) -> Result<CallLogPage, AppError> {
    let member = member(state, &caller().await?, Permission::Read).await?;
    let time_zone = query::time_zone(&state.db, member.org).await.map_err(internal)?;
    let zone: Tz = time_zone.parse().unwrap_or(Tz::UTC);
    let filter = filter(&form, zone)?;
    let after = match cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(cursor) => {
            Some(cursor.parse::<Uuid>().map_err(|_| AppError::field("cursor", "is not valid"))?)
        }
        None => None,
    };
    let mut calls =
        query::list(&state.db, member.org, &filter, after, PAGE + 1).await.map_err(internal)?;
    let more = calls.len() as i64 > PAGE;
    calls.truncate(PAGE as usize);
    let snapshot = state.routing.current();
    let next_cursor = more.then(|| calls.last().map(|c| c.id.to_string())).flatten();
    let items = calls.iter().map(|call| summary(&snapshot, member.org, call)).collect();
    Ok(CallLogPage { items, next_cursor, time_zone })
}

/// What every call the log's filters match adds up to. The reports' engine answers it
/// (from the rollups unless a status, conversion or duplicate filter or a range off whole
/// hours needs the calls): the page asks again whenever calls change, and summing a
/// million calls takes SQLite 0.4 s where the rollups take milliseconds. A caller's calls,
/// which the reports do not filter by, come from the calls through their index.
pub async fn totals(state: &AppState, form: CallFilter) -> Result<CallLogTotals, AppError> {
    let member = member(state, &caller().await?, Permission::Read).await?;
    let time_zone = query::time_zone(&state.db, member.org).await.map_err(internal)?;
    let zone: Tz = time_zone.parse().unwrap_or(Tz::UTC);
    let filter = filter(&form, zone)?;
    let sums = if filter.caller.is_some() {
        query::totals(&state.db, member.org, &filter).await.map_err(internal)?
    } else {
        let request = report_of(&filter, zone, chrono::Utc::now());
        let answer = engine::answer(&state.db, member.org, &request).await.map_err(internal)?;
        let sums = answer.rows.into_values().next().unwrap_or_default();
        query::LogTotals {
            calls: sums.calls,
            talk_ms: sums.talk_ms,
            revenue_cents: sums.revenue_cents,
            payout_cents: sums.payout_cents,
        }
    };
    Ok(CallLogTotals {
        calls: sums.calls,
        talk_seconds: sums.talk_ms / 1000,
        revenue_cents: sums.revenue_cents,
        payout_cents: sums.payout_cents,
    })
}

/// The report of `filter`'s calls in one row: with no dates, from the epoch to the next
/// whole hour (whole hours, so the rollups can answer).
fn report_of(filter: &Filter, zone: Tz, now: chrono::DateTime<chrono::Utc>) -> request::Request {
    let next_hour = (now + chrono::TimeDelta::hours(1))
        .duration_trunc(chrono::TimeDelta::hours(1))
        .unwrap_or(now);
    request::Request {
        groups: Vec::new(),
        from: filter.from.unwrap_or(chrono::DateTime::UNIX_EPOCH),
        to: filter.to.unwrap_or(next_hour),
        zone,
        filters: request::Filters {
            campaign_id: filter.campaign_id,
            publisher_id: filter.publisher_id,
            buyer_id: filter.buyer_id,
            target_id: filter.target_id,
            status: filter.status,
            converted: filter.converted,
            duplicate: filter.duplicate,
            ..request::Filters::default()
        },
        sort: None,
        limit: request::DEFAULT_LIMIT,
    }
}

pub async fn live(state: &AppState) -> Result<Vec<CallSummary>, AppError> {
    let member = member(state, &caller().await?, Permission::Read).await?;
    let calls = query::live(&state.db, member.org, LIVE).await.map_err(internal)?;
    let snapshot = state.routing.current();
    Ok(calls.iter().map(|call| summary(&snapshot, member.org, call)).collect())
}

/// The campaign's calls since midnight in the organization's zone.
pub async fn campaign_today(state: &AppState, campaign: String) -> Result<TodayFigures, AppError> {
    let member = member(state, &caller().await?, Permission::Read).await?;
    let campaign: Uuid = campaign.parse().map_err(|_| AppError::NotFound)?;
    let time_zone = query::time_zone(&state.db, member.org).await.map_err(internal)?;
    let zone: Tz = time_zone.parse().unwrap_or(Tz::UTC);
    let today = chrono::Utc::now().with_timezone(&zone).date_naive();
    let since = midnight(today, zone);
    let totals = query::campaign_totals(&state.db, member.org, campaign, since)
        .await
        .map_err(internal)?
        .ok_or(AppError::NotFound)?;
    Ok(TodayFigures {
        calls: totals.calls,
        connected: totals.connected,
        converted: totals.converted,
        revenue_cents: totals.revenue_cents,
        payout_cents: totals.payout_cents,
        time_zone,
    })
}

pub async fn detail(state: &AppState, id: String) -> Result<CallDetailView, AppError> {
    let member = member(state, &caller().await?, Permission::Read).await?;
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let detail =
        query::get(&state.db, member.org, id).await.map_err(internal)?.ok_or(AppError::NotFound)?;
    let snapshot = state.routing.current();
    let org = member.org;
    let target_name = |id: Uuid| name(&snapshot.targets, org, id, |t| t.name.clone());
    let buyer_name = |id: Uuid| name(&snapshot.buyers, org, id, |b| b.name.clone());
    let auction = detail
        .bids
        .iter()
        .map(|bid| AuctionLine {
            target: target_name(bid.target_id),
            buyer: buyer_name(bid.buyer_id),
            outcome: bid.outcome.as_str().to_owned(),
            reason: bid.reason.clone(),
            pinged: bid.pinged_at.is_some(),
            latency_ms: bid.latency_ms,
            http_status: bid.http_status,
            bid_cents: bid.bid_cents,
            won: bid.won,
            rank: bid.rank.map(|r| r + 1),
        })
        .collect();
    let mut legs: Vec<LegLine> = Vec::new();
    for event in &detail.events {
        let leg = event.detail["leg"].as_u64().map(|l| l as usize);
        let target = || {
            event.detail["target_id"]
                .as_str()
                .and_then(|t| t.parse().ok())
                .map_or_else(String::new, target_name)
        };
        match (event.kind.as_str(), leg) {
            ("leg.trying", Some(_)) => legs.push(LegLine {
                target: target(),
                uri: event.detail["uri"].as_str().unwrap_or_default().to_owned(),
                result: "not answered".into(),
            }),
            ("leg.failed", Some(leg)) => {
                if let Some(line) = legs.get_mut(leg) {
                    line.result = format!(
                        "{} {}",
                        event.detail["status"],
                        event.detail["reason"].as_str().unwrap_or_default()
                    );
                }
            }
            ("bridged", Some(leg)) => {
                if let Some(line) = legs.get_mut(leg) {
                    line.result = "answered".into();
                }
            }
            _ => {}
        }
    }
    let call = &detail.call;
    let names = timeline::Names { target: &target_name, buyer: &buyer_name };
    Ok(CallDetailView {
        call: summary(&snapshot, org, call),
        end_reason: call.end_reason.clone(),
        sip_status: call.sip_status,
        answered_at: call.answered_at.map(rfc3339),
        ended_at: call.ended_at.map(rfc3339),
        ring_seconds: call.ring_seconds,
        bid_cents: call.bid_cents,
        buffer_seconds: call.buffer_seconds,
        profit_cents: call.profit_cents,
        tags: call.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        events: timeline::lines(&detail.events, call.started_at, &names),
        auction,
        legs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_whole_days_in_the_organizations_zone() {
        let form = CallFilter {
            from: "2026-12-01".into(),
            to: "2026-12-02".into(),
            converted: "yes".into(),
            caller: "(212) 555-0123".into(),
            ..CallFilter::default()
        };
        let filter = filter(&form, "America/Chicago".parse().unwrap()).unwrap();
        // Midnight in Chicago (UTC−6 in December), and the end of the 2nd.
        assert_eq!(filter.from.unwrap().to_rfc3339(), "2026-12-01T06:00:00+00:00");
        assert_eq!(filter.to.unwrap().to_rfc3339(), "2026-12-03T06:00:00+00:00");
        assert_eq!(filter.converted, Some(true));
        assert_eq!(filter.caller.as_deref(), Some("+12125550123"));
        let bad = CallFilter { from: "yesterday".into(), ..CallFilter::default() };
        assert!(
            matches!(filter_error(&bad), Some(AppError::Invalid(fields)) if fields.contains_key("from"))
        );
    }

    #[test]
    fn the_log_without_dates_is_summed_over_whole_hours_up_to_now() {
        let now = "2026-12-07T12:34:56Z".parse().unwrap();
        let request = report_of(&Filter::default(), Tz::UTC, now);
        assert_eq!(request.from, chrono::DateTime::UNIX_EPOCH);
        assert_eq!(request.to.to_rfc3339(), "2026-12-07T13:00:00+00:00");
        assert!(request.groups.is_empty());
        let form = CallFilter {
            from: "2026-12-01".into(),
            status: "failed".into(),
            ..CallFilter::default()
        };
        let dated = report_of(&filter(&form, Tz::UTC).unwrap(), Tz::UTC, now);
        assert_eq!(dated.from.to_rfc3339(), "2026-12-01T00:00:00+00:00");
        assert_eq!(dated.filters.status, Some(Status::Failed));
    }

    fn filter_error(form: &CallFilter) -> Option<AppError> {
        filter(form, Tz::UTC).err()
    }
}
