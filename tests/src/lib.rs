//! The harness of Bidline's black-box tests: the real `bidline` binary on an ephemeral
//! port ([`Server`]), a private database per test ([`TestDatabase`]), and Debian's
//! chromium driven over WebDriver ([`Browser`]).
//!
//! The binary and the site must be built first (`cargo xtask build`, which
//! `scripts/test` runs); the harness says so when they are missing.

mod api;
mod browser;
mod cluster;
mod database;
mod fake_buyer;
pub mod fake_stripe;
pub mod isolation;
mod receiver;
mod server;
mod session;

pub use api::Api;
pub use browser::Browser;
pub use cluster::Cluster;
pub use database::TestDatabase;
pub use fake_buyer::{FakeBuyer, ReceivedPing, Reply};
pub use fake_stripe::FakeStripe;
pub use receiver::{Behaviour, Received, Receiver};
pub use server::{NewOrg, Server, ServerOptions, bidline_binary, bidline_command, workspace_root};
pub use session::SessionClient;

use std::time::{Duration, Instant};

/// Waits until `check` holds, for up to 3 s (nodes hear from each other within 200 ms;
/// writes batch within 10 ms); panics naming `what` if it never does.
pub async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !check().await {
        assert!(started.elapsed() < Duration::from_secs(3), "{what} never happened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
