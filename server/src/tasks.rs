//! The node's background tasks — refreshes, heartbeats, the webhook, billing and
//! invoicing workers, the lease keeper, the spool replayer, metrics exporters — owned in
//! one place, so that shutdown stops them all and waits for them, after the call path has
//! drained and before the database pool closes (the order is in `serve.rs`).

use std::future::Future;
use std::sync::Mutex;

use tokio::sync::watch;
use tokio::task::JoinSet;

pub struct Tasks {
    running: Mutex<JoinSet<()>>,
    stop: watch::Sender<bool>,
}

impl Default for Tasks {
    fn default() -> Self {
        Tasks { running: Mutex::default(), stop: watch::Sender::new(false) }
    }
}

impl Tasks {
    fn lock(&self) -> std::sync::MutexGuard<'_, JoinSet<()>> {
        self.running.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `task` until it ends or the tasks are stopped (at its next await).
    pub fn spawn(&self, name: &'static str, task: impl Future<Output = ()> + Send + 'static) {
        let mut stop = self.stop.subscribe();
        self.lock().spawn(async move {
            tokio::select! {
                _ = stop.wait_for(|stopped| *stopped) => tracing::debug!(task = name, "stopped"),
                () = task => {}
            }
        });
    }

    /// Stops every task, and returns once each has stopped. A task spawned later stops
    /// at once.
    pub async fn stop(&self) {
        self.stop.send_replace(true);
        let mut running = std::mem::take(&mut *self.lock());
        while running.join_next().await.is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;

    #[tokio::test]
    async fn stopping_ends_every_task_and_waits_for_it() {
        let tasks = Tasks::default();
        let dropped = Arc::new(AtomicBool::new(false));
        struct Flag(Arc<AtomicBool>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let flag = Flag(dropped.clone());
        tasks.spawn("forever", async move {
            let _flag = flag;
            std::future::pending::<()>().await;
        });
        tasks.spawn("short", async {});
        tasks.stop().await;
        assert!(dropped.load(Ordering::SeqCst), "the task was stopped before stop returned");
        tasks.spawn("late", std::future::pending());
        tokio::time::timeout(std::time::Duration::from_secs(1), tasks.stop()).await.unwrap();
    }
}
