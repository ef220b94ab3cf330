//! Call records the database cannot take now, kept on this node's disk until it can.
//!
//! The writer writes each batch to the database. When the database is unreachable (not
//! merely slow: a writer held up by locks is falling behind, which admission answers
//! with 503), the batch goes to a file in the spool folder instead, synced to disk before
//! it counts as written. From then on every batch goes to the spool, in order, until the
//! replayer has written the spooled batches to the database oldest first, each file
//! removed once its transaction commits; so a call's later states never land before its
//! earlier ones. A node that starts replays what an earlier run left before it takes
//! calls. Only PostgreSQL has outages of its own: SQLite lives in the node's process.

use std::collections::VecDeque;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::Notify;

const SUFFIX: &str = "batch.json";

#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error("cannot use the call records spool {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("a spooled batch of call records, {path}, cannot be read: {source}")]
    Decode {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

/// The spool folder and the batches in it, oldest first.
#[derive(Debug)]
pub struct Spool {
    dir: PathBuf,
    files: Mutex<VecDeque<PathBuf>>,
    next: AtomicU64,
    added: Notify,
}

impl Spool {
    /// The spool in `dir` (created if missing), with what an earlier run left in it.
    pub fn open(dir: &Path) -> Result<Spool, SpoolError> {
        let io = |source| SpoolError::Io { path: dir.to_owned(), source };
        std::fs::create_dir_all(dir).map_err(io)?;
        let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
            .map_err(io)?
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                let name = path.file_name()?.to_str()?;
                let seq = name.strip_suffix(SUFFIX)?.strip_suffix('.')?.parse().ok()?;
                Some((seq, path))
            })
            .collect();
        files.sort();
        let next = files.last().map_or(0, |(seq, _)| seq + 1);
        Ok(Spool {
            dir: dir.to_owned(),
            files: Mutex::new(files.into_iter().map(|(_, path)| path).collect()),
            next: AtomicU64::new(next),
            added: Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<PathBuf>> {
        self.files.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Batches waiting in the spool.
    pub fn batches(&self) -> usize {
        self.lock().len()
    }

    /// Whether batches wait: then new ones must wait behind them.
    pub fn holding(&self) -> bool {
        !self.lock().is_empty()
    }

    /// Keeps `batch` on disk, durably, behind the batches already kept.
    pub async fn keep<B: serde::Serialize>(&self, batch: &B) -> Result<(), SpoolError> {
        let bytes = serde_json::to_vec(batch)
            .map_err(|source| SpoolError::Decode { path: self.dir.clone(), source })?;
        let seq = self.next.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("{seq:020}.{SUFFIX}"));
        let (dir, file) = (self.dir.clone(), path.clone());
        tokio::task::spawn_blocking(move || write_durably(&dir, &file, &bytes))
            .await
            .unwrap_or_else(|join| Err(std::io::Error::other(join)))
            .map_err(|source| SpoolError::Io { path: path.clone(), source })?;
        self.lock().push_back(path);
        self.added.notify_one();
        Ok(())
    }

    /// The oldest batch kept, once there is one.
    pub async fn oldest<B: serde::de::DeserializeOwned>(&self) -> (PathBuf, Result<B, SpoolError>) {
        loop {
            let added = self.added.notified();
            let front = self.lock().front().cloned();
            if let Some(path) = front {
                let read = tokio::fs::read(&path).await;
                let batch = match read {
                    Ok(bytes) => serde_json::from_slice(&bytes)
                        .map_err(|source| SpoolError::Decode { path: path.clone(), source }),
                    Err(source) => Err(SpoolError::Io { path: path.clone(), source }),
                };
                return (path, batch);
            }
            added.await;
        }
    }

    /// The oldest batch is in the database now (or, unreadable, set aside as `*.bad`).
    pub fn done(&self, path: &Path, readable: bool) {
        let result = if readable {
            std::fs::remove_file(path)
        } else {
            std::fs::rename(path, path.with_extension("bad"))
        };
        if let Err(error) = result {
            tracing::error!(%error, path = %path.display(), "cannot remove a replayed batch from the spool");
        }
        let mut files = self.lock();
        if files.front().map(PathBuf::as_path) == Some(path) {
            files.pop_front();
        }
    }
}

/// Writes `bytes` to `file` so that it survives a crash: a temporary file synced, then
/// renamed into place and the folder synced.
fn write_durably(dir: &Path, file: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let partial = file.with_extension("partial");
    let mut out = std::fs::File::create(&partial)?;
    out.write_all(bytes)?;
    out.sync_all()?;
    std::fs::rename(&partial, file)?;
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn batches_come_back_in_the_order_kept_even_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        assert!(!spool.holding());
        spool.keep(&vec![1, 2]).await.unwrap();
        spool.keep(&vec![3]).await.unwrap();
        drop(spool);

        let spool = Spool::open(dir.path()).unwrap();
        assert_eq!(spool.batches(), 2);
        let (path, first) = spool.oldest::<Vec<i32>>().await;
        assert_eq!(first.unwrap(), vec![1, 2]);
        spool.done(&path, true);
        spool.keep(&vec![4]).await.unwrap();
        let (path, second) = spool.oldest::<Vec<i32>>().await;
        assert_eq!(second.unwrap(), vec![3]);
        spool.done(&path, true);
        let (path, third) = spool.oldest::<Vec<i32>>().await;
        assert_eq!(third.unwrap(), vec![4]);
        spool.done(&path, true);
        assert!(!spool.holding());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[tokio::test]
    async fn an_unreadable_batch_is_set_aside_not_lost() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(format!("{:020}.{SUFFIX}", 7)), b"{not json").unwrap();
        let spool = Spool::open(dir.path()).unwrap();
        let (path, batch) = spool.oldest::<Vec<i32>>().await;
        assert!(matches!(batch, Err(SpoolError::Decode { .. })));
        spool.done(&path, false);
        assert!(!spool.holding());
        assert!(dir.path().join(format!("{:020}.batch.bad", 7)).exists());
    }
}
