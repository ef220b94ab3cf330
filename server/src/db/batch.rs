//! Writing in batches off the hot path: one task takes what queues up, gathers what
//! arrives within [`WINDOW`] of the first item (up to a maximum) and prepares it; another
//! writes each prepared batch in one go, while the next is gathered. A failed write keeps
//! its batch and is tried again after a pause; once every sender is gone the queue is
//! written out and the tasks end ([`Flushed::done`]).
//!
//! The queue itself never refuses a change (a change is something that already
//! happened), so what bounds it is upstream: its [`Backlog`] says how much waits and how
//! far behind the writer is, and whoever makes new work (the SIP edge's admission) stops
//! taking it when the backlog is past its limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures::future::BoxFuture;
use tokio::sync::mpsc;

use super::Db;

/// How long changes gather before they are written: short, since an answered call or
/// a visitor's lease must not be lost to a crash (see the README's "Call records").
pub const WINDOW: Duration = Duration::from_millis(10);
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// What a writer writes (for its logs) and how much at most in one batch.
pub struct Batching {
    pub what: &'static str,
    pub max: usize,
}

/// What waits to be written: changes, their approximate size, and how long the oldest
/// has waited.
#[derive(Debug)]
pub struct Backlog {
    changes: AtomicUsize,
    bytes: AtomicUsize,
    written: AtomicU64,
    /// When the oldest change not yet written was queued, in microseconds after
    /// `epoch` plus one (0: nothing waits).
    oldest: AtomicU64,
    /// Likewise for the first change of the batch being gathered (0: none).
    gathering: AtomicU64,
    epoch: Instant,
}

impl Default for Backlog {
    fn default() -> Self {
        Backlog {
            changes: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
            written: AtomicU64::new(0),
            oldest: AtomicU64::new(0),
            gathering: AtomicU64::new(0),
            epoch: Instant::now(),
        }
    }
}

impl Backlog {
    /// Changes queued or being written.
    pub fn changes(&self) -> usize {
        self.changes.load(Ordering::Relaxed)
    }

    /// The approximate memory the queued changes hold.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Changes written since the start.
    pub fn written(&self) -> u64 {
        self.written.load(Ordering::Relaxed)
    }

    /// How long the oldest change not yet written has waited (zero when none waits).
    pub fn lag(&self) -> Duration {
        match self.oldest.load(Ordering::Relaxed) {
            0 => Duration::ZERO,
            mark => self.epoch.elapsed().saturating_sub(Duration::from_micros(mark - 1)),
        }
    }

    /// A batch of `count` changes (`bytes`) was written: the oldest change waiting is now
    /// the first of the batch being gathered, if any (the writer takes the next prepared
    /// batch's mark as it starts on it).
    fn take_written(&self, count: usize, bytes: usize) {
        // Stored before the gatherer's mark is read, which the gatherer stores before its
        // own exchange: one of the two sees the other.
        self.oldest.store(0, Ordering::SeqCst);
        let gathering = self.gathering.load(Ordering::SeqCst);
        if gathering != 0 {
            let _ = self.oldest.compare_exchange(0, gathering, Ordering::SeqCst, Ordering::SeqCst);
        }
        self.changes.fetch_sub(count, Ordering::Relaxed);
        self.bytes.fetch_sub(bytes, Ordering::Relaxed);
        self.written.fetch_add(count as u64, Ordering::Relaxed);
    }

    fn mark(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.epoch).as_micros() as u64 + 1
    }
}

/// One queued change, with when it was queued and its approximate size.
struct Queued<T> {
    at: Instant,
    bytes: usize,
    item: T,
}

/// Hands changes to a writer task.
pub struct Queue<T> {
    sender: mpsc::UnboundedSender<Queued<T>>,
    backlog: Arc<Backlog>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue { sender: self.sender.clone(), backlog: self.backlog.clone() }
    }
}

impl<T> std::fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue").field("backlog", &self.backlog).finish()
    }
}

impl<T> Queue<T> {
    /// Queues `item` (about `bytes` in memory); `Err` gives it back when the writer has
    /// stopped.
    pub fn send(&self, item: T, bytes: usize) -> Result<(), T> {
        self.backlog.changes.fetch_add(1, Ordering::Relaxed);
        self.backlog.bytes.fetch_add(bytes, Ordering::Relaxed);
        self.sender.send(Queued { at: Instant::now(), bytes, item }).map_err(|error| {
            self.backlog.changes.fetch_sub(1, Ordering::Relaxed);
            self.backlog.bytes.fetch_sub(bytes, Ordering::Relaxed);
            error.0.item
        })
    }

