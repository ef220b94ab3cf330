//! Reading call records for the API and the dashboard: the call log (filters, newest
//! first, cursor pages) and one call with its timeline and auction.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

use super::{BidRow, CallRow, Outcome, Status};
use crate::{
    accounts::OrgId,
    db::{Db, with_pool},
};

/// What the call log can be narrowed to; every filter is optional.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub campaign_id: Option<Uuid>,
    pub publisher_id: Option<Uuid>,
    pub buyer_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    pub status: Option<Status>,
    pub converted: Option<bool>,
    pub duplicate: Option<bool>,
    /// The caller's number, E.164.
    pub caller: Option<String>,
}

/// A call as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CallView {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub publisher_id: Option<Uuid>,
    pub buyer_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    /// E.164; `null` when the caller withheld it.
    pub caller: Option<String>,
    pub caller_anonymous: bool,
    pub dialed: String,
    pub status: Status,
    /// Why it ended, in words.
    pub end_reason: Option<String>,
    /// The final SIP status the caller got; `null` when the call was answered.
    pub sip_status: Option<i64>,
    #[serde(serialize_with = "crate::time::serialize")]
    pub started_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize_optional")]
    #[schemars(with = "Option<String>")]
    pub answered_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::time::serialize_optional")]
    #[schemars(with = "Option<String>")]
    pub ended_at: Option<DateTime<Utc>>,
    pub ring_seconds: Option<i64>,
    pub talk_seconds: Option<i64>,
    pub converted: bool,
    pub duplicate: bool,
    /// The winner's bid or static revenue, and the talk time it needs to convert.
    pub bid_cents: Option<i64>,
    pub buffer_seconds: Option<i64>,
    pub revenue_cents: i64,
    pub payout_cents: i64,
    pub profit_cents: i64,
    pub tags: BTreeMap<String, String>,
}

/// A call with its timeline and auction.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CallDetail {
    #[serde(flatten)]
    pub call: CallView,
    pub events: Vec<EventView>,
    /// Every ring-tree target: those rung in the order rung, then the rest by bid.
    pub bids: Vec<BidRow>,
}

#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct EventView {
    #[serde(serialize_with = "crate::time::serialize")]
    pub at: DateTime<Utc>,
    pub kind: String,
    pub detail: Value,
}

/// A `calls` row as stored.
#[derive(sqlx::FromRow)]
pub(crate) struct CallRecord {
    id: Uuid,
    organization_id: OrgId,
    node_id: Uuid,
    campaign_id: Uuid,
    publisher_id: Option<Uuid>,
    number_id: Option<Uuid>,
    inbound_trunk_id: Option<Uuid>,
    buyer_id: Option<Uuid>,
    target_id: Option<Uuid>,
    caller: Option<String>,
    caller_anonymous: bool,
    dialed: String,
    sip_call_id: String,
    status: String,
    end_reason: Option<String>,
    sip_status: Option<i64>,
    started_at: DateTime<Utc>,
    answered_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    ring_ms: Option<i64>,
    talk_ms: Option<i64>,
    duplicate: bool,
    bid_cents: Option<i64>,
    buffer_seconds: Option<i64>,
    converted: bool,
    revenue_cents: i64,
    payout_cents: i64,
    tags: Json<BTreeMap<String, String>>,
}

impl From<CallRecord> for CallRow {
    fn from(r: CallRecord) -> CallRow {
        CallRow {
            id: r.id,
            org: r.organization_id,
            node_id: r.node_id,
            campaign_id: r.campaign_id,
            publisher_id: r.publisher_id,
            number_id: r.number_id,
            inbound_trunk_id: r.inbound_trunk_id,
            buyer_id: r.buyer_id,
            target_id: r.target_id,
            caller: r.caller,
            caller_anonymous: r.caller_anonymous,
            dialed: r.dialed,
            sip_call_id: r.sip_call_id,
            status: Status::parse(&r.status).unwrap_or(Status::Interrupted),
            end_reason: r.end_reason,
            sip_status: r.sip_status,
            started_at: r.started_at,
            answered_at: r.answered_at,
            ended_at: r.ended_at,
            ring_ms: r.ring_ms,
            talk_ms: r.talk_ms,
            duplicate: r.duplicate,
            bid_cents: r.bid_cents,
            buffer_seconds: r.buffer_seconds,
            converted: r.converted,
            revenue_cents: r.revenue_cents,
            payout_cents: r.payout_cents,
            tags: r.tags.0,
        }
    }
}

