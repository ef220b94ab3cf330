//! The batched writer: every change to call records goes through one writer
//! ([`crate::db::batch`]) that writes what has gathered in one transaction, at most
//! [`WINDOW`](crate::db::batch::WINDOW) after the first change arrived. Routing never
//! waits on it. A failed write keeps its batch and tries again; a database that cannot be
//! reached gets the batch kept in the [`Spool`] instead; on shutdown the queue is written
//! out before the process ends.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use serde::{Deserialize, Serialize};

use super::leases::Windows;
use super::outbox::Notice;
use super::rollups::{self, BidFacts, CallFacts, Deltas};
use super::usage::{Usage, call_usage};
use super::{BidRow, CallRow, Event, spool::Spool};
use crate::db::{
    Db,
    batch::{self, Backlog, Batching, Queue},
    checkpoints::Checkpoints,
};
use crate::network::targets::Period;

mod postgres;
mod sqlite;

const MAX_BATCH: usize = 5_000;

/// One change.
#[derive(Debug)]
pub enum Write {
    /// The call's row as it is now (inserted or replaced whole), with the events the
    /// change makes for webhooks (written in the same transaction: the outbox).
    Call {
        row: Box<CallRow>,
        /// What the rollups counted of the row this one replaces (`None` for the first).
        before: Option<CallFacts>,
        notices: Vec<Notice>,
        /// Once the call ended: the buyers pinged for it (reused bids not counted). Its
        /// usage, this and its minutes, is written with its final row.
        pings: Option<i64>,
    },
    /// The call's auction as it is now, and what the rollups counted of it before.
    Bids { call: CallFacts, rows: Vec<BidRow>, before: Vec<BidFacts> },
    /// Steps of the call's timeline, numbered from `first_seq`.
    Events { call: Uuid, first_seq: i64, events: Vec<Event> },
    /// The target took a call in this window.
    Taken { target: Uuid, period: Period, bucket: String },
    /// The call the target took came from `node`'s lease for `windows` (shared caps; see
    /// `calls::leases`).
    LeaseUsed { target: Uuid, node: Uuid, windows: Windows },
}

/// Hands changes to the writer task.
#[derive(Clone, Debug)]
pub struct Writer {
    queue: Queue<Write>,
}

pub use crate::db::batch::Flushed;

impl Writer {
    /// The writer, on a pool of its own ([`Db::for_writer`]), with `spool` (on PostgreSQL)
    /// for when the database cannot be reached ([`replay`] writes it out).
    pub fn spawn(db: &Db, spool: Option<Arc<Spool>>) -> (Writer, Flushed) {
        let batching = Batching { what: "call records", max: MAX_BATCH };
        let writing = db.for_writer();
        let checkpoints = Checkpoints::start(&writing);
        let (queue, flushed) =
            batch::spawn(writing.clone(), batching, Batch::of, move |db, batch: &Batch| {
                let spool = spool.clone();
                Box::pin(async move { write_or_keep(db, batch, spool.as_deref()).await })
            });
        let closed = async move {
            checkpoints.stop().await;
            writing.close().await;
        };
        (Writer { queue }, flushed.then(closed))
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
            Write::Bids { rows, before, .. } => {
                rows.len() * (std::mem::size_of::<BidRow>() + 64)
                    + before.len() * std::mem::size_of::<BidFacts>()
            }
            Write::Events { events, .. } => events.len() * (std::mem::size_of::<Event>() + 256),
            Write::Taken { bucket, .. } => bucket.len(),
            Write::LeaseUsed { .. } => 48,
        };
        std::mem::size_of::<Write>() + heap
    }
}

/// Writes `batch`, or keeps it in `spool` when the database cannot be reached or batches
/// wait there already (they go first).
async fn write_or_keep(db: &Db, batch: &Batch, spool: Option<&Spool>) -> Result<(), sqlx::Error> {
    let Some(spool) = spool else { return batch.write(db).await };
    if !spool.holding() {
        match batch.write(db).await {
            Err(error) if unreachable(&error) => tracing::warn!(
                %error,
                "the database cannot be reached; keeping call records in the spool until it can"
            ),
            written => return written,
        }
    }
    spool.keep(batch).await.map_err(|error| sqlx::Error::Io(std::io::Error::other(error)))
}

/// Whether `error` says the database is out of reach (rather than refusing a statement).
fn unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::WorkerCrashed => true,
        // Class 08: connection exceptions; 57P: the server shutting down or starting.
        sqlx::Error::Database(error) => {
            error.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57P"))
        }
        _ => false,
    }
}

/// Writes what is in the spool to the database, oldest first, as it can, forever.
pub async fn replay(spool: Arc<Spool>, db: Db) {
    loop {
        replay_oldest(&spool, &db).await;
    }
}

/// Replays every batch an earlier run left in `spool`, before this node takes calls.
pub async fn replay_spooled(spool: &Spool, db: &Db) -> usize {
    let mut replayed = 0;
    while spool.holding() {
        replay_oldest(spool, db).await;
        replayed += 1;
    }
    replayed
}

