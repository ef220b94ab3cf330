//! Answers a report from the rollups where they hold what it asks (one dimension or
//! rolled-up tag and time, filtered on that dimension alone, over whole hours of a
//! whole-hour zone) and from the calls themselves otherwise (two dimensions, identifying
//! tags, status filters), with the same sums.

use std::collections::HashMap;

use chrono::{DateTime, Offset, TimeZone, Timelike, Utc};
use sqlx::{Row, postgres::PgRow, sqlite::SqliteRow};
use uuid::Uuid;

use super::keys::span;
use super::request::{Filters, Group, Request};
use crate::{
    accounts::OrgId,
    calls::rollups::{Dimension, Sums, is_rolled_up},
    db::Db,
};

/// Sums per row key (one value per group, `""` for none), and which path answered.
#[derive(Debug, Default)]
pub struct Answer {
    pub rows: HashMap<Vec<String>, Sums>,
    pub from_rollups: bool,
}

pub async fn answer(db: &Db, org: OrgId, request: &Request) -> Result<Answer, sqlx::Error> {
    read(db, org, request, rollup_plan(request)).await
}

/// Where a test wants a report read from.
#[cfg(test)]
#[derive(Clone, Copy, Debug)]
pub enum Route {
    Rollups,
    Calls,
}

/// `answer`, read from `route` (rollups only where they can answer).
#[cfg(test)]
pub async fn answer_by(
    db: &Db,
    org: OrgId,
    request: &Request,
    route: Route,
) -> Result<Answer, sqlx::Error> {
    let plan = match route {
        Route::Rollups => Some(rollup_plan(request).expect("the rollups answer this request")),
        Route::Calls => None,
    };
    read(db, org, request, plan).await
}

/// Reads the rollups `plan` names, or the calls without one.
async fn read(
    db: &Db,
    org: OrgId,
    request: &Request,
    plan: Option<Plan>,
) -> Result<Answer, sqlx::Error> {
    let mut answer = match plan {
        Some(plan) => {
            Answer { rows: from_rollups(db, org, request, &plan).await?, from_rollups: true }
        }
        None => Answer { rows: from_calls(db, org, request).await?, from_rollups: false },
    };
    // A rollup row a call left (its buyer was none, then one) sums to nothing.
    answer.rows.retain(|_, sums| *sums != Sums::default());
    Ok(answer)
}

/// Which rollups answer a request: one dimension, perhaps one key of it.
#[derive(Debug, PartialEq, Eq)]
struct Plan {
    dimension: Dimension,
    key: Option<String>,
}

fn dimension_of(group: &Group) -> Option<Dimension> {
    Some(match group {
        Group::Campaign => Dimension::Campaign,
        Group::Publisher => Dimension::Publisher,
        Group::Buyer => Dimension::Buyer,
        Group::Target => Dimension::Target,
        Group::Number => Dimension::Number,
        Group::CallerState => Dimension::CallerState,
        Group::Tag(name) => return tag_dimension(name),
        Group::Time(_) => return None,
    })
}

/// The rollups of the tag `name`, if it is rolled up.
fn tag_dimension(name: &str) -> Option<Dimension> {
    let key = format!("tag.{name}");
    is_rolled_up(&key).then_some(Dimension::Tag(key))
}

fn rollup_plan(request: &Request) -> Option<Plan> {
    let Filters {
        campaign_id,
        publisher_id,
        buyer_id,
        target_id,
        number,
        status,
        converted,
        duplicate,
        tags,
    } = &request.filters;
    if number.is_some() || status.is_some() || converted.is_some() || duplicate.is_some() {
        return None;
    }
    let mut wanted: Vec<(Dimension, Option<String>)> = Vec::new();
    for group in &request.groups {
        match group {
            Group::Time(_) => {}
            other => wanted.push((dimension_of(other)?, None)),
        }
    }
    let ids = [
        (Dimension::Campaign, campaign_id),
        (Dimension::Publisher, publisher_id),
        (Dimension::Buyer, buyer_id),
        (Dimension::Target, target_id),
    ];
    let ids = ids.into_iter().filter_map(|(d, id)| Some((d, id.as_ref()?.to_string())));
    let mut tag_values = Vec::new();
    for (name, value) in tags {
        tag_values.push((tag_dimension(name)?, value.clone()));
    }
    for (dimension, value) in ids.chain(tag_values) {
        match wanted.iter_mut().find(|(d, _)| *d == dimension) {
            // Two values of one tag: no call has both; the calls say so.
            Some((_, Some(key))) if *key != value => return None,
            Some((_, key)) => *key = Some(value),
            None => wanted.push((dimension, Some(value))),
        }
    }
    if wanted.len() > 1 || !whole_hours(request) {
        return None;
    }
    let (dimension, key) = wanted.pop().unwrap_or((Dimension::All, None));
    Some(Plan { dimension, key })
}

