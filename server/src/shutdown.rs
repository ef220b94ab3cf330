//! Graceful shutdown: stop on SIGINT or SIGTERM.

use tokio::signal::unix::{SignalKind, signal};

/// Resolves at the first SIGINT or SIGTERM.
pub async fn signalled() {
    let mut interrupt = signal(SignalKind::interrupt()).expect("install the SIGINT handler");
    let mut terminate = signal(SignalKind::terminate()).expect("install the SIGTERM handler");
    let name = tokio::select! {
        _ = interrupt.recv() => "SIGINT",
        _ = terminate.recv() => "SIGTERM",
    };
    tracing::info!(
        signal = name,
        "shutting down: no new connections, finishing requests in flight"
    );
}
