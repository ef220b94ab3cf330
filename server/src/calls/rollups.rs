//! What reports read instead of raw calls: per organization, UTC hour (of the call's
//! start) and dimension, the sums of the calls. Whoever changes a call moves the rollups
//! in the same transaction by the difference between what the call added up to before
//! and after, so reports are exact to the cent: the recorder hands the writer each change
//! with what it replaces (the writer reads nothing back; a failed batch rolls back whole
//! and is written again), and a postback reads the row it changes under its lock.

use std::collections::HashMap;

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use uuid::Uuid;

use super::{BidRow, CallRow, Status};
use crate::accounts::OrgId;

/// What a rollup row sums calls by.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum Dimension {
    /// Every call of the organization (one key, `""`).
    All,
    Campaign,
    Publisher,
    /// The buyer the call connected to; its bids count for the buyers that made them.
    Buyer,
    /// Likewise per target.
    Target,
    /// The tracking number dialed.
    Number,
    /// The caller's state or province (`caller.state`), from the number's area.
    CallerState,
    /// A tag of the call (its key in the call's tags, `tag.NAME`) that [`is_rolled_up`]:
    /// one row per value; calls without the tag have none (reports count them as the
    /// rest of [`Dimension::All`]).
    Tag(String),
}

impl Dimension {
    pub fn as_str(&self) -> &str {
        match self {
            Dimension::All => "all",
            Dimension::Campaign => "campaign",
            Dimension::Publisher => "publisher",
            Dimension::Buyer => "buyer",
            Dimension::Target => "target",
            Dimension::Number => "number",
            Dimension::CallerState => "caller_state",
            Dimension::Tag(key) => key,
        }
    }
}

/// Tags that identify a visit or a click rather than group calls: a row per call each,
/// were they rolled up. Pivots on them read the calls.
const IDENTIFYING_TAGS: &[&str] = &[
    "tag.visitor_id",
    "tag.gclid",
    "tag.gbraid",
    "tag.wbraid",
    "tag.fbclid",
    "tag.msclkid",
    "tag.landing_page",
    "tag.referrer",
    "tag.page",
];

/// Whether the rollups keep a row per value of the call tag `key` (`tag.NAME`): every
/// DNI and publisher tag but those that identify a visit. Migration 23 rebuilds the
/// rollups by the same rule; changing it needs a migration that rebuilds them again.
pub fn is_rolled_up(key: &str) -> bool {
    key.starts_with("tag.") && !IDENTIFYING_TAGS.contains(&key)
}

/// The sums a rollup row keeps; reports derive rates and averages from them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Sums {
    pub calls: i64,
    /// Answered by a buyer.
    pub connected: i64,
    pub converted: i64,
    pub duplicates: i64,
    pub rejected: i64,
    /// Ended without a buyer answering, not rejected (failed or abandoned).
    pub no_answer: i64,
    pub revenue_cents: i64,
    pub payout_cents: i64,
    pub talk_ms: i64,
    /// Buyers pinged (RTB).
    pub pings: i64,
    /// Pings answered with a bid.
    pub bids: i64,
    pub bids_won: i64,
    /// What those bids offered, summed.
    pub bid_cents: i64,
}

impl Sums {
    pub fn add(&mut self, other: &Sums, sign: i64) {
        self.calls += sign * other.calls;
        self.connected += sign * other.connected;
        self.converted += sign * other.converted;
        self.duplicates += sign * other.duplicates;
        self.rejected += sign * other.rejected;
        self.no_answer += sign * other.no_answer;
        self.revenue_cents += sign * other.revenue_cents;
        self.payout_cents += sign * other.payout_cents;
        self.talk_ms += sign * other.talk_ms;
        self.pings += sign * other.pings;
        self.bids += sign * other.bids;
        self.bids_won += sign * other.bids_won;
        self.bid_cents += sign * other.bid_cents;
    }

    fn is_zero(&self) -> bool {
        *self == Sums::default()
    }