impl From<&CallRow> for CallView {
    fn from(r: &CallRow) -> CallView {
        CallView {
            id: r.id,
            campaign_id: r.campaign_id,
            publisher_id: r.publisher_id,
            buyer_id: r.buyer_id,
            target_id: r.target_id,
            caller: r.caller.clone(),
            caller_anonymous: r.caller_anonymous,
            dialed: r.dialed.clone(),
            status: r.status,
            end_reason: r.end_reason.clone(),
            sip_status: r.sip_status,
            started_at: r.started_at,
            answered_at: r.answered_at,
            ended_at: r.ended_at,
            ring_seconds: r.ring_ms.map(|ms| ms / 1000),
            talk_seconds: r.talk_ms.map(|ms| ms / 1000),
            converted: r.converted,
            duplicate: r.duplicate,
            bid_cents: r.bid_cents,
            buffer_seconds: r.buffer_seconds,
            revenue_cents: r.revenue_cents,
            payout_cents: r.payout_cents,
            profit_cents: r.revenue_cents - r.payout_cents,
            tags: r.tags.clone(),
        }
    }
}

fn view(record: CallRecord) -> CallView {
    CallView::from(&CallRow::from(record))
}

#[derive(sqlx::FromRow)]
struct BidRecord {
    target_id: Uuid,
    buyer_id: Uuid,
    pinged_at: Option<DateTime<Utc>>,
    latency_ms: Option<i64>,
    http_status: Option<i64>,
    bid_cents: Option<i64>,
    accepted: Option<bool>,
    outcome: String,
    reason: Option<String>,
    won: bool,
    rank: Option<i64>,
    bid_id: Option<String>,
    destination: Option<String>,
    min_duration_seconds: Option<i64>,
    reused: bool,
}

type EventRecord = (DateTime<Utc>, String, Json<Value>);

/// `query` with `binds` bound in order.
macro_rules! bound {
    ($query:expr, $binds:expr) => {{
        let mut query = $query;
        for bind in $binds {
            query = match bind {
                Bind::Id(id) => query.bind(id),
                Bind::Time(at) => query.bind(at),
                Bind::Text(text) => query.bind(text),
                Bind::Flag(flag) => query.bind(flag),
            };
        }
        query
    }};
}

/// A value bound to a filter's placeholder.
enum Bind {
    Id(Uuid),
    Time(DateTime<Utc>),
    Text(String),
    Flag(bool),
}

/// The organization's calls matching `filter`, newest first, after the call `after`.
pub async fn list(
    db: &Db,
    org: OrgId,
    filter: &Filter,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<CallView>, sqlx::Error> {
    let (sql, binds) = page(filter, after, limit);
    let records: Vec<CallRecord> = with_pool!(db, pool => {
        bound!(sqlx::query_as(&sql).bind(org), binds).fetch_all(pool).await
    })?;
    Ok(records.into_iter().map(view).collect())
}

/// [`list`]'s page on SQLite as one JSON array, newest first, of `element` (an expression
/// of a `calls` row, e.g. `json_array(…)`): one row out of SQLite's worker thread for the
/// page instead of one per call, which is where reading thousands of calls spends its time.
pub async fn list_as_json(
    pool: &sqlx::SqlitePool,
    org: OrgId,
    filter: &Filter,
    after: Option<Uuid>,
    limit: i64,
    element: &str,
) -> Result<String, sqlx::Error> {
    let (page, binds) = page(filter, after, limit);
    let sql = format!("SELECT json_group_array({element} ORDER BY id DESC) FROM ({page})");
    bound!(sqlx::query_scalar(&sql).bind(org), binds).fetch_one(pool).await
}

/// The SQL of a page of the call log and what it binds after the organization (`$1`).
fn page(filter: &Filter, after: Option<Uuid>, limit: i64) -> (String, Vec<Bind>) {
    let (mut sql, binds) = matching("SELECT * FROM calls", filter, after);
    sql.push_str(&format!(" ORDER BY id DESC LIMIT {limit}"));
    (sql, binds)
}

/// What calls add up to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct LogTotals {
    pub calls: i64,
    pub talk_ms: i64,
    pub revenue_cents: i64,
    pub payout_cents: i64,
}

