//! Graceful shutdown: stop on SIGINT or SIGTERM.
//!
//! The handlers are installed before the server says it listens: a signal that came
//! between the two would otherwise find the default action and kill the process
//! mid-request.

use tokio::signal::unix::{Signal, SignalKind, signal};

pub struct Signals {
    interrupt: Signal,
    terminate: Signal,
}

impl Signals {
    pub fn install() -> std::io::Result<Self> {
        Ok(Self {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
        })
    }

    /// Resolves at the first SIGINT or SIGTERM.
    pub async fn received(mut self) {
        let name = tokio::select! {
            _ = self.interrupt.recv() => "SIGINT",
            _ = self.terminate.recv() => "SIGTERM",
        };
        tracing::info!(
            signal = name,
            "shutting down: no new connections, finishing requests in flight"
        );
    }
}