async fn replay_oldest(spool: &Spool, db: &Db) {
    let (path, batch) = spool.oldest::<Batch>().await;
    let batch = match batch {
        Ok(batch) => batch,
        Err(error) => {
            tracing::error!(%error, "a spooled batch of call records cannot be read; set aside as *.bad");
            spool.done(&path, false);
            return;
        }
    };
    while let Err(error) = batch.write(db).await {
        tracing::warn!(%error, waiting = spool.batches(), "cannot write spooled call records yet; trying again");
        tokio::time::sleep(REPLAY_PAUSE).await;
    }
    spool.done(&path, true);
}

const REPLAY_PAUSE: Duration = Duration::from_millis(500);

/// Changes in order, with rows written twice in a batch kept once (the last).
#[derive(Default, Serialize, Deserialize)]
struct Batch {
    calls: Vec<CallRow>,
    notices: Vec<Notice>,
    usage: Vec<Usage>,
    bids: Vec<(Uuid, Vec<BidRow>)>,
    events: Vec<(Uuid, i64, Event)>,
    /// Calls taken per target and window, summed, in one order on every node (so nodes
    /// adding to the same counts take their row locks in the same order).
    taken: Vec<((Uuid, Period, String), i64)>,
    /// Calls taken from leases, summed per lease, in one order likewise.
    leased: Vec<((Uuid, Uuid, Windows), i64)>,
    /// How the changes move the rollups, summed per row, in key order likewise.
    rollups: Vec<(rollups::Key, rollups::Sums)>,
}

impl Batch {
    fn of(writes: Vec<Write>) -> Batch {
        let mut batch = Batch::default();
        let mut call_at: HashMap<Uuid, usize> = HashMap::new();
        let mut bids_at: HashMap<Uuid, usize> = HashMap::new();
        let mut taken: HashMap<(Uuid, Period, String), i64> = HashMap::new();
        let mut leased: HashMap<(Uuid, Uuid, Windows), i64> = HashMap::new();
        let mut deltas = Deltas::default();
        for write in writes {
            match write {
                Write::Call { row, before, notices, pings } => {
                    if let Some(before) = &before {
                        deltas.call(before, -1);
                    }
                    deltas.call(&CallFacts::from(&*row), 1);
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
                Write::Bids { call, rows, before } => {
                    deltas.bids(&call, &before, -1);
                    deltas.bids(&call, &rollups::upserted(&before, &rows), 1);
                    match bids_at.get(&call.id) {
                        Some(&index) => batch.bids[index].1 = rows,
                        None => {
                            bids_at.insert(call.id, batch.bids.len());
                            batch.bids.push((call.id, rows));
                        }
                    }
                }
                Write::Events { call, first_seq, events } => batch.events.extend(
                    events
                        .into_iter()
                        .enumerate()
                        .map(|(i, event)| (call, first_seq + i as i64, event)),
                ),
                Write::Taken { target, period, bucket } => {
                    *taken.entry((target, period, bucket)).or_default() += 1;
                }
                Write::LeaseUsed { target, node, windows } => {
                    *leased.entry((target, node, windows)).or_default() += 1;
                }
            }
        }
        batch.taken = taken.into_iter().collect();
        batch
            .taken
            .sort_by(|(a, _), (b, _)| (a.0, a.1.as_str(), &a.2).cmp(&(b.0, b.1.as_str(), &b.2)));
        batch.leased = leased.into_iter().collect();
        batch.leased.sort_by(|(a, _), (b, _)| (a.0, a.1, &a.2.hour).cmp(&(b.0, b.1, &b.2.hour)));
        batch.rollups = deltas.into_sorted();
        batch
    }

    /// Writes the batch in one transaction: the calls' rows with their timelines and
    /// auctions, the webhook events of the changes, the usage of calls that ended, and
    /// what targets took.
    async fn write(&self, db: &Db) -> Result<(), sqlx::Error> {
        match db {
            Db::Sqlite(pool) => sqlite::write(pool, self).await,
            Db::Postgres(pool) => postgres::write(pool, self).await,
        }
    }
}

/// The columns of `calls` both backends write, in the order they bind them.
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

/// The auction as it is now replaces the row whole (a batch keeps only a call's last).
const UPSERT_BIDS: &str = " ON CONFLICT (call_id, target_id) DO UPDATE SET \
    buyer_id = excluded.buyer_id, pinged_at = excluded.pinged_at, latency_ms = excluded.latency_ms, \
    http_status = excluded.http_status, bid_cents = excluded.bid_cents, accepted = excluded.accepted, \
    outcome = excluded.outcome, reason = excluded.reason, won = excluded.won, \
    bid_id = excluded.bid_id, destination = excluded.destination, \
    min_duration_seconds = excluded.min_duration_seconds, rank = excluded.rank, reused = excluded.reused";