/// The sums of every call of the organization matching `filter`, read from the calls
/// (the reports' rollups answer faster where they can: see `backend::calls::totals`).
pub async fn totals(db: &Db, org: OrgId, filter: &Filter) -> Result<LogTotals, sqlx::Error> {
    let (sql, binds) = matching(
        "SELECT COUNT(*) AS calls, CAST(COALESCE(SUM(talk_ms), 0) AS BIGINT) AS talk_ms, \
         CAST(COALESCE(SUM(revenue_cents), 0) AS BIGINT) AS revenue_cents, \
         CAST(COALESCE(SUM(payout_cents), 0) AS BIGINT) AS payout_cents FROM calls",
        filter,
        None,
    );
    with_pool!(db, pool => {
        bound!(sqlx::query_as(&sql).bind(org), binds).fetch_one(pool).await
    })
}

/// `select` over the organization's (`$1`) calls matching `filter` (and older than
/// `after`), and what it binds after the organization.
fn matching(select: &str, filter: &Filter, after: Option<Uuid>) -> (String, Vec<Bind>) {
    let mut sql = format!("{select} WHERE organization_id = $1");
    let mut binds = Vec::new();
    let mut and = |condition: &str, bind: Bind| {
        binds.push(bind);
        sql.push_str(&format!(" AND {condition} ${}", binds.len() + 1));
    };
    if let Some(from) = filter.from {
        and("started_at >=", Bind::Time(from));
    }
    if let Some(to) = filter.to {
        and("started_at <", Bind::Time(to));
    }
    for (column, id) in [
        ("campaign_id =", filter.campaign_id),
        ("publisher_id =", filter.publisher_id),
        ("buyer_id =", filter.buyer_id),
        ("target_id =", filter.target_id),
        ("id <", after),
    ] {
        if let Some(id) = id {
            and(column, Bind::Id(id));
        }
    }
    if let Some(status) = filter.status {
        and("status =", Bind::Text(status.as_str().to_owned()));
    }
    if let Some(converted) = filter.converted {
        and("converted =", Bind::Flag(converted));
    }
    if let Some(duplicate) = filter.duplicate {
        and("duplicate =", Bind::Flag(duplicate));
    }
    if let Some(caller) = &filter.caller {
        and("caller =", Bind::Text(caller.clone()));
    }
    (sql, binds)
}

/// The organization's calls not ended yet, newest first (at most `limit`).
pub async fn live(db: &Db, org: OrgId, limit: i64) -> Result<Vec<CallView>, sqlx::Error> {
    let sql = format!(
        "SELECT * FROM calls WHERE organization_id = $1 AND ended_at IS NULL \
         ORDER BY id DESC LIMIT {limit}"
    );
    let records: Vec<CallRecord> = with_pool!(db, pool => {
        sqlx::query_as(&sql).bind(org).fetch_all(pool).await
    })?;
    Ok(records.into_iter().map(view).collect())
}

/// A campaign's calls since a time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    pub calls: i64,
    pub connected: i64,
    pub converted: i64,
    pub revenue_cents: i64,
    pub payout_cents: i64,
}

