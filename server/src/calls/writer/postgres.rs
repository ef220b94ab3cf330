//! The batch on PostgreSQL: one statement per table whatever the batch holds, its rows
//! bound as one array per column and unnested. The statement text never changes, so each
//! connection parses and plans it once; a multi-row `VALUES` list is a new statement for
//! every row count, planned afresh at every small batch a steady call rate makes.

use chrono::{DateTime, Utc};
use sqlx::{PgPool, types::Json};
use uuid::Uuid;

use super::super::{BidRow, rollups};
use super::{Batch, INSERT_BIDS, INSERT_CALLS, UPSERT_BIDS, UPSERT_CALLS};

pub(super) async fn write(pool: &PgPool, batch: &Batch) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    if !batch.calls.is_empty() {
        calls(batch).execute(&mut *tx).await?;
    }
    if !batch.notices.is_empty() {
        notices(batch).execute(&mut *tx).await?;
    }
    if batch.bids.iter().any(|(_, bids)| !bids.is_empty()) {
        bids(batch).execute(&mut *tx).await?;
    }
    if !batch.events.is_empty() {
        events(batch).execute(&mut *tx).await?;
    }
    if !batch.usage.is_empty() {
        usage(batch, chrono::Utc::now()).execute(&mut *tx).await?;
    }
    if !batch.taken.is_empty() {
        taken(batch).execute(&mut *tx).await?;
    }
    // After the counts, in the same order: the call moves from lease to count.
    for ((target, node, windows), calls) in &batch.leased {
        sqlx::query(
            "UPDATE target_leases SET calls = calls - $3 WHERE target_id = $1 AND node_id = $2 \
             AND hour_bucket = $4 AND day_bucket = $5 AND month_bucket = $6",
        )
        .bind(*target)
        .bind(*node)
        .bind(*calls)
        .bind(&windows.hour)
        .bind(&windows.day)
        .bind(&windows.month)
        .execute(&mut *tx)
        .await?;
    }
    rollups::apply_postgres(&mut tx, &batch.rollups).await?;
    tx.commit().await
}

type Query<'a> = sqlx::query::Query<'a, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// `UNNEST` of `columns` array parameters typed `types`, from `$1`.
fn unnest(types: &[&str]) -> String {
    let arrays: Vec<String> =
        types.iter().enumerate().map(|(i, t)| format!("${}::{t}[]", i + 1)).collect();
    format!("SELECT * FROM UNNEST({})", arrays.join(", "))
}

/// One column of `rows`.
fn column<'a, R, T>(rows: &'a [R], value: impl Fn(&'a R) -> T) -> Vec<T> {
    rows.iter().map(value).collect()
}

fn calls(batch: &Batch) -> Query<'_> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let types = [
            "uuid",
            "uuid",
            "uuid",
            "uuid",
            "uuid",
            "uuid",
            "uuid",
            "uuid",
            "uuid",
            "text",
            "bool",
            "text",
            "text",
            "text",
            "text",
            "int8",
            "timestamptz",
            "timestamptz",
            "timestamptz",
            "int8",
            "int8",
            "bool",
            "int8",
            "int8",
            "bool",
            "int8",
            "int8",
            "jsonb",
        ];
        format!("{INSERT_CALLS}{}{UPSERT_CALLS}", unnest(&types))
    });
    let c = &batch.calls;
    sqlx::query(SQL.as_str())
        .bind(column(c, |c| c.id))
        .bind(column(c, |c| c.org.0))
        .bind(column(c, |c| c.node_id))
        .bind(column(c, |c| c.campaign_id))
        .bind(column(c, |c| c.publisher_id))
        .bind(column(c, |c| c.number_id))
        .bind(column(c, |c| c.inbound_trunk_id))
        .bind(column(c, |c| c.buyer_id))
        .bind(column(c, |c| c.target_id))
        .bind(column(c, |c| c.caller.as_deref()))
        .bind(column(c, |c| c.caller_anonymous))
        .bind(column(c, |c| c.dialed.as_str()))
        .bind(column(c, |c| c.sip_call_id.as_str()))
        .bind(column(c, |c| c.status.as_str()))
        .bind(column(c, |c| c.end_reason.as_deref()))
        .bind(column(c, |c| c.sip_status))
        .bind(column(c, |c| c.started_at))
        .bind(column(c, |c| c.answered_at))
        .bind(column(c, |c| c.ended_at))
        .bind(column(c, |c| c.ring_ms))
        .bind(column(c, |c| c.talk_ms))
        .bind(column(c, |c| c.duplicate))
        .bind(column(c, |c| c.bid_cents))
        .bind(column(c, |c| c.buffer_seconds))
        .bind(column(c, |c| c.converted))
        .bind(column(c, |c| c.revenue_cents))
        .bind(column(c, |c| c.payout_cents))
        .bind(column(c, |c| Json(&c.tags)))
}