    /// What the call itself adds (its bids aside).
    fn of_call(call: &CallFacts) -> Sums {
        Sums {
            calls: 1,
            connected: call.answered.into(),
            converted: call.converted.into(),
            duplicates: call.duplicate.into(),
            rejected: (call.status == Status::Rejected).into(),
            no_answer: matches!(call.status, Status::Failed | Status::Abandoned).into(),
            revenue_cents: call.revenue_cents,
            payout_cents: call.payout_cents,
            talk_ms: call.talk_ms.unwrap_or(0),
            ..Sums::default()
        }
    }

    /// What one row of a call's auction adds: a ping, and a bid if the buyer made one
    /// (a static target's price is no bid).
    fn of_bid(bid: &BidFacts) -> Sums {
        let bid_cents = bid.bid_cents.filter(|_| bid.pinged);
        Sums {
            pings: bid.pinged.into(),
            bids: bid_cents.is_some().into(),
            bids_won: (bid.won && bid_cents.is_some()).into(),
            bid_cents: bid_cents.unwrap_or(0),
            ..Sums::default()
        }
    }
}

/// What rollups count of a call: where it counts, and its own figures.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CallFacts {
    pub id: Uuid,
    pub org: OrgId,
    pub started_at: DateTime<Utc>,
    pub campaign_id: Uuid,
    pub publisher_id: Option<Uuid>,
    pub number_id: Option<Uuid>,
    pub buyer_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    /// The `caller.state` tag.
    pub caller_state: Option<String>,
    /// The tags [`is_rolled_up`], by key.
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    pub status: Status,
    pub answered: bool,
    pub converted: bool,
    pub duplicate: bool,
    pub revenue_cents: i64,
    pub payout_cents: i64,
    pub talk_ms: Option<i64>,
}

impl From<&CallRow> for CallFacts {
    fn from(call: &CallRow) -> CallFacts {
        CallFacts {
            id: call.id,
            org: call.org,
            started_at: call.started_at,
            campaign_id: call.campaign_id,
            publisher_id: call.publisher_id,
            number_id: call.number_id,
            buyer_id: call.buyer_id,
            target_id: call.target_id,
            caller_state: call.tags.get("caller.state").cloned(),
            tags: call
                .tags
                .iter()
                .filter(|(key, _)| is_rolled_up(key))
                .map(|(key, value)| (key.clone(), value.clone()))
                .collect(),
            status: call.status,
            answered: call.answered_at.is_some(),
            converted: call.converted,
            duplicate: call.duplicate,
            revenue_cents: call.revenue_cents,
            payout_cents: call.payout_cents,
            talk_ms: call.talk_ms,
        }
    }
}

/// What rollups count of one row of a call's auction.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BidFacts {
    pub buyer_id: Uuid,
    pub target_id: Uuid,
    pub pinged: bool,
    pub bid_cents: Option<i64>,
    pub won: bool,
}

impl From<&BidRow> for BidFacts {
    fn from(bid: &BidRow) -> BidFacts {
        BidFacts {
            buyer_id: bid.buyer_id,
            target_id: bid.target_id,
            pinged: bid.pinged_at.is_some(),
            bid_cents: bid.bid_cents,
            won: bid.won,
        }
    }
}

/// A rollup row's key.
#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Key {
    pub org: OrgId,
    pub dimension: Dimension,
    /// The UTC hour the calls started in.
    pub hour: DateTime<Utc>,
    /// The id or state; `""` for [`Dimension::All`] and for calls without one.
    pub key: String,
}

/// The hour `at` falls in.
pub fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::hours(1)).unwrap_or(at)
}

fn id(id: Option<Uuid>) -> String {
    id.map(|id| id.to_string()).unwrap_or_default()
}

/// Changes to rollups, summed per row.
#[derive(Debug, Default)]
pub struct Deltas(HashMap<Key, Sums>);

impl Deltas {
    fn add(&mut self, call: &CallFacts, dimension: Dimension, key: String, sums: &Sums, sign: i64) {
        let key = Key { org: call.org, dimension, hour: hour_of(call.started_at), key };
        self.0.entry(key).or_default().add(sums, sign);
    }

