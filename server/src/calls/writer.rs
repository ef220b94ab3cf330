//! The batched writer: every change to call records goes through one task
//! ([`crate::db::batch`]) that writes what has gathered in one transaction, at most
//! [`WINDOW`](crate::db::batch::WINDOW) after the first change arrived. Routing never
//! waits on it. A failed write keeps its batch and tries again; on shutdown the queue
//! is written out before the process ends.
use std::collections::HashMap;

use sqlx::types::Json;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{BidRow, CallRow, Event};
use crate::billing::ledger::record_call_usage;
use crate::db::{
    Db,
    batch::{self, Batching},
    with_pool,
};
use crate::routing::counters::Period;
use crate::webhooks::{Notice, outbox::insert_notice};

const MAX_BATCH: usize = 500;

/// One change.
#[derive(Debug)]
pub enum Write {
    /// The call's row as it is now (inserted or replaced whole), with the events the
    /// change makes for webhooks (written in the same transaction: the outbox).
    Call(Box<CallRow>, Vec<Notice>),
    /// The call's auction as it is now.
    Bids(Uuid, Vec<BidRow>),
    /// Steps of the call's timeline, numbered from `first_seq`.
    Events { call: Uuid, first_seq: i64, events: Vec<Event> },
    /// The target took a call in this window.
    Taken { target: Uuid, period: Period, bucket: String },
    /// A change to the shared claims on targets.
    Claim(Claim),
}

/// A change to `target_claims` (shared counts; see `routing::counters`).
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
    queue: mpsc::UnboundedSender<Write>,
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
        let (queue, input) = mpsc::unbounded_channel();
        std::mem::forget(input);
        Writer { queue }
    }

    pub fn send(&self, write: Write) {
        if self.queue.send(write).is_err() {
            tracing::error!("the call record writer has stopped; a change is lost");
        }
    }
}

/// Changes in order, with rows written twice in a batch kept once (the last).
#[derive(Default)]
struct Batch {
    calls: Vec<CallRow>,
    notices: Vec<Notice>,
    bids: Vec<(Uuid, Vec<BidRow>)>,
    events: Vec<(Uuid, i64, Event)>,
    taken: Vec<(Uuid, Period, String)>,
    /// Changes to shared claims, in the order they happened.
    claims: Vec<Claim>,
}

impl Batch {
    fn of(writes: Vec<Write>) -> Batch {
        let mut batch = Batch::default();
        let mut call_at: HashMap<Uuid, usize> = HashMap::new();
        let mut bids_at: HashMap<Uuid, usize> = HashMap::new();
        for write in writes {
            match write {
                Write::Call(row, notices) => {
                    batch.notices.extend(notices);
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
                    batch.taken.push((target, period, bucket))
                }
                Write::Claim(claim) => batch.claims.push(claim),
            }
        }
        batch
    }