fn notices(batch: &Batch) -> Query<'_> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let types = ["uuid", "uuid", "uuid", "int8", "text", "timestamptz", "jsonb"];
        // Kept as it was: the writer may write a batch twice after a failed commit.
        format!(
            "INSERT INTO webhook_events (id, organization_id, call_id, seq, event, at, payload) \
             {} ON CONFLICT (call_id, seq) DO NOTHING",
            unnest(&types)
        )
    });
    let n = &batch.notices;
    sqlx::query(SQL.as_str())
        .bind(column(n, |n| n.id))
        .bind(column(n, |n| n.org.0))
        .bind(column(n, |n| n.call))
        .bind(column(n, |n| n.seq))
        .bind(column(n, |n| n.event.as_str()))
        .bind(column(n, |n| n.at))
        .bind(column(n, |n| Json(&n.payload)))
}

fn bids(batch: &Batch) -> Query<'_> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let types = [
            "uuid",
            "uuid",
            "uuid",
            "timestamptz",
            "int8",
            "int8",
            "int8",
            "bool",
            "text",
            "text",
            "bool",
            "text",
            "text",
            "int8",
            "int8",
            "bool",
        ];
        format!("{INSERT_BIDS}{}{UPSERT_BIDS}", unnest(&types))
    });
    let b: Vec<(Uuid, &BidRow)> = batch
        .bids
        .iter()
        .flat_map(|(call, bids)| bids.iter().map(move |bid| (*call, bid)))
        .collect();
    sqlx::query(SQL.as_str())
        .bind(column(&b, |(call, _)| *call))
        .bind(column(&b, |(_, b)| b.target_id))
        .bind(column(&b, |(_, b)| b.buyer_id))
        .bind(column(&b, |(_, b)| b.pinged_at))
        .bind(column(&b, |(_, b)| b.latency_ms))
        .bind(column(&b, |(_, b)| b.http_status))
        .bind(column(&b, |(_, b)| b.bid_cents))
        .bind(column(&b, |(_, b)| b.accepted))
        .bind(column(&b, |(_, b)| b.outcome.as_str()))
        .bind(column(&b, |(_, b)| b.reason.as_deref()))
        .bind(column(&b, |(_, b)| b.won))
        .bind(column(&b, |(_, b)| b.bid_id.as_deref()))
        .bind(column(&b, |(_, b)| b.destination.as_deref()))
        .bind(column(&b, |(_, b)| b.min_duration_seconds))
        .bind(column(&b, |(_, b)| b.rank))
        .bind(column(&b, |(_, b)| b.reused))
}

fn events(batch: &Batch) -> Query<'_> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let types = ["uuid", "int8", "timestamptz", "text", "jsonb"];
        format!(
            "INSERT INTO call_events (call_id, seq, at, kind, detail) {} \
             ON CONFLICT (call_id, seq) DO NOTHING",
            unnest(&types)
        )
    });
    let e = &batch.events;
    sqlx::query(SQL.as_str())
        .bind(column(e, |(call, _, _)| *call))
        .bind(column(e, |(_, seq, _)| *seq))
        .bind(column(e, |(_, _, event)| event.at))
        .bind(column(e, |(_, _, event)| event.kind.as_ref()))
        .bind(column(e, |(_, _, event)| Json(&event.detail)))
}

fn usage(batch: &Batch, now: DateTime<Utc>) -> Query<'_> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let types = ["uuid", "uuid", "text", "int8", "text", "timestamptz"];
        // Written once: the writer may write a batch twice after a failed commit.
        format!(
            "INSERT INTO usage_records (id, organization_id, meter, quantity, source, \
             occurred_at, recorded_at, next_attempt_at) \
             SELECT u.*, $7, $7 FROM ({}) AS u ON CONFLICT (meter, source) DO NOTHING",
            unnest(&types)
        )
    });
    let u = &batch.usage;
    sqlx::query(SQL.as_str())
        .bind(column(u, |u| u.id))
        .bind(column(u, |u| u.org.0))
        .bind(column(u, |u| u.meter.as_str()))
        .bind(column(u, |u| u.quantity))
        .bind(column(u, |u| u.source.as_str()))
        .bind(column(u, |u| u.at))
        .bind(now)
}

fn taken(batch: &Batch) -> Query<'_> {
    // In the batch's order, which is every node's (row locks taken in one order).
    const SQL: &str = "INSERT INTO target_counts (target_id, period, bucket, calls) \
        SELECT target_id, period, bucket, calls \
        FROM UNNEST($1::uuid[], $2::text[], $3::text[], $4::int8[]) WITH ORDINALITY \
        AS t(target_id, period, bucket, calls, place) ORDER BY place \
        ON CONFLICT (target_id, period, bucket) DO UPDATE SET calls = target_counts.calls + excluded.calls";
    let t = &batch.taken;
    sqlx::query(SQL)
        .bind(column(t, |((target, _, _), _)| *target))
        .bind(column(t, |((_, period, _), _)| period.as_str()))
        .bind(column(t, |((_, _, bucket), _)| bucket.as_str()))
        .bind(column(t, |(_, calls)| *calls))
}