    /// Adds (`sign` 1) or takes away (-1) what `call` adds up to, its auction aside.
    pub fn call(&mut self, call: &CallFacts, sign: i64) {
        let sums = Sums::of_call(call);
        self.shared(call, &sums, sign);
        self.add(call, Dimension::Buyer, id(call.buyer_id), &sums, sign);
        self.add(call, Dimension::Target, id(call.target_id), &sums, sign);
    }

    /// Adds or takes away what `call`'s auction `bids` add up to: to the call's own
    /// dimensions, and to each bid's buyer and target.
    pub fn bids<'a>(
        &mut self,
        call: &CallFacts,
        bids: impl IntoIterator<Item = &'a BidFacts>,
        sign: i64,
    ) {
        for bid in bids {
            let sums = Sums::of_bid(bid);
            if sums.is_zero() {
                continue;
            }
            self.shared(call, &sums, sign);
            self.add(call, Dimension::Buyer, bid.buyer_id.to_string(), &sums, sign);
            self.add(call, Dimension::Target, bid.target_id.to_string(), &sums, sign);
        }
    }

    /// The dimensions a call and its bids count in alike.
    fn shared(&mut self, call: &CallFacts, sums: &Sums, sign: i64) {
        let state = call.caller_state.clone().unwrap_or_default();
        self.add(call, Dimension::All, String::new(), sums, sign);
        self.add(call, Dimension::Campaign, call.campaign_id.to_string(), sums, sign);
        self.add(call, Dimension::Publisher, id(call.publisher_id), sums, sign);
        self.add(call, Dimension::Number, id(call.number_id), sums, sign);
        self.add(call, Dimension::CallerState, state, sums, sign);
        for (key, value) in &call.tags {
            self.add(call, Dimension::Tag(key.clone()), value.clone(), sums, sign);
        }
    }

    /// The rows that change, in key order (every writer locks rollup rows in one order).
    pub fn into_sorted(self) -> Vec<(Key, Sums)> {
        let mut rows: Vec<(Key, Sums)> =
            self.0.into_iter().filter(|(_, sums)| !sums.is_zero()).collect();
        rows.sort_by(|(a, _), (b, _)| a.cmp(b));
        rows
    }
}

const UPSERT: &str = " ON CONFLICT (organization_id, dimension, hour, key) DO UPDATE SET \
    calls = call_rollups.calls + excluded.calls, \
    connected = call_rollups.connected + excluded.connected, \
    converted = call_rollups.converted + excluded.converted, \
    duplicates = call_rollups.duplicates + excluded.duplicates, \
    rejected = call_rollups.rejected + excluded.rejected, \
    no_answer = call_rollups.no_answer + excluded.no_answer, \
    revenue_cents = call_rollups.revenue_cents + excluded.revenue_cents, \
    payout_cents = call_rollups.payout_cents + excluded.payout_cents, \
    talk_ms = call_rollups.talk_ms + excluded.talk_ms, \
    pings = call_rollups.pings + excluded.pings, \
    bids = call_rollups.bids + excluded.bids, \
    bids_won = call_rollups.bids_won + excluded.bids_won, \
    bid_cents = call_rollups.bid_cents + excluded.bid_cents";

const COLUMNS: &str = "organization_id, dimension, hour, key, calls, connected, converted, \
    duplicates, rejected, no_answer, revenue_cents, payout_cents, talk_ms, pings, bids, \
    bids_won, bid_cents";

