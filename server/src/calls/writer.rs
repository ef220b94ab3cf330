//! The batched writer: every change to call records goes through one task
//! ([`crate::db::batch`]) that writes what has gathered in one transaction, at most
//! [`WINDOW`](crate::db::batch::WINDOW) after the first change arrived. Routing never
//! waits on it. A failed write keeps its batch and tries again; on shutdown the queue
//! is written out before the process ends.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::{QueryBuilder, types::Json};
use uuid::Uuid;

use super::{BidRow, CallRow, Event};
use crate::billing::ledger::{Usage, call_usage};
use crate::db::{
    Db,
    batch::{self, Backlog, Batching, Queue},
    with_pool,
};
use crate::network::targets::Period;
use crate::webhooks::Notice;

const MAX_BATCH: usize = 5_000;

/// One change.
#[derive(Debug)]
pub enum Write {
    /// The call's row as it is now (inserted or replaced whole), with the events the
    /// change makes for webhooks (written in the same transaction: the outbox).
    Call {
        row: Box<CallRow>,
        notices: Vec<Notice>,
        /// Once the call ended: the buyers pinged for it (reused bids not counted). Its
        /// usage, this and its minutes, is written with its final row.
        pings: Option<i64>,
    },
    /// The call's auction as it is now.
    Bids(Uuid, Vec<BidRow>),
    /// Steps of the call's timeline, numbered from `first_seq`.
    Events { call: Uuid, first_seq: i64, events: Vec<Event> },
    /// The target took a call in this window.
    Taken { target: Uuid, period: Period, bucket: String },
    /// A change to the shared claims on targets.
    Claim(Claim),
}

/// A change to `target_claims` (shared counts; see `calls::counters`).
#[derive(Debug)]
pub enum Claim {
    /// The call's claim on the target (or, without a target, all its claims) let go.
    Release { call: Uuid, target: Option<Uuid> },
    /// The call's claim on the target became a connected call.
    Connected { call: Uuid, target: Uuid },
}

/// Hands changes to the writer task.
#[derive(Clone, Debug)]
pub struct Writer {
    queue: Queue<Write>,
}

pub use crate::db::batch::Flushed;

impl Writer {
    pub fn spawn(db: Db) -> (Writer, Flushed) {
        let batching = Batching { what: "call records", max: MAX_BATCH };
        let (queue, flushed) =
            batch::spawn(db, batching, Batch::of, |db, batch: &Batch| Box::pin(batch.write(db)));
        (Writer { queue }, flushed)
    }

    /// A writer whose changes go nowhere (kept, never written), for benchmarks and unit
    /// tests of what uses one.
    pub fn detached() -> Writer {
        Writer { queue: Queue::detached() }
    }

    pub fn send(&self, write: Write) {
        let bytes = write.bytes();
        if self.queue.send(write, bytes).is_err() {
            tracing::error!("the call record writer has stopped; a change is lost");
        }
    }

    /// What waits to be written.
    pub fn backlog(&self) -> &Arc<Backlog> {
        self.queue.backlog()
    }

    pub fn headroom(&self, limits: Limits) -> Headroom {
        Headroom { backlog: self.queue.backlog().clone(), limits }
    }
}

/// How far behind its writer call records may fall before new calls are turned away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The oldest change not yet written has waited this long.
    pub lag: Duration,
    /// The changes waiting hold about this much memory.
    pub bytes: usize,
}

/// Whether new calls may come in: the SIP edge answers new INVITEs 503 while the writer
/// is past its [`Limits`], so records are never queued without bound.
#[derive(Clone, Debug)]
pub struct Headroom {
    backlog: Arc<Backlog>,
    limits: Limits,
}

impl Headroom {
    pub fn left(&self) -> bool {
        self.backlog.lag() < self.limits.lag && self.backlog.bytes() < self.limits.bytes
    }
}

