//! A ping of an RTB target as the auction and the dashboard's test ping report it.

use serde::{Deserialize, Serialize};

/// A ping of an RTB target (a call's, or a test from the dashboard): what was sent, what
/// came back, how long it took, and the bid read from the answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PingReport {
    pub request: PingRequest,
    /// `None` when no answer came (refused destination, timeout, connection error).
    pub response: Option<PingResponse>,
    pub latency_ms: u64,
    pub bid: Option<ParsedBid>,
    /// Why the ping failed or the answer could not be read.
    pub error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PingRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PingResponse {
    pub status: u16,
    /// The first 8 KiB.
    pub body: String,
}

/// The answer as the target's JSONPaths read it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParsedBid {
    pub accepted: bool,
    pub bid_cents: Option<i64>,
    pub destination: Option<String>,
    pub min_duration_seconds: Option<i64>,
    /// The buyer's own id for the bid.
    pub bid_id: Option<String>,
    /// How long the bid stands for the same caller (the ping shield reuses it).
    pub expires_in_seconds: Option<i64>,
}
