//! Copying SQLite's write-ahead log into the database off the writer's path.
//!
//! SQLite checkpoints on the committing connection: once the log holds
//! `wal_autocheckpoint` pages, the batch writer's commit copied them all and waited for
//! two fsyncs before its next batch could start (seeding a million calls spent 15 s of
//! its minute there). A connection of its own copies what has been committed every
//! [`EVERY`], concurrently with the writer (a PASSIVE checkpoint never blocks it), so
//! the writer's own checkpoint, still what bounds the log, finds little left to copy.

use std::time::Duration;

use sqlx::{SqlitePool, sqlite::SqlitePoolOptions};
use tokio::sync::oneshot;

use super::Db;

const EVERY: Duration = Duration::from_millis(100);

/// The checkpointing task of one SQLite database (nothing on PostgreSQL).
pub struct Checkpoints(Option<(oneshot::Sender<()>, tokio::task::JoinHandle<()>)>);

impl Checkpoints {
    pub fn start(db: &Db) -> Checkpoints {
        let Db::Sqlite(pool) = db else { return Checkpoints(None) };
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with((*pool.connect_options()).clone());
        let (stop, mut stopped) = oneshot::channel();
        let task = tokio::spawn(async move {
            let mut every = tokio::time::interval(EVERY);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = every.tick() => checkpoint(&pool).await,
                }
            }
            pool.close().await;
        });
        Checkpoints(Some((stop, task)))
    }

    /// Stops the task once its checkpoint in progress, if any, is done.
    pub async fn stop(self) {
        if let Some((stop, task)) = self.0 {
            let _ = stop.send(());
            let _ = task.await;
        }
    }
}

async fn checkpoint(pool: &SqlitePool) {
    // Busy (another checkpoint running) is a row, not an error; an error here only
    // leaves the copying to the writer's own checkpoint.
    if let Err(error) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(pool).await {
        tracing::debug!(%error, "background checkpoint failed");
    }
}
