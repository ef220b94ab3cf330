//! The routing snapshot: an immutable, in-memory copy of all routing configuration,
//! swapped atomically when the configuration changes. The hot path only ever calls
//! [`Routing::current`] — one atomic load, no lock, no database.
//!
//! Every configuration change bumps `routing_config_version` in its own transaction.
//! Each node polls that one-row table every [`POLL_INTERVAL`] and rebuilds its snapshot
//! when the number moved, so a change made on one node reaches every node sharing the
//! database well within a second, with SQLite and PostgreSQL alike.

use std::{collections::HashMap, sync::Arc, time::Duration};

use arc_swap::ArcSwap;
use uuid::Uuid;

use crate::{
    accounts::OrgId,
    db::{Db, with_pool},
    network::Status,
};

pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// A buyer as routing needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuyerEntry {
    pub org: OrgId,
    pub status: Status,
}

/// All routing configuration at one version. Never changed once built.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub version: i64,
    pub buyers: HashMap<Uuid, BuyerEntry>,
}

impl Snapshot {
    /// The organization's buyers in this snapshot: (active, paused).
    pub fn buyer_counts(&self, org: OrgId) -> (usize, usize) {
        self.buyers.values().filter(|buyer| buyer.org == org).fold(
            (0, 0),
            |(active, paused), buyer| match buyer.status {
                Status::Active => (active + 1, paused),
                Status::Paused => (active, paused + 1),
            },
        )
    }

    /// Reads the version and everything it covers in one transaction, so the snapshot
    /// is exactly the configuration at that version.
    async fn load(db: &Db) -> Result<Self, sqlx::Error> {
        with_pool!(db, pool => {
            let mut tx = pool.begin().await?;
            let version: i64 = sqlx::query_scalar("SELECT version FROM routing_config_version WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
            let rows: Vec<(Uuid, OrgId, String)> =
                sqlx::query_as("SELECT id, organization_id, status FROM buyers")
                    .fetch_all(&mut *tx)
                    .await?;
            tx.commit().await?;
            let buyers = rows
                .into_iter()
                .filter_map(|(id, org, status)| Some((id, BuyerEntry { org, status: Status::parse(&status)? })))
                .collect();
            Ok(Self { version, buyers })
        })
    }
}

/// The node's current snapshot, and the task that keeps it fresh.
#[derive(Clone)]
pub struct Routing {
    current: Arc<ArcSwap<Snapshot>>,
}

impl Routing {
    /// Loads the first snapshot; start-up fails if the database cannot give one.
    pub async fn load(db: &Db) -> Result<Self, sqlx::Error> {
        let snapshot = Snapshot::load(db).await?;
        Ok(Self { current: Arc::new(ArcSwap::from_pointee(snapshot)) })
    }

    /// The snapshot in force now. Cheap: one atomic load.
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Polls the version and rebuilds the snapshot when it moved. A failed poll or
    /// rebuild keeps the last good snapshot and is retried on the next tick.
    pub fn spawn_refresh(&self, db: Db) {
        let routing = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(POLL_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(error) = routing.refresh(&db).await {
                    tracing::warn!(%error, "could not refresh the routing snapshot; keeping the last one");
                }
            }
        });
    }

    async fn refresh(&self, db: &Db) -> Result<(), sqlx::Error> {
        let version: i64 = with_pool!(db, pool => {
            sqlx::query_scalar("SELECT version FROM routing_config_version WHERE id = 1").fetch_one(pool).await
        })?;
        if version == self.current.load().version {
            return Ok(());
        }
        let snapshot = Snapshot::load(db).await?;
        tracing::info!(
            version = snapshot.version,
            buyers = snapshot.buyers.len(),
            "routing snapshot rebuilt"
        );
        self.current.store(Arc::new(snapshot));
        Ok(())
    }
}