/// Whether the range starts and ends on UTC hours and, when rows are spans of time, the
/// zone is a whole number of hours from UTC throughout (India's +05:30 is not: its days
/// start mid-hour, so its reports read calls).
fn whole_hours(request: &Request) -> bool {
    let on_hour = |at: DateTime<Utc>| at.minute() == 0 && at.second() == 0 && at.nanosecond() == 0;
    if !on_hour(request.from) || !on_hour(request.to) {
        return false;
    }
    if !request.groups.iter().any(|g| matches!(g, Group::Time(_))) {
        return true;
    }
    let mut at = request.from;
    while at < request.to {
        let offset = request.zone.offset_from_utc_datetime(&at.naive_utc()).fix().local_minus_utc();
        if offset % 3600 != 0 {
            return false;
        }
        at += chrono::Duration::hours(6);
    }
    true
}

const SUMS: &str = "calls, connected, converted, duplicates, rejected, no_answer, revenue_cents, \
    payout_cents, talk_ms, pings, bids, bids_won, bid_cents";

fn summed() -> String {
    SUMS.split(", ").map(|c| format!("CAST(SUM({c}) AS BIGINT)")).collect::<Vec<_>>().join(", ")
}

/// Reads 13 sums from `row` starting at column `first`.
fn sums_at<R: Row>(row: &R, first: usize) -> Result<Sums, sqlx::Error>
where
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    usize: sqlx::ColumnIndex<R>,
{
    let get = |i: usize| -> Result<i64, sqlx::Error> {
        Ok(row.try_get::<Option<i64>, _>(first + i)?.unwrap_or(0))
    };
    Ok(Sums {
        calls: get(0)?,
        connected: get(1)?,
        converted: get(2)?,
        duplicates: get(3)?,
        rejected: get(4)?,
        no_answer: get(5)?,
        revenue_cents: get(6)?,
        payout_cents: get(7)?,
        talk_ms: get(8)?,
        pings: get(9)?,
        bids: get(10)?,
        bids_won: get(11)?,
        bid_cents: get(12)?,
    })
}

async fn from_rollups(
    db: &Db,
    org: OrgId,
    request: &Request,
    plan: &Plan,
) -> Result<HashMap<Vec<String>, Sums>, sqlx::Error> {
    let grain = request.groups.iter().find_map(|g| match g {
        Group::Time(grain) => Some(*grain),
        _ => None,
    });
    let mut rows: HashMap<Vec<String>, Sums> = HashMap::new();
    let mut add = |key: &str, hour: Option<DateTime<Utc>>, sums: &Sums, sign: i64| {
        let values: Vec<String> = request
            .groups
            .iter()
            .map(|g| match (g, hour, grain) {
                (Group::Time(_), Some(hour), Some(grain)) => span(hour, grain, request.zone),
                _ => key.to_owned(),
            })
            .collect();
        rows.entry(values).or_default().add(sums, sign);
    };
    let read = rollup_rows(db, org, request, plan, grain.is_some()).await?;
    if matches!(plan.dimension, Dimension::Tag(_)) && plan.key.is_none() {
        // Calls without the tag have no row of it: they are the rest of all calls.
        let all = Plan { dimension: Dimension::All, key: None };
        for (_, hour, sums) in rollup_rows(db, org, request, &all, grain.is_some()).await? {
            add("", hour, &sums, 1);
        }
        for (_, hour, sums) in &read {
            add("", *hour, sums, -1);
        }
    }
    for (key, hour, sums) in &read {
        add(key, *hour, sums, 1);
    }
    Ok(rows)
}

/// The rollup rows of `plan` in the request's range: per key, and per hour if `hourly`.
async fn rollup_rows(
    db: &Db,
    org: OrgId,
    request: &Request,
    plan: &Plan,
    hourly: bool,
) -> Result<Vec<(String, Option<DateTime<Utc>>, Sums)>, sqlx::Error> {
    let key_filter = if plan.key.is_some() { " AND key = $5" } else { "" };
    let sql = if hourly {
        format!(
            "SELECT key, hour, {SUMS} FROM call_rollups WHERE organization_id = $1 AND dimension = $2 \
             AND hour >= $3 AND hour < $4{key_filter}"
        )
    } else {
        format!(
            "SELECT key, {} FROM call_rollups WHERE organization_id = $1 AND dimension = $2 \
             AND hour >= $3 AND hour < $4{key_filter} GROUP BY key",
            summed()
        )
    };
    let mut rows = Vec::new();
    macro_rules! read {
        ($pool:expr) => {{
            let mut query = sqlx::query(&sql)
                .bind(org)
                .bind(plan.dimension.as_str())
                .bind(request.from)
                .bind(request.to);
            if let Some(key) = &plan.key {
                query = query.bind(key.as_str());
            }
            for row in query.fetch_all($pool).await? {
                let key: String = row.try_get(0)?;
                rows.push(if hourly {
                    (key, Some(row.try_get(1)?), sums_at(&row, 2)?)
                } else {
                    (key, None, sums_at(&row, 1)?)
                });
            }
        }};
    }
    match db {
        Db::Sqlite(pool) => read!(pool),
        Db::Postgres(pool) => read!(pool),
    }
    Ok(rows)
}

