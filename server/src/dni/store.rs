//! Where the lease book's changes are kept: `dni_leases` (one row per visit, written
//! whole each time it changes) and `dni_hours` (each campaign's visits per hour). One
//! task ([`crate::db::batch`]) writes what gathered within its window in one
//! transaction with multi-row statements, so thousands of leases a second cost a few
//! statements; a failed write keeps its batch and tries again; on shutdown the queue is
//! written out. Ended leases are deleted once they are older than the retention
//! ([`prune`]).
use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use sqlx::{QueryBuilder, types::Json};
use uuid::Uuid;

use super::book::{Change, Held, Hour, Lease, Sink};
use crate::{
    accounts::OrgId,
    db::{
        Db,
        batch::{self, Batching, Flushed, Queue},
        with_pool,
    },
    e164::E164,
};

const MAX_BATCH: usize = 5_000;
/// Rows per statement (15 parameters each). Building a statement is CPU work on the runtime's thread; small
/// ones let the requests queued behind it run between them (1,000-row statements held
/// a thread for milliseconds and set the lease benchmark's p99).
const ROWS_PER_STATEMENT: usize = 100;

/// Hands changes to the writer task.
#[derive(Clone)]
pub struct Writer {
    queue: Queue<Change>,
}

impl Sink for Writer {
    fn send(&self, change: Change) {
        let bytes = std::mem::size_of::<Change>() + std::mem::size_of::<Lease>();
        if self.queue.send(change, bytes).is_err() {
            tracing::error!("the DNI lease writer has stopped; a change is lost");
        }
    }
}

impl Writer {
    /// The writer of node `node` and its task; the task ends once every `Writer` is
    /// dropped and the queue is written.
    pub fn spawn(db: Db, node: Uuid) -> (Writer, Flushed) {
        let batching = Batching { what: "DNI leases", max: MAX_BATCH };
        let prepare = move |changes| Batch::of(node, changes);
        let (queue, flushed) =
            batch::spawn(db, batching, prepare, |db, batch: &Batch| Box::pin(batch.write(db)));
        (Writer { queue }, flushed)
    }
}

/// Changes with each lease kept once (the latest) and each hour's additions summed,
/// stamped with the node that made them and when they were written.
struct Batch {
    node: Uuid,
    changed_at: DateTime<Utc>,
    leases: HashMap<Uuid, Lease>,
    hours: HashMap<(Uuid, DateTime<Utc>), Hour>,
}

impl Batch {
    fn of(node: Uuid, changes: Vec<Change>) -> Batch {
        let mut batch =
            Batch { node, changed_at: Utc::now(), leases: HashMap::new(), hours: HashMap::new() };
        for change in changes {
            match change {
                Change::Lease(lease) => {
                    batch.leases.insert(lease.id, *lease);
                }
                Change::Hour(hour) => match batch.hours.get_mut(&(hour.campaign_id, hour.hour)) {
                    Some(sum) => {
                        sum.leases += hour.leases;
                        sum.exhausted += hour.exhausted;
                        sum.peak_leased = sum.peak_leased.max(hour.peak_leased);
                        sum.peak_visitors = sum.peak_visitors.max(hour.peak_visitors);
                    }
                    None => {
                        batch.hours.insert((hour.campaign_id, hour.hour), hour);
                    }
                },
            }
        }
        batch
    }

    async fn write(&self, db: &Db) -> Result<(), sqlx::Error> {
        let leases: Vec<&Lease> = self.leases.values().collect();
        with_pool!(db, pool => {
            let mut tx = pool.begin().await?;
            for chunk in leases.chunks(ROWS_PER_STATEMENT) {
                let mut query = QueryBuilder::new(
                    "INSERT INTO dni_leases (id, organization_id, campaign_id, pool_id, number_id, \
                     number, visitor_id, returning_visitor, tags, ip, leased_at, expires_at, ended_at, \
                     node_id, changed_at) ",
                );
                query.push_values(chunk, |mut row, lease| {
                    let held = lease.held.as_ref();
                    row.push_bind(lease.id)
                        .push_bind(lease.org)
                        .push_bind(lease.campaign_id)
                        .push_bind(held.map(|h| h.pool_id))
                        .push_bind(held.map(|h| h.number_id))
                        .push_bind(held.map(|h| h.number.as_str().to_owned()))
                        .push_bind(lease.visitor_id)
                        .push_bind(lease.returning)
                        .push_bind(Json(lease.tags.clone()))
                        .push_bind(lease.ip.clone())
                        .push_bind(lease.leased_at)
                        .push_bind(lease.expires_at)
                        .push_bind(lease.ended_at)
                        .push_bind(self.node)
                        .push_bind(self.changed_at);
                });
                query.push(
                    " ON CONFLICT (id) DO UPDATE SET expires_at = excluded.expires_at, \
                     ended_at = excluded.ended_at, node_id = excluded.node_id, \
                     changed_at = excluded.changed_at",
                );
                query.build().execute(&mut *tx).await?;
            }
            let hours: Vec<&Hour> = self.hours.values().collect();
            for chunk in hours.chunks(ROWS_PER_STATEMENT) {
                let mut query = QueryBuilder::new(
                    "INSERT INTO dni_hours (campaign_id, organization_id, hour, peak_leased, \
                     peak_visitors, leases, exhausted) ",
                );
                query.push_values(chunk, |mut row, hour| {
                    row.push_bind(hour.campaign_id)
                        .push_bind(hour.org)
                        .push_bind(hour.hour)
                        .push_bind(hour.peak_leased)
                        .push_bind(hour.peak_visitors)
                        .push_bind(hour.leases)
                        .push_bind(hour.exhausted);
                });
                // Several nodes add to one hour: counts add up, peaks only rise.
                query.push(
                    " ON CONFLICT (campaign_id, hour) DO UPDATE SET \
                     peak_leased = CASE WHEN excluded.peak_leased > dni_hours.peak_leased \
                       THEN excluded.peak_leased ELSE dni_hours.peak_leased END, \
                     peak_visitors = CASE WHEN excluded.peak_visitors > dni_hours.peak_visitors \
                       THEN excluded.peak_visitors ELSE dni_hours.peak_visitors END, \
                     leases = dni_hours.leases + excluded.leases, \
                     exhausted = dni_hours.exhausted + excluded.exhausted",
                );
                query.build().execute(&mut *tx).await?;
            }
            tx.commit().await
        })
    }
}

