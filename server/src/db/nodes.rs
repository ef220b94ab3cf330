//! The `nodes` table: one row per start of a Bidline process.
//!
//! A node registers when it starts and marks itself stopped on a clean shutdown, so a
//! row without `stopped_at` whose process is gone is a node that crashed: the work it
//! owned (live calls, leases) can be found and recovered by its id.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{Db, with_pool};

/// What a node says about itself when it starts.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    pub id: Uuid,
    pub hostname: String,
    pub version: String,
    pub http_addr: String,
    pub started_at: DateTime<Utc>,
}

impl NodeInfo {
    pub fn new(http_addr: std::net::SocketAddr) -> Self {
        Self {
            id: Uuid::now_v7(),
            hostname: hostname(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            http_addr: http_addr.to_string(),
            started_at: Utc::now(),
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

pub async fn register(db: &Db, node: &NodeInfo) -> Result<(), sqlx::Error> {
    with_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO nodes (id, hostname, version, http_addr, started_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(node.id)
        .bind(&node.hostname)
        .bind(&node.version)
        .bind(&node.http_addr)
        .bind(node.started_at)
        .execute(pool)
        .await
        .map(drop)
    })
}

pub async fn mark_stopped(db: &Db, id: Uuid, at: DateTime<Utc>) -> Result<(), sqlx::Error> {
    with_pool!(db, pool => {
        sqlx::query("UPDATE nodes SET stopped_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(pool)
            .await
            .map(drop)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::testing::migrated_databases;

    /// Nodes that started and have not stopped cleanly, newest first.
    async fn running(db: &Db) -> Vec<(Uuid, DateTime<Utc>)> {
        with_pool!(db, pool => {
            sqlx::query_as(
                "SELECT id, started_at FROM nodes WHERE stopped_at IS NULL ORDER BY started_at DESC",
            )
            .fetch_all(pool)
            .await
            .unwrap()
        })
    }

    #[tokio::test]
    async fn a_node_is_running_from_registration_until_it_stops() {
        for (test_db, db) in migrated_databases().await {
            let node = NodeInfo::new("127.0.0.1:3000".parse().unwrap());
            register(&db, &node).await.unwrap();
            let running_now = running(&db).await;
            assert_eq!(running_now.len(), 1, "{}", test_db.backend());
            assert_eq!(running_now[0].0, node.id);
            // Both backends keep microseconds of a UTC timestamp.
            assert_eq!(
                running_now[0].1.timestamp_micros(),
                node.started_at.timestamp_micros(),
                "{}",
                test_db.backend()
            );

            mark_stopped(&db, node.id, Utc::now()).await.unwrap();
            assert!(running(&db).await.is_empty(), "{}", test_db.backend());
            db.close().await;
        }
    }
}