/// How a group reads from raw calls (`c`) and, for the auction's sums, their bids (`b`).
struct Column {
    expr: String,
    kind: Kind,
}

#[derive(Clone, Copy)]
enum Kind {
    Id,
    Text,
    /// Quarter hours since the epoch: every zone's offset is a whole number of them.
    Quarter,
}

fn column(group: &Group, db: &Db, bids: bool, params: &mut Vec<Value>) -> Column {
    let postgres = matches!(db, Db::Postgres(_));
    let tag = |name: &str, params: &mut Vec<Value>| -> String {
        params.push(tag_path(name, postgres));
        let n = params.len() + PARAMS;
        if postgres { format!("c.tags ->> ${n}") } else { format!("json_extract(c.tags, ${n})") }
    };
    let (expr, kind) = match group {
        Group::Campaign => ("c.campaign_id".to_owned(), Kind::Id),
        Group::Publisher => ("c.publisher_id".to_owned(), Kind::Id),
        Group::Number => ("c.number_id".to_owned(), Kind::Id),
        Group::Buyer => ((if bids { "b.buyer_id" } else { "c.buyer_id" }).to_owned(), Kind::Id),
        Group::Target => ((if bids { "b.target_id" } else { "c.target_id" }).to_owned(), Kind::Id),
        Group::CallerState => (tag("caller.state", params), Kind::Text),
        Group::Tag(name) => (tag(&format!("tag.{name}"), params), Kind::Text),
        Group::Time(_) => (
            if postgres {
                "CAST(floor(extract(epoch FROM c.started_at) / 900) AS BIGINT)".to_owned()
            } else {
                "CAST(strftime('%s', c.started_at) AS INTEGER) / 900".to_owned()
            },
            Kind::Quarter,
        ),
    };
    Column { expr, kind }
}

/// Parameters every raw query binds first: organization, from, to.
const PARAMS: usize = 3;

/// A parameter bound after the first [`PARAMS`].
enum Value {
    Id(Uuid),
    Text(String),
    Flag(bool),
}

/// The JSON path of a key of a call's tags as each backend reads it. Calls keep what
/// routing learnt of the caller as `caller.*` and the DNI/URL tags as `tag.*`; the key is
/// letters, digits, `.`, `_` and `-` only (see `request`).
fn tag_path(name: &str, postgres: bool) -> Value {
    Value::Text(if postgres { name.to_owned() } else { format!("$.\"{name}\"") })
}

/// The filters as SQL on `c` (and `b` for buyer and target in the auction's query), each
/// value added to `values`, the parameters after the first [`PARAMS`].
fn conditions(filters: &Filters, db: &Db, bids: bool, values: &mut Vec<Value>) -> String {
    let postgres = matches!(db, Db::Postgres(_));
    let mut sql = String::new();
    let push = |sql: &mut String, column: &str, value: Value, values: &mut Vec<Value>| {
        values.push(value);
        let n = PARAMS + values.len();
        sql.push_str(&format!(" AND {column} = ${n}"));
    };
    if let Some(id) = filters.campaign_id {
        push(&mut sql, "c.campaign_id", Value::Id(id), values);
    }
    if let Some(id) = filters.publisher_id {
        push(&mut sql, "c.publisher_id", Value::Id(id), values);
    }
    if let Some(id) = filters.buyer_id {
        push(&mut sql, if bids { "b.buyer_id" } else { "c.buyer_id" }, Value::Id(id), values);
    }
    if let Some(id) = filters.target_id {
        push(&mut sql, if bids { "b.target_id" } else { "c.target_id" }, Value::Id(id), values);
    }
    if let Some(number) = &filters.number {
        push(&mut sql, "c.dialed", Value::Text(number.clone()), values);
    }
    if let Some(status) = filters.status {
        push(&mut sql, "c.status", Value::Text(status.as_str().to_owned()), values);
    }
    if let Some(flag) = filters.converted {
        push(&mut sql, "c.converted", Value::Flag(flag), values);
    }
    if let Some(flag) = filters.duplicate {
        push(&mut sql, "c.duplicate", Value::Flag(flag), values);
    }
    for (name, value) in &filters.tags {
        values.push(tag_path(&format!("tag.{name}"), postgres));
        let path = PARAMS + values.len();
        values.push(Value::Text(value.clone()));
        let n = path + 1;
        if postgres {
            sql.push_str(&format!(" AND c.tags ->> ${path} = ${n}"));
        } else {
            sql.push_str(&format!(" AND json_extract(c.tags, ${path}) = ${n}"));
        }
    }
    sql
}