#[derive(sqlx::FromRow)]
struct LeaseRow {
    id: Uuid,
    organization_id: OrgId,
    campaign_id: Uuid,
    pool_id: Option<Uuid>,
    number_id: Option<Uuid>,
    number: Option<String>,
    visitor_id: Uuid,
    returning_visitor: bool,
    tags: Json<BTreeMap<String, String>>,
    ip: Option<String>,
    leased_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    ended_at: Option<DateTime<Utc>>,
}

impl From<LeaseRow> for Lease {
    fn from(row: LeaseRow) -> Self {
        let held = match (row.pool_id, row.number_id, row.number) {
            (Some(pool_id), Some(number_id), Some(number)) => {
                Some(Held { pool_id, number_id, number: E164::from_stored(number) })
            }
            _ => None,
        };
        Lease {
            id: row.id,
            org: row.organization_id,
            campaign_id: row.campaign_id,
            held,
            visitor_id: row.visitor_id,
            returning: row.returning_visitor,
            tags: row.tags.0,
            ip: row.ip,
            client: None,
            leased_at: row.leased_at,
            expires_at: row.expires_at,
            ended_at: row.ended_at,
        }
    }
}

/// Leases the book needs at start: those still live, and those ended since `since`
/// (they may still attribute a call).
pub async fn load(db: &Db, since: DateTime<Utc>) -> Result<Vec<Lease>, sqlx::Error> {
    let rows: Vec<LeaseRow> = with_pool!(db, pool => {
        sqlx::query_as("SELECT * FROM dni_leases WHERE ended_at IS NULL OR ended_at > $1")
            .bind(since)
            .fetch_all(pool)
            .await
    })?;
    Ok(rows.into_iter().map(Lease::from).collect())
}

/// Rows one pruning statement deletes at most, so that none holds the database long.
const PRUNE_BATCH: i64 = 5_000;

/// Deletes the leases that ended before `before`; answers how many went. Only ended
/// leases go: a live one (or one a crashed node left, which the next start ends) stays.
pub async fn prune(db: &Db, before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let mut deleted = 0;
    loop {
        let batch: u64 = with_pool!(db, pool => {
            sqlx::query(
                "DELETE FROM dni_leases WHERE id IN \
                 (SELECT id FROM dni_leases WHERE ended_at < $1 LIMIT $2)",
            )
            .bind(before)
            .bind(PRUNE_BATCH)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        deleted += batch;
        if batch < PRUNE_BATCH as u64 {
            return Ok(deleted);
        }
    }
}

/// Leases other nodes wrote after `since`, each with when it was written.
pub async fn written_by_others(
    db: &Db,
    node: Uuid,
    since: DateTime<Utc>,
) -> Result<Vec<(Lease, DateTime<Utc>)>, sqlx::Error> {
    let rows: Vec<WrittenRow> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT *, changed_at AS written_at FROM dni_leases \
             WHERE changed_at > $1 AND node_id <> $2 ORDER BY changed_at",
        )
        .bind(since)
        .bind(node)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows.into_iter().map(|row| (Lease::from(row.lease), row.written_at)).collect())
}

#[derive(sqlx::FromRow)]
struct WrittenRow {
    #[sqlx(flatten)]
    lease: LeaseRow,
    written_at: DateTime<Utc>,
}

/// The campaign's hours from `since` on, oldest first.
pub async fn hours(
    db: &Db,
    org: OrgId,
    campaign_id: Uuid,
    since: DateTime<Utc>,
) -> Result<Vec<Hour>, sqlx::Error> {
    let rows: Vec<HourRow> = with_pool!(db, pool => {
        sqlx::query_as(&format!(
            "SELECT {HOUR_COLUMNS} FROM dni_hours \
             WHERE organization_id = $1 AND campaign_id = $2 AND hour >= $3 ORDER BY hour"
        ))
        .bind(org)
        .bind(campaign_id)
        .bind(since)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows.into_iter().map(Hour::from).collect())
}

const HOUR_COLUMNS: &str =
    "campaign_id, organization_id, hour, peak_leased, peak_visitors, leases, exhausted";

type HourRow = (Uuid, OrgId, DateTime<Utc>, i64, i64, i64, i64);

impl From<HourRow> for Hour {
    fn from(row: HourRow) -> Self {
        let (campaign_id, org, hour, peak_leased, peak_visitors, leases, exhausted) = row;
        Hour { campaign_id, org, hour, peak_leased, peak_visitors, leases, exhausted }
    }
}
