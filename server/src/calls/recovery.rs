//! Calls left open by a node that died. Every node says it is alive every
//! [`HEARTBEAT`]; a node silent for [`PRESUMED_DEAD`] (or one that stopped) holds no
//! calls any more, so its open calls are closed as `interrupted` and its leases on
//! targets dropped — by whichever node notices first. SQLite serves one node only, so
//! there every other node is gone when this one starts.

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::outbox::{self, Notice, insert_notice};
use super::usage::record_call_usage;
use super::{CallRow, query::CallRecord};
use crate::{
    db::{Backend, Db, with_pool},
    webhooks::Event,
};

pub const HEARTBEAT: Duration = Duration::from_secs(5);
pub const PRESUMED_DEAD: Duration = Duration::from_secs(30);

/// Closes the calls of nodes that are gone, each with its `call.completed` webhook event
/// and its usage in the same transaction; answers how many were closed. A call ends when
/// its node was last heard from (and at most one heartbeat later), not when its closing
/// is noticed: a node down for hours does not bill its calls for those hours.
pub async fn close_orphans(
    db: &Db,
    this_node: Uuid,
    now: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    let silent_since = match db.backend() {
        // One node per SQLite file: every other node is gone.
        Backend::Sqlite => now + chrono::Duration::days(1),
        Backend::Postgres => now - chrono::Duration::from_std(PRESUMED_DEAD).unwrap_or_default(),
    };
    const DEAD: &str = "SELECT id FROM nodes WHERE id <> $1 AND (stopped_at IS NOT NULL \
        OR COALESCE(heartbeat_at, started_at) < $2)";
    // Only the dead nodes that still hold calls, with when each was last heard from.
    const HOLDING: &str = "SELECT n.id, COALESCE(n.stopped_at, n.heartbeat_at, n.started_at) FROM nodes n \
        WHERE n.id <> $1 AND (n.stopped_at IS NOT NULL OR COALESCE(n.heartbeat_at, n.started_at) < $2) \
        AND EXISTS (SELECT 1 FROM calls c WHERE c.node_id = n.id AND c.ended_at IS NULL)";
    // RETURNING names exactly the calls this transaction closed, when nodes race.
    // Never before the call was answered (or began): a call taken after the node's last
    // recorded heartbeat ends when it began to be billed. The node is checked dead again.
    let close = format!(
        "UPDATE calls SET status = 'interrupted', \
         end_reason = 'its node stopped while the call was live', \
         ended_at = CASE WHEN $2 < COALESCE(answered_at, started_at) \
             THEN COALESCE(answered_at, started_at) ELSE $2 END \
         WHERE ended_at IS NULL AND node_id = $1 AND node_id IN ({dead}) RETURNING *",
        dead = DEAD.replace("$1", "$3").replace("$2", "$4"),
    );
    let leases = format!("DELETE FROM target_leases WHERE node_id IN ({DEAD})");
    let heartbeat = chrono::Duration::from_std(HEARTBEAT).unwrap_or_default();
    with_pool!(db, pool => {
        // Read before the transaction: on SQLite a transaction that starts by reading
        // cannot take the write lock while another connection writes.
        let holding: Vec<(Uuid, DateTime<Utc>)> =
            sqlx::query_as(HOLDING).bind(this_node).bind(silent_since).fetch_all(pool).await?;
        let mut tx = pool.begin().await?;
        let mut records: Vec<CallRecord> = Vec::new();
        for (node, last_seen) in holding {
            let ended = (last_seen + heartbeat).min(now);
            records.extend(
                sqlx::query_as::<_, CallRecord>(&close)
                    .bind(node)
                    .bind(ended)
                    .bind(this_node)
                    .bind(silent_since)
                    .fetch_all(&mut *tx)
                    .await?,
            );
        }
        sqlx::query(&leases).bind(this_node).bind(silent_since).execute(&mut *tx).await?;
        let count = records.len() as u64;
        for record in records {
            let row = CallRow::from(record);
            let seq: i64 = sqlx::query_scalar(outbox::NEXT_SEQ)
                .bind(row.id)
                .fetch_one(&mut *tx)
                .await?;
            let notice = Notice::of(Event::CallCompleted, &row, seq, None);
            insert_notice!(&mut *tx, &notice)?;
            record_call_usage!(&mut *tx, &row, now)?;
        }
        tx.commit().await?;
        Ok(count)
    })
}

/// The nodes alive now: not stopped, and heard from within [`PRESUMED_DEAD`].
pub async fn live_nodes(db: &Db, now: DateTime<Utc>) -> Result<Vec<Uuid>, sqlx::Error> {
    let since = now - chrono::Duration::from_std(PRESUMED_DEAD).unwrap_or_default();
    with_pool!(db, pool => {
        sqlx::query_scalar(
            "SELECT id FROM nodes WHERE stopped_at IS NULL AND COALESCE(heartbeat_at, started_at) >= $1",
        )
        .bind(since)
        .fetch_all(pool)
        .await
    })
}

/// Says this node is alive, and closes the calls of nodes that are not, every
/// [`HEARTBEAT`].
pub fn spawn_heartbeat(db: Db, node: Uuid, tasks: &crate::tasks::Tasks) {
    tasks.spawn("heartbeat", async move {
        let mut tick = tokio::time::interval(HEARTBEAT);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let now = Utc::now();
            let beat = with_pool!(&db, pool => {
                sqlx::query("UPDATE nodes SET heartbeat_at = $1 WHERE id = $2").bind(now).bind(node).execute(pool).await.map(drop)
            });
            if let Err(error) = beat {
                tracing::warn!(%error, "could not record this node's heartbeat");
                continue;
            }
            match close_orphans(&db, node, now).await {
                Ok(0) => {}
                Ok(closed) => tracing::warn!(closed, "closed calls a stopped node left open"),
                Err(error) => tracing::warn!(%error, "could not close calls of stopped nodes"),
            }
        }
    });
}