impl Write {
    /// About how much memory the change holds while it waits.
    fn bytes(&self) -> usize {
        /// A webhook event's payload: the call as the API shows it.
        const NOTICE: usize = 1024;
        let heap = match self {
            Write::Call { row, notices, .. } => {
                std::mem::size_of::<CallRow>()
                    + row.dialed.len()
                    + row.sip_call_id.len()
                    + row.caller.as_ref().map_or(0, String::len)
                    + row.end_reason.as_ref().map_or(0, String::len)
                    + row.tags.iter().map(|(k, v)| k.len() + v.len() + 48).sum::<usize>()
                    + notices.len() * NOTICE
            }
            Write::Bids(_, bids) => bids.len() * (std::mem::size_of::<BidRow>() + 64),
            Write::Events { events, .. } => events.len() * (std::mem::size_of::<Event>() + 256),
            Write::Taken { bucket, .. } => bucket.len(),
            Write::Claim(_) => 0,
        };
        std::mem::size_of::<Write>() + heap
    }
}

/// Changes in order, with rows written twice in a batch kept once (the last).
#[derive(Default)]
struct Batch {
    calls: Vec<CallRow>,
    notices: Vec<Notice>,
    usage: Vec<Usage>,
    bids: Vec<(Uuid, Vec<BidRow>)>,
    events: Vec<(Uuid, i64, Event)>,
    /// Calls taken per target and window, summed.
    taken: HashMap<(Uuid, Period, String), i64>,
    /// Shared claims that became connected calls, and those let go (a claim let go is
    /// gone, whatever happened to it before, so the order between the two is moot).
    connected: Vec<(Uuid, Uuid)>,
    released: Vec<(Uuid, Uuid)>,
    released_calls: Vec<Uuid>,
}

impl Batch {
    fn of(writes: Vec<Write>) -> Batch {
        let mut batch = Batch::default();
        let mut call_at: HashMap<Uuid, usize> = HashMap::new();
        let mut bids_at: HashMap<Uuid, usize> = HashMap::new();
        for write in writes {
            match write {
                Write::Call { row, notices, pings } => {
                    batch.notices.extend(notices);
                    if let Some(pings) = pings {
                        batch.usage.extend(call_usage(&row, pings, chrono::Utc::now()));
                    }
                    match call_at.get(&row.id) {
                        Some(&index) => batch.calls[index] = *row,
                        None => {
                            call_at.insert(row.id, batch.calls.len());
                            batch.calls.push(*row);
                        }
                    }
                }
                Write::Bids(call, rows) => match bids_at.get(&call) {
                    Some(&index) => batch.bids[index].1 = rows,
                    None => {
                        bids_at.insert(call, batch.bids.len());
                        batch.bids.push((call, rows));
                    }
                },
                Write::Events { call, first_seq, events } => batch.events.extend(
                    events
                        .into_iter()
                        .enumerate()
                        .map(|(i, event)| (call, first_seq + i as i64, event)),
                ),
                Write::Taken { target, period, bucket } => {
                    *batch.taken.entry((target, period, bucket)).or_default() += 1;
                }
                Write::Claim(Claim::Connected { call, target }) => {
                    batch.connected.push((call, target))
                }
                Write::Claim(Claim::Release { call, target: Some(target) }) => {
                    batch.released.push((call, target))
                }
                Write::Claim(Claim::Release { call, target: None }) => {
                    batch.released_calls.push(call)
                }
            }
        }
        batch
    }