    /// Writes the batch in one transaction: calls first, since events and bids refer to
    /// them; the webhook events of the changes with them, and the usage of calls that
    /// ended.
    async fn write(&self, db: &Db) -> Result<(), sqlx::Error> {
        with_pool!(db, pool => {
            let mut tx = pool.begin().await?;
            for call in &self.calls {
                sqlx::query(UPSERT_CALL)
                    .bind(call.id)
                    .bind(call.org)
                    .bind(call.node_id)
                    .bind(call.campaign_id)
                    .bind(call.publisher_id)
                    .bind(call.number_id)
                    .bind(call.inbound_trunk_id)
                    .bind(call.buyer_id)
                    .bind(call.target_id)
                    .bind(&call.caller)
                    .bind(call.caller_anonymous)
                    .bind(&call.dialed)
                    .bind(&call.sip_call_id)
                    .bind(call.status.as_str())
                    .bind(&call.end_reason)
                    .bind(call.sip_status)
                    .bind(call.started_at)
                    .bind(call.answered_at)
                    .bind(call.ended_at)
                    .bind(call.ring_ms)
                    .bind(call.talk_ms)
                    .bind(call.duplicate)
                    .bind(call.bid_cents)
                    .bind(call.buffer_seconds)
                    .bind(call.converted)
                    .bind(call.revenue_cents)
                    .bind(call.payout_cents)
                    .bind(Json(&call.tags))
                    .execute(&mut *tx)
                    .await?;
            }
            for notice in &self.notices {
                insert_notice!(&mut *tx, notice)?;
            }
            for (call, bids) in &self.bids {
                for bid in bids {
                    sqlx::query(UPSERT_BID)
                        .bind(call)
                        .bind(bid.target_id)
                        .bind(bid.buyer_id)
                        .bind(bid.pinged_at)
                        .bind(bid.latency_ms)
                        .bind(bid.http_status)
                        .bind(bid.bid_cents)
                        .bind(bid.accepted)
                        .bind(bid.outcome.as_str())
                        .bind(&bid.reason)
                        .bind(bid.won)
                        .bind(&bid.bid_id)
                        .bind(&bid.destination)
                        .bind(bid.min_duration_seconds)
                        .bind(bid.rank)
                        .bind(bid.reused)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            for (call, seq, event) in &self.events {
                sqlx::query(
                    "INSERT INTO call_events (call_id, seq, at, kind, detail) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (call_id, seq) DO NOTHING",
                )
                .bind(call)
                .bind(seq)
                .bind(event.at)
                .bind(event.kind)
                .bind(Json(&event.detail))
                .execute(&mut *tx)
                .await?;
            }
            // After the bids: a finished call's pings are counted from them.
            let now = chrono::Utc::now();
            for call in self.calls.iter().filter(|call| !call.status.is_live()) {
                record_call_usage!(&mut *tx, call, now)?;
            }
            for (target, period, bucket) in &self.taken {
                sqlx::query(
                    "INSERT INTO target_counts (target_id, period, bucket, calls) VALUES ($1, $2, $3, 1) \
                     ON CONFLICT (target_id, period, bucket) DO UPDATE SET calls = target_counts.calls + 1",
                )
                .bind(target)
                .bind(period.as_str())
                .bind(bucket)
                .execute(&mut *tx)
                .await?;
            }
            for claim in &self.claims {
                match claim {
                    Claim::Release { call, target: Some(target) } => {
                        sqlx::query("DELETE FROM target_claims WHERE call_id = $1 AND target_id = $2")
                            .bind(call)
                            .bind(target)
                            .execute(&mut *tx)
                            .await?;
                    }
                    Claim::Release { call, target: None } => {
                        sqlx::query("DELETE FROM target_claims WHERE call_id = $1").bind(call).execute(&mut *tx).await?;
                    }
                    Claim::Connected { call, target } => {
                        sqlx::query("UPDATE target_claims SET connected = TRUE WHERE call_id = $1 AND target_id = $2")
                            .bind(call)
                            .bind(target)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            tx.commit().await
        })
    }
}

const UPSERT_CALL: &str = "INSERT INTO calls (id, organization_id, node_id, campaign_id, publisher_id, \
    number_id, inbound_trunk_id, buyer_id, target_id, caller, caller_anonymous, dialed, sip_call_id, \
    status, end_reason, sip_status, started_at, answered_at, ended_at, ring_ms, talk_ms, duplicate, \
    bid_cents, buffer_seconds, converted, revenue_cents, payout_cents, tags) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
    $20, $21, $22, $23, $24, $25, $26, $27, $28) \
    ON CONFLICT (id) DO UPDATE SET buyer_id = excluded.buyer_id, target_id = excluded.target_id, \
    status = excluded.status, end_reason = excluded.end_reason, sip_status = excluded.sip_status, \
    answered_at = excluded.answered_at, ended_at = excluded.ended_at, ring_ms = excluded.ring_ms, \
    talk_ms = excluded.talk_ms, duplicate = excluded.duplicate, bid_cents = excluded.bid_cents, \
    buffer_seconds = excluded.buffer_seconds, converted = excluded.converted, \
    revenue_cents = excluded.revenue_cents, payout_cents = excluded.payout_cents, tags = excluded.tags";

const UPSERT_BID: &str = "INSERT INTO bids (call_id, target_id, buyer_id, pinged_at, latency_ms, \
    http_status, bid_cents, accepted, outcome, reason, won, bid_id, destination, \
    min_duration_seconds, rank, reused) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
    ON CONFLICT (call_id, target_id) DO UPDATE SET outcome = excluded.outcome, \
    reason = excluded.reason, won = excluded.won";
