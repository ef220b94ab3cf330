//! Writing in batches off the hot path: one task takes what queues up, gathers what
//! arrives within [`WINDOW`] of the first item (up to a maximum), and writes it in one
//! go. A failed write keeps its batch and is tried again after a pause; once every
//! sender is gone the queue is written out and the task ends ([`Flushed::done`]).

use std::time::Duration;

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use super::Db;

/// How long changes gather before they are written: short, since an answered call or
/// a visitor's lease must not be lost to a crash (see the README's "Call records").
pub const WINDOW: Duration = Duration::from_millis(20);
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// What a writer writes (for its logs) and how much at most in one batch.
pub struct Batching {
    pub what: &'static str,
    pub max: usize,
}

/// The writer task; await [`Flushed::done`] after dropping every sender to know the
/// queue is written.
pub struct Flushed(tokio::task::JoinHandle<()>);

impl Flushed {
    pub async fn done(self) {
        let _ = self.0.await;
    }
}

/// Starts a writer: `prepare` turns what gathered into a batch, `write` writes it.
pub fn spawn<T, B, P, W>(
    db: Db,
    batching: Batching,
    prepare: P,
    write: W,
) -> (mpsc::UnboundedSender<T>, Flushed)
where
    T: Send + 'static,
    B: Send + Sync + 'static,
    P: Fn(Vec<T>) -> B + Send + 'static,
    W: for<'a> Fn(&'a Db, &'a B) -> BoxFuture<'a, Result<(), sqlx::Error>> + Send + 'static,
{
    let (queue, mut input) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        while let Some(first) = input.recv().await {
            let mut items = vec![first];
            let window = tokio::time::sleep(WINDOW);
            tokio::pin!(window);
            while items.len() < batching.max {
                tokio::select! {
                    next = input.recv() => match next {
                        Some(item) => items.push(item),
                        None => break,
                    },
                    () = &mut window => break,
                }
            }
            let count = items.len();
            let batch = prepare(items);
            while let Err(error) = write(&db, &batch).await {
                tracing::error!(%error, changes = count, what = batching.what, "could not write a batch; trying again");
                tokio::time::sleep(RETRY_PAUSE).await;
            }
        }
    });
    (queue, Flushed(task))
}