const CALL_SUMS: &str = "COUNT(*), \
    CAST(SUM(CASE WHEN c.answered_at IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT), \
    CAST(SUM(CASE WHEN c.converted THEN 1 ELSE 0 END) AS BIGINT), \
    CAST(SUM(CASE WHEN c.duplicate THEN 1 ELSE 0 END) AS BIGINT), \
    CAST(SUM(CASE WHEN c.status = 'rejected' THEN 1 ELSE 0 END) AS BIGINT), \
    CAST(SUM(CASE WHEN c.status IN ('failed', 'abandoned') THEN 1 ELSE 0 END) AS BIGINT), \
    CAST(SUM(c.revenue_cents) AS BIGINT), CAST(SUM(c.payout_cents) AS BIGINT), \
    CAST(SUM(COALESCE(c.talk_ms, 0)) AS BIGINT), \
    CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT)";

/// Nine zeros (the call's own sums), then the auction's.
const BID_SUMS: &str = "CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT), \
    CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT), CAST(0 AS BIGINT), COUNT(*), \
    CAST(SUM(CASE WHEN b.bid_cents IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT), \
    CAST(SUM(CASE WHEN b.won AND b.bid_cents IS NOT NULL THEN 1 ELSE 0 END) AS BIGINT), \
    CAST(SUM(COALESCE(b.bid_cents, 0)) AS BIGINT)";

async fn from_calls(
    db: &Db,
    org: OrgId,
    request: &Request,
) -> Result<HashMap<Vec<String>, Sums>, sqlx::Error> {
    let mut rows: HashMap<Vec<String>, Sums> = HashMap::new();
    for bids in [false, true] {
        let mut values = Vec::new();
        let columns: Vec<Column> =
            request.groups.iter().map(|g| column(g, db, bids, &mut values)).collect();
        let filters = conditions(&request.filters, db, bids, &mut values);
        let keys: Vec<String> = columns.iter().map(|c| c.expr.clone()).collect();
        let group_by = (1..=keys.len()).map(|i| i.to_string()).collect::<Vec<_>>().join(", ");
        let (sums, from, pinged) = if bids {
            (BID_SUMS, "bids b JOIN calls c ON c.id = b.call_id", " AND b.pinged_at IS NOT NULL")
        } else {
            (CALL_SUMS, "calls c", "")
        };
        let select = if keys.is_empty() { String::new() } else { format!("{}, ", keys.join(", ")) };
        let grouped = if keys.is_empty() { String::new() } else { format!(" GROUP BY {group_by}") };
        let sql = format!(
            "SELECT {select}{sums} FROM {from} WHERE c.organization_id = $1 AND c.started_at >= $2 \
             AND c.started_at < $3{pinged}{filters}{grouped}"
        );
        macro_rules! read {
            ($pool:expr, $row:ty) => {{
                let mut query = sqlx::query(&sql).bind(org).bind(request.from).bind(request.to);
                for value in &values {
                    query = match value {
                        Value::Id(id) => query.bind(*id),
                        Value::Text(text) => query.bind(text.as_str()),
                        Value::Flag(flag) => query.bind(*flag),
                    };
                }
                for row in query.fetch_all($pool).await? {
                    let row: $row = row;
                    let mut key = Vec::with_capacity(columns.len());
                    for (i, (column, group)) in columns.iter().zip(&request.groups).enumerate() {
                        key.push(match (column.kind, group) {
                            (Kind::Id, _) => row
                                .try_get::<Option<Uuid>, _>(i)?
                                .map(|id| id.to_string())
                                .unwrap_or_default(),
                            (Kind::Text, _) => {
                                row.try_get::<Option<String>, _>(i)?.unwrap_or_default()
                            }
                            (Kind::Quarter, Group::Time(grain)) => {
                                let quarter: i64 = row.try_get(i)?;
                                let at = Utc
                                    .timestamp_opt(quarter * 900, 0)
                                    .single()
                                    .unwrap_or_default();
                                span(at, *grain, request.zone)
                            }
                            (Kind::Quarter, _) => String::new(),
                        });
                    }
                    let sums = sums_at(&row, columns.len())?;
                    rows.entry(key).or_default().add(&sums, 1);
                }
            }};
        }
        match db {
            Db::Sqlite(pool) => read!(pool, SqliteRow),
            Db::Postgres(pool) => read!(pool, PgRow),
        }
    }
    Ok(rows)
}