    /// Writes the batch in one transaction, each table in multi-row statements: the
    /// calls' rows with their timelines and auctions, the webhook events of the changes
    /// and the usage of calls that ended.
    async fn write(&self, db: &Db) -> Result<(), sqlx::Error> {
        let now = chrono::Utc::now();
        let bids: Vec<(Uuid, &BidRow)> = self
            .bids
            .iter()
            .flat_map(|(call, bids)| bids.iter().map(move |bid| (*call, bid)))
            .collect();
        // In one order on every node, so nodes adding to the same counts take their row
        // locks in the same order and never deadlock.
        let mut taken: Vec<_> = self.taken.iter().collect();
        taken.sort_by(|(a, _), (b, _)| (a.0, a.1.as_str(), &a.2).cmp(&(b.0, b.1.as_str(), &b.2)));
        with_pool!(db, pool => {
            let mut tx = pool.begin().await?;
            for chunk in self.calls.chunks(ROWS) {
                let mut query = QueryBuilder::new(INSERT_CALLS);
                query.push_values(chunk, |mut row, call| {
                    row.push_bind(call.id)
                        .push_bind(call.org)
                        .push_bind(call.node_id)
                        .push_bind(call.campaign_id)
                        .push_bind(call.publisher_id)
                        .push_bind(call.number_id)
                        .push_bind(call.inbound_trunk_id)
                        .push_bind(call.buyer_id)
                        .push_bind(call.target_id)
                        .push_bind(&call.caller)
                        .push_bind(call.caller_anonymous)
                        .push_bind(&call.dialed)
                        .push_bind(&call.sip_call_id)
                        .push_bind(call.status.as_str())
                        .push_bind(&call.end_reason)
                        .push_bind(call.sip_status)
                        .push_bind(call.started_at)
                        .push_bind(call.answered_at)
                        .push_bind(call.ended_at)
                        .push_bind(call.ring_ms)
                        .push_bind(call.talk_ms)
                        .push_bind(call.duplicate)
                        .push_bind(call.bid_cents)
                        .push_bind(call.buffer_seconds)
                        .push_bind(call.converted)
                        .push_bind(call.revenue_cents)
                        .push_bind(call.payout_cents)
                        .push_bind(Json(&call.tags));
                });
                query.push(UPSERT_CALLS);
                query.build().execute(&mut *tx).await?;
            }
            for chunk in self.notices.chunks(ROWS) {
                let mut query = QueryBuilder::new(
                    "INSERT INTO webhook_events (id, organization_id, call_id, seq, event, at, payload) ",
                );
                query.push_values(chunk, |mut row, notice| {
                    row.push_bind(notice.id)
                        .push_bind(notice.org)
                        .push_bind(notice.call)
                        .push_bind(notice.seq)
                        .push_bind(notice.event.as_str())
                        .push_bind(notice.at)
                        .push_bind(Json(&notice.payload));
                });
                // Kept as it was: the writer may write a batch twice after a failed commit.
                query.push(" ON CONFLICT (call_id, seq) DO NOTHING");
                query.build().execute(&mut *tx).await?;
            }
            for chunk in bids.chunks(ROWS) {
                let mut query = QueryBuilder::new(INSERT_BIDS);
                query.push_values(chunk, |mut row, (call, bid)| {
                    row.push_bind(*call)
                        .push_bind(bid.target_id)
                        .push_bind(bid.buyer_id)
                        .push_bind(bid.pinged_at)
                        .push_bind(bid.latency_ms)
                        .push_bind(bid.http_status)
                        .push_bind(bid.bid_cents)
                        .push_bind(bid.accepted)
                        .push_bind(bid.outcome.as_str())
                        .push_bind(&bid.reason)
                        .push_bind(bid.won)
                        .push_bind(&bid.bid_id)
                        .push_bind(&bid.destination)
                        .push_bind(bid.min_duration_seconds)
                        .push_bind(bid.rank)
                        .push_bind(bid.reused);
                });
                query.push(UPSERT_BIDS);
                query.build().execute(&mut *tx).await?;
            }
            for chunk in self.events.chunks(ROWS) {
                let mut query =
                    QueryBuilder::new("INSERT INTO call_events (call_id, seq, at, kind, detail) ");
                query.push_values(chunk, |mut row, (call, seq, event)| {
                    row.push_bind(*call)
                        .push_bind(*seq)
                        .push_bind(event.at)
                        .push_bind(event.kind)
                        .push_bind(Json(&event.detail));
                });
                query.push(" ON CONFLICT (call_id, seq) DO NOTHING");
                query.build().execute(&mut *tx).await?;
            }
            for chunk in self.usage.chunks(ROWS) {
                let mut query = QueryBuilder::new(
                    "INSERT INTO usage_records (id, organization_id, meter, quantity, source, \
                     occurred_at, recorded_at, next_attempt_at) ",
                );
                query.push_values(chunk, |mut row, usage| {
                    row.push_bind(usage.id)
                        .push_bind(usage.org)
                        .push_bind(usage.meter.as_str())
                        .push_bind(usage.quantity)
                        .push_bind(&usage.source)
                        .push_bind(usage.at)
                        .push_bind(now)
                        .push_bind(now);
                });
                // Written once: the writer may write a batch twice after a failed commit.
                query.push(" ON CONFLICT (meter, source) DO NOTHING");
                query.build().execute(&mut *tx).await?;
            }
            for chunk in taken.chunks(ROWS) {
                let mut query =
                    QueryBuilder::new("INSERT INTO target_counts (target_id, period, bucket, calls) ");
                query.push_values(chunk, |mut row, ((target, period, bucket), calls)| {
                    row.push_bind(*target).push_bind(period.as_str()).push_bind(bucket).push_bind(**calls);
                });
                query.push(
                    " ON CONFLICT (target_id, period, bucket) DO UPDATE SET calls = target_counts.calls + excluded.calls",
                );
                query.build().execute(&mut *tx).await?;
            }
            for chunk in self.connected.chunks(ROWS) {
                let mut query = QueryBuilder::new("UPDATE target_claims SET connected = TRUE WHERE ");
                claims(&mut query, chunk);
                query.build().execute(&mut *tx).await?;
            }
            for chunk in self.released.chunks(ROWS) {
                let mut query = QueryBuilder::new("DELETE FROM target_claims WHERE ");
                claims(&mut query, chunk);
                query.build().execute(&mut *tx).await?;
            }
            for chunk in self.released_calls.chunks(ROWS) {
                let mut query = QueryBuilder::new("DELETE FROM target_claims WHERE call_id IN ");
                query.push_tuples(chunk, |mut row, call| {
                    row.push_bind(*call);
                });
                query.build().execute(&mut *tx).await?;
            }
            tx.commit().await
        })
    }
}

