//! Nodes on one PostgreSQL share their lease books: every [`POLL_INTERVAL`] each node
//! reads the leases the others wrote (`dni_leases.node_id`, `changed_at`) into its own
//! book, so a visitor's renewal, a returning visitor and a call to a leased number are
//! answered alike by any node; and the live nodes (their heartbeats) tell each node
//! which numbers to hand out first, so two nodes rarely reach for the same number in
//! the moment before they hear from each other. SQLite serves one node: nothing to
//! share.

use std::sync::Weak;
use std::time::Duration;

use chrono::Utc;
use uuid::Uuid;

use super::{book::Book, store};
use crate::{calls::recovery, db::Db, routing::snapshot::Routing};

pub const POLL_INTERVAL: Duration = Duration::from_millis(200);
/// How far back each poll reads again: a write whose transaction began before the last
/// poll may commit after it, and node clocks differ a little.
const OVERLAP: chrono::Duration = chrono::Duration::seconds(2);
/// Polls between two readings of the live nodes.
const NODES_EVERY: u64 = 25;

/// Runs until the book is gone.
pub fn spawn(db: Db, node: Uuid, routing: Routing, book: Weak<Book>, tasks: &crate::tasks::Tasks) {
    tasks.spawn("DNI share", async move {
        let mut since = Utc::now() - OVERLAP;
        let mut tick = tokio::time::interval(POLL_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut polls = 0u64;
        loop {
            tick.tick().await;
            let Some(book) = book.upgrade() else { break };
            if polls.is_multiple_of(NODES_EVERY) {
                match recovery::live_nodes(&db, Utc::now()).await {
                    Ok(nodes) => book.set_nodes(node, nodes),
                    Err(error) => tracing::warn!(%error, "could not read the live nodes"),
                }
            }
            polls += 1;
            match store::written_by_others(&db, node, since - OVERLAP).await {
                Ok(written) => {
                    let snapshot = routing.current();
                    let now = Utc::now();
                    for (lease, at) in written {
                        since = since.max(at);
                        book.merge(&snapshot, lease, now);
                    }
                }
                Err(error) => tracing::warn!(%error, "could not read other nodes' DNI leases"),
            }
        }
    });
}