/// Moves the rollups by `rows` (from [`Deltas::into_sorted`]), in their order.
pub async fn apply_postgres(
    tx: &mut sqlx::PgConnection,
    rows: &[(Key, Sums)],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let sums = (5..=17).map(|i| format!("${i}::int8[]")).collect::<Vec<_>>().join(", ");
        format!(
            "INSERT INTO call_rollups ({COLUMNS}) SELECT {COLUMNS} FROM \
             UNNEST($1::uuid[], $2::text[], $3::timestamptz[], $4::text[], {sums}) WITH ORDINALITY \
             AS r({COLUMNS}, place) ORDER BY place{UPSERT}"
        )
    });
    let sum = |f: fn(&Sums) -> i64| rows.iter().map(|(_, s)| f(s)).collect::<Vec<i64>>();
    sqlx::query(SQL.as_str())
        .bind(rows.iter().map(|(k, _)| k.org.0).collect::<Vec<_>>())
        .bind(rows.iter().map(|(k, _)| k.dimension.as_str()).collect::<Vec<_>>())
        .bind(rows.iter().map(|(k, _)| k.hour).collect::<Vec<_>>())
        .bind(rows.iter().map(|(k, _)| k.key.as_str()).collect::<Vec<_>>())
        .bind(sum(|s| s.calls))
        .bind(sum(|s| s.connected))
        .bind(sum(|s| s.converted))
        .bind(sum(|s| s.duplicates))
        .bind(sum(|s| s.rejected))
        .bind(sum(|s| s.no_answer))
        .bind(sum(|s| s.revenue_cents))
        .bind(sum(|s| s.payout_cents))
        .bind(sum(|s| s.talk_ms))
        .bind(sum(|s| s.pings))
        .bind(sum(|s| s.bids))
        .bind(sum(|s| s.bids_won))
        .bind(sum(|s| s.bid_cents))
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// Moves the rollups by `rows`, in their order, on SQLite.
pub async fn apply_sqlite(
    tx: &mut sqlx::SqliteConnection,
    rows: &[(Key, Sums)],
) -> Result<(), sqlx::Error> {
    // 17 parameters a row.
    crate::db::chunks::execute(tx, rows, 100, |chunk| {
        let mut query = sqlx::QueryBuilder::new(format!("INSERT INTO call_rollups ({COLUMNS}) "));
        query.push_values(chunk, |mut row, (key, s)| {
            row.push_bind(key.org)
                .push_bind(key.dimension.as_str())
                .push_bind(key.hour)
                .push_bind(key.key.as_str())
                .push_bind(s.calls)
                .push_bind(s.connected)
                .push_bind(s.converted)
                .push_bind(s.duplicates)
                .push_bind(s.rejected)
                .push_bind(s.no_answer)
                .push_bind(s.revenue_cents)
                .push_bind(s.payout_cents)
                .push_bind(s.talk_ms)
                .push_bind(s.pings)
                .push_bind(s.bids)
                .push_bind(s.bids_won)
                .push_bind(s.bid_cents);
        });
        query.push(UPSERT);
        query
    })
    .await
}

/// An auction as the database holds it once `rows` are upserted over `before`: each row
/// replaces its target's whole (see the writer's `UPSERT_BIDS`); a target no row names
/// stays as it was.
pub fn upserted(before: &[BidFacts], rows: &[BidRow]) -> Vec<BidFacts> {
    let mut after: Vec<BidFacts> = before.to_vec();
    for row in rows {
        match after.iter_mut().find(|b| b.target_id == row.target_id) {
            Some(held) => *held = BidFacts::from(row),
            None => after.push(BidFacts::from(row)),
        }
    }
    after
}

/// A connection of either backend inside a transaction, for code written once for both
/// (`with_pool!`).
pub enum Conn<'a> {
    Sqlite(&'a mut sqlx::SqliteConnection),
    Postgres(&'a mut sqlx::PgConnection),
}

impl<'a> From<&'a mut sqlx::SqliteConnection> for Conn<'a> {
    fn from(conn: &'a mut sqlx::SqliteConnection) -> Self {
        Conn::Sqlite(conn)
    }
}

impl<'a> From<&'a mut sqlx::PgConnection> for Conn<'a> {
    fn from(conn: &'a mut sqlx::PgConnection) -> Self {
        Conn::Postgres(conn)
    }
}

/// Moves the rollups by what changing `before` into `after` changes (a postback).
pub async fn adjust(conn: Conn<'_>, before: &CallRow, after: &CallRow) -> Result<(), sqlx::Error> {
    let mut deltas = Deltas::default();
    deltas.call(&before.into(), -1);
    deltas.call(&after.into(), 1);
    let rows = deltas.into_sorted();
    match conn {
        Conn::Sqlite(conn) => apply_sqlite(conn, &rows).await,
        Conn::Postgres(conn) => apply_postgres(conn, &rows).await,
    }
}
