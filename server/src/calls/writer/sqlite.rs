//! The batch on SQLite: one transaction, each table in multi-row statements (few trips
//! to the database's worker thread).

use sqlx::{QueryBuilder, SqlitePool, types::Json};
use uuid::Uuid;

use super::{Batch, INSERT_BIDS, INSERT_CALLS, UPSERT_BIDS, UPSERT_CALLS};
use crate::calls::{BidRow, rollups};
use crate::db::chunks;

pub(super) async fn write(pool: &SqlitePool, batch: &Batch) -> Result<(), sqlx::Error> {
    let now = chrono::Utc::now();
    let bids: Vec<(Uuid, &BidRow)> = batch
        .bids
        .iter()
        .flat_map(|(call, bids)| bids.iter().map(move |bid| (*call, bid)))
        .collect();
    let mut tx = pool.begin().await?;
    chunks::execute(&mut tx, &batch.calls, ROWS, |chunk| {
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
        query
    })
    .await?;
    for chunk in batch.notices.chunks(ROWS) {
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
    chunks::execute(&mut tx, &bids, ROWS, |chunk| {
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
        query
    })
    .await?;
    for chunk in batch.events.chunks(ROWS) {
        let mut query =
            QueryBuilder::new("INSERT INTO call_events (call_id, seq, at, kind, detail) ");
        query.push_values(chunk, |mut row, (call, seq, event)| {
            row.push_bind(*call)
                .push_bind(*seq)
                .push_bind(event.at)
                .push_bind(event.kind.as_ref())
                .push_bind(Json(&event.detail));
        });
        query.push(" ON CONFLICT (call_id, seq) DO NOTHING");
        query.build().execute(&mut *tx).await?;
    }
    for chunk in batch.usage.chunks(ROWS) {
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
    for chunk in batch.taken.chunks(ROWS) {
        let mut query =
            QueryBuilder::new("INSERT INTO target_counts (target_id, period, bucket, calls) ");
        query.push_values(chunk, |mut row, ((target, period, bucket), calls)| {
            row.push_bind(*target).push_bind(period.as_str()).push_bind(bucket).push_bind(*calls);
        });
        query.push(
                " ON CONFLICT (target_id, period, bucket) DO UPDATE SET calls = target_counts.calls + excluded.calls",
            );
        query.build().execute(&mut *tx).await?;
    }
    // One node counts in memory and holds no leases (see `calls::counters`).
    debug_assert!(batch.leased.is_empty(), "leases on SQLite");
    rollups::apply_sqlite(&mut tx, &batch.rollups).await?;
    tx.commit().await
}

/// Rows per statement: the largest (calls) binds 28 parameters a row, well within
/// SQLite's limit, and building a statement stays short work for the runtime.
const ROWS: usize = 100;