/// The organization's campaign's totals of calls started since `since`; `None` when the
/// campaign is not the organization's.
pub async fn campaign_totals(
    db: &Db,
    org: OrgId,
    campaign: Uuid,
    since: DateTime<Utc>,
) -> Result<Option<Totals>, sqlx::Error> {
    with_pool!(db, pool => {
        let owned: Option<Uuid> = sqlx::query_scalar("SELECT id FROM campaigns WHERE organization_id = $1 AND id = $2")
            .bind(org)
            .bind(campaign)
            .fetch_optional(pool)
            .await?;
        if owned.is_none() {
            return Ok(None);
        }
        let (calls, connected, converted, revenue_cents, payout_cents): (i64, i64, i64, i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN answered_at IS NOT NULL THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN converted THEN 1 ELSE 0 END), 0), \
             CAST(COALESCE(SUM(revenue_cents), 0) AS BIGINT), CAST(COALESCE(SUM(payout_cents), 0) AS BIGINT) \
             FROM calls WHERE organization_id = $1 AND campaign_id = $2 AND started_at >= $3",
        )
        .bind(org)
        .bind(campaign)
        .bind(since)
        .fetch_one(pool)
        .await?;
        Ok(Some(Totals { calls, connected, converted, revenue_cents, payout_cents }))
    })
}

/// The zone the organization's dates are read in.
pub async fn time_zone(db: &Db, org: OrgId) -> Result<String, sqlx::Error> {
    with_pool!(db, pool => {
        sqlx::query_scalar("SELECT time_zone FROM organizations WHERE id = $1").bind(org).fetch_one(pool).await
    })
}

/// The organization's call `id` with its timeline and auction; `None` when it has none.
pub async fn get(db: &Db, org: OrgId, id: Uuid) -> Result<Option<CallDetail>, sqlx::Error> {
    let sql = "SELECT * FROM calls WHERE organization_id = $1 AND id = $2";
    let found: Option<(CallRecord, Vec<EventRecord>, Vec<BidRecord>)> = with_pool!(db, pool => {
        let Some(call) = sqlx::query_as::<_, CallRecord>(sql).bind(org).bind(id).fetch_optional(pool).await? else {
            return Ok(None);
        };
        let events = sqlx::query_as("SELECT at, kind, detail FROM call_events WHERE call_id = $1 ORDER BY at, seq")
            .bind(id)
            .fetch_all(pool)
            .await?;
        // Ring-tree order is the order the rows were written in: by rank where ranked.
        let bids = sqlx::query_as(
            "SELECT target_id, buyer_id, pinged_at, latency_ms, http_status, bid_cents, accepted, outcome, \
             reason, won, rank, bid_id, destination, min_duration_seconds, reused FROM bids WHERE call_id = $1",
        )
        .bind(id)
        .fetch_all(pool)
        .await?;
        Some((call, events, bids))
    });
    let Some((call, events, bids)) = found else { return Ok(None) };
    let mut bids: Vec<BidRow> = bids
        .into_iter()
        .map(|b| BidRow {
            target_id: b.target_id,
            buyer_id: b.buyer_id,
            pinged_at: b.pinged_at,
            latency_ms: b.latency_ms,
            http_status: b.http_status,
            bid_cents: b.bid_cents,
            accepted: b.accepted,
            outcome: Outcome::parse(&b.outcome).unwrap_or(Outcome::Failed),
            reason: b.reason,
            won: b.won,
            rank: b.rank,
            bid_id: b.bid_id,
            destination: b.destination,
            min_duration_seconds: b.min_duration_seconds,
            reused: b.reused,
        })
        .collect();
    // Rung order first, then the rest by best bid.
    bids.sort_by_key(|b| (b.rank.is_none(), b.rank, std::cmp::Reverse(b.bid_cents)));
    Ok(Some(CallDetail {
        call: view(call),
        events: events
            .into_iter()
            .map(|(at, kind, detail)| EventView { at, kind, detail: detail.0 })
            .collect(),
        bids,
    }))
}