/// Rows per statement: the largest (calls) binds 28 parameters a row, well within
/// both backends' limits, and building a statement stays short work for the runtime.
const ROWS: usize = 100;

/// `(call_id = $ AND target_id = $) OR …` for each claim.
fn claims<DB: sqlx::Database>(query: &mut QueryBuilder<'_, DB>, claims: &[(Uuid, Uuid)])
where
    Uuid: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    let mut or = query.separated(" OR ");
    for (call, target) in claims {
        or.push("(call_id = ").push_bind_unseparated(*call);
        or.push_unseparated(" AND target_id = ")
            .push_bind_unseparated(*target)
            .push_unseparated(")");
    }
}

const INSERT_CALLS: &str = "INSERT INTO calls (id, organization_id, node_id, campaign_id, publisher_id, \
    number_id, inbound_trunk_id, buyer_id, target_id, caller, caller_anonymous, dialed, sip_call_id, \
    status, end_reason, sip_status, started_at, answered_at, ended_at, ring_ms, talk_ms, duplicate, \
    bid_cents, buffer_seconds, converted, revenue_cents, payout_cents, tags) ";

const UPSERT_CALLS: &str = " ON CONFLICT (id) DO UPDATE SET buyer_id = excluded.buyer_id, \
    target_id = excluded.target_id, status = excluded.status, end_reason = excluded.end_reason, \
    sip_status = excluded.sip_status, answered_at = excluded.answered_at, \
    ended_at = excluded.ended_at, ring_ms = excluded.ring_ms, talk_ms = excluded.talk_ms, \
    duplicate = excluded.duplicate, bid_cents = excluded.bid_cents, \
    buffer_seconds = excluded.buffer_seconds, converted = excluded.converted, \
    revenue_cents = excluded.revenue_cents, payout_cents = excluded.payout_cents, tags = excluded.tags";

const INSERT_BIDS: &str = "INSERT INTO bids (call_id, target_id, buyer_id, pinged_at, latency_ms, \
    http_status, bid_cents, accepted, outcome, reason, won, bid_id, destination, \
    min_duration_seconds, rank, reused) ";

const UPSERT_BIDS: &str = " ON CONFLICT (call_id, target_id) DO UPDATE SET outcome = excluded.outcome, \
    reason = excluded.reason, won = excluded.won";