    pub fn backlog(&self) -> &Arc<Backlog> {
        &self.backlog
    }

    /// A queue nobody writes (changes are kept, never written), for benchmarks and unit
    /// tests of what uses one.
    pub fn detached() -> Queue<T> {
        let (sender, input) = mpsc::unbounded_channel();
        std::mem::forget(input);
        Queue { sender, backlog: Arc::default() }
    }
}

/// A batch ready to write, with what it takes off the backlog once written.
struct Prepared<B> {
    batch: B,
    /// When its first change was queued ([`Backlog::mark`]).
    mark: u64,
    count: usize,
    bytes: usize,
}

/// The writer task; await [`Flushed::done`] after dropping every sender to know the
/// queue is written.
pub struct Flushed(tokio::task::JoinHandle<()>);

impl Flushed {
    pub async fn done(self) {
        let _ = self.0.await;
    }

    /// Runs `after` (closing what the writer alone used) once the queue is written.
    pub fn then(self, after: impl Future<Output = ()> + Send + 'static) -> Flushed {
        Flushed(tokio::spawn(async move {
            self.done().await;
            after.await;
        }))
    }
}

/// Starts a writer: `prepare` turns what gathered into a batch, `write` writes it.
pub fn spawn<T, B, P, W>(db: Db, batching: Batching, prepare: P, write: W) -> (Queue<T>, Flushed)
where
    T: Send + 'static,
    B: Send + Sync + 'static,
    P: Fn(Vec<T>) -> B + Send + 'static,
    W: for<'a> Fn(&'a Db, &'a B) -> BoxFuture<'a, Result<(), sqlx::Error>> + Send + 'static,
{
    let (sender, mut input) = mpsc::unbounded_channel::<Queued<T>>();
    let backlog = Arc::new(Backlog::default());
    let queue = Queue { sender, backlog: backlog.clone() };
    // Two stages: one gathers and prepares the next batch while the other writes the last
    // (preparing is CPU, writing mostly waits on the database); one batch waits between.
    let (prepared, mut to_write) = mpsc::channel::<Prepared<B>>(1);
    let gathering = backlog.clone();
    let what = batching.what;
    tokio::spawn(async move {
        let backlog = gathering;
        while let Some(first) = input.recv().await {
            let mark = backlog.mark(first.at);
            // The oldest change waiting is this one unless a batch is still being written
            // (whose writer then hands the mark on: see `take_written`).
            backlog.gathering.store(mark, Ordering::SeqCst);
            let _ = backlog.oldest.compare_exchange(0, mark, Ordering::SeqCst, Ordering::SeqCst);
            let mut bytes = first.bytes;
            let mut items = vec![first.item];
            // The window runs from when the first change arrived, not from when the writer
            // got to it: changes that queued during the last write go out at once.
            let window = tokio::time::sleep_until((first.at + WINDOW).into());
            tokio::pin!(window);
            while items.len() < batching.max {
                // What is already queued is taken without waiting: behind, the writer
                // writes full batches back to back.
                let next = match input.try_recv() {
                    Ok(next) => Some(next),
                    Err(mpsc::error::TryRecvError::Disconnected) => None,
                    Err(mpsc::error::TryRecvError::Empty) => tokio::select! {
                        next = input.recv() => next,
                        () = &mut window => break,
                    },
                };
                let Some(next) = next else { break };
                bytes += next.bytes;
                items.push(next.item);
            }
            let count = items.len();
            let batch = Prepared { batch: prepare(items), mark, count, bytes };
            backlog.gathering.store(0, Ordering::SeqCst);
            if prepared.send(batch).await.is_err() {
                return;
            }
        }
    });
    let task = tokio::spawn(async move {
        while let Some(Prepared { batch, mark, count, bytes }) = to_write.recv().await {
            backlog.oldest.store(mark, Ordering::SeqCst);
            while let Err(error) = write(&db, &batch).await {
                tracing::error!(%error, changes = count, what, "could not write a batch; trying again");
                tokio::time::sleep(RETRY_PAUSE).await;
            }
            backlog.take_written(count, bytes);
        }
    });
    (queue, Flushed(task))
}
