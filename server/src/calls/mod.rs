//! Call records: one row per call (`calls`), its timeline (`call_events`) and its
//! auction (`bids`). The router opens a record when it knows whose call it is; the
//! [`recorder`] follows the SIP edge's events to the end of the call, settles its money
//! and hands every change to the batched [`writer`], off the routing path.

pub mod counters;
pub mod leases;
pub mod money;
pub mod outbox;
pub mod query;
pub mod recent;
pub mod recorder;
pub mod recovery;
pub mod rollups;
pub mod spool;
pub mod usage;
pub mod writer;

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use crate::accounts::OrgId;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "CallStatus")]
pub enum Status {
    /// Being routed or ringing a buyer.
    Ringing,
    Connected,
    /// Connected, then ended.
    Completed,
    /// No buyer answered.
    Failed,
    /// Refused before routing (blocked, withheld, duplicate, nobody eligible).
    Rejected,
    /// The caller hung up before a buyer answered.
    Abandoned,
    /// Its node stopped while it was live.
    Interrupted,
}

impl Status {
    pub const ALL: [Status; 7] = [
        Status::Ringing,
        Status::Connected,
        Status::Completed,
        Status::Failed,
        Status::Rejected,
        Status::Abandoned,
        Status::Interrupted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ringing => "ringing",
            Self::Connected => "connected",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Rejected => "rejected",
            Self::Abandoned => "abandoned",
            Self::Interrupted => "interrupted",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    pub fn is_live(self) -> bool {
        matches!(self, Self::Ringing | Self::Connected)
    }
}

/// What became of one ring-tree target in a call's auction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "BidOutcome")]
pub enum Outcome {
    /// Not asked: disabled, paused, closed, capped, full or its conditions false.
    Ineligible,
    /// Answered without a bid, or declined.
    NoBid,
    /// The ping failed: no answer in time, an error status, an unreadable answer, or a
    /// bid its target may not take (a destination it does not allow).
    Failed,
    BelowFloor,
    /// In the order to ring, not rung (an earlier one answered, or the caller left).
    Ranked,
    /// Rung, and did not answer.
    NoAnswer,
    Connected,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ineligible => "ineligible",
            Self::NoBid => "no_bid",
            Self::Failed => "failed",
            Self::BelowFloor => "below_floor",
            Self::Ranked => "ranked",
            Self::NoAnswer => "no_answer",
            Self::Connected => "connected",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        [
            Self::Ineligible,
            Self::NoBid,
            Self::Failed,
            Self::BelowFloor,
            Self::Ranked,
            Self::NoAnswer,
            Self::Connected,
        ]
        .into_iter()
        .find(|outcome| outcome.as_str() == text)
    }
}

/// Every change to a call's row, as it is written, for live views.
pub type LiveFeed = tokio::sync::broadcast::Sender<Arc<CallRow>>;

/// A `calls` row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CallRow {
    pub id: Uuid,
    pub org: OrgId,
    pub node_id: Uuid,
    pub campaign_id: Uuid,
    pub publisher_id: Option<Uuid>,
    pub number_id: Option<Uuid>,
    pub inbound_trunk_id: Option<Uuid>,
    pub buyer_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    pub caller: Option<String>,
    pub caller_anonymous: bool,
    pub dialed: String,
    pub sip_call_id: String,
    pub status: Status,
    pub end_reason: Option<String>,
    pub sip_status: Option<i64>,
    pub started_at: DateTime<Utc>,
    pub answered_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub ring_ms: Option<i64>,
    pub talk_ms: Option<i64>,
    pub duplicate: bool,
    pub bid_cents: Option<i64>,
    pub buffer_seconds: Option<i64>,
    pub converted: bool,
    pub revenue_cents: i64,
    pub payout_cents: i64,
    pub tags: BTreeMap<String, String>,
}

/// A `bids` row: one ring-tree target in one call's auction (as the API shows it, too).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Bid")]
pub struct BidRow {
    pub target_id: Uuid,
    pub buyer_id: Uuid,
    /// `null` when not pinged (static, ineligible, or a reused bid).
    #[serde(serialize_with = "crate::time::serialize_optional")]
    #[schemars(with = "Option<String>")]
    pub pinged_at: Option<DateTime<Utc>>,
    pub latency_ms: Option<i64>,
    pub http_status: Option<i64>,
    pub bid_cents: Option<i64>,
    pub accepted: Option<bool>,
    pub outcome: Outcome,
    pub reason: Option<String>,
    pub won: bool,
    pub bid_id: Option<String>,
    pub destination: Option<String>,
    pub min_duration_seconds: Option<i64>,
    /// The place in the order rung, from 0; `null` when not rung.
    pub rank: Option<i64>,
    /// A standing bid of an identical ping, not asked again (the ping shield).
    pub reused: bool,
}

impl BidRow {
    /// A target that was not asked, and why.
    pub fn ineligible(target_id: Uuid, buyer_id: Uuid, reason: String) -> BidRow {
        BidRow {
            target_id,
            buyer_id,
            pinged_at: None,
            latency_ms: None,
            http_status: None,
            bid_cents: None,
            accepted: None,
            outcome: Outcome::Ineligible,
            reason: Some(reason),
            won: false,
            bid_id: None,
            destination: None,
            min_duration_seconds: None,
            rank: None,
            reused: false,
        }
    }
}

/// One step in a call's timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    pub at: DateTime<Utc>,
    /// Named by the code that made it; owned only when read back from a spool.
    pub kind: std::borrow::Cow<'static, str>,
    pub detail: Value,
}

impl Event {
    pub fn now(kind: &'static str, detail: Value) -> Event {
        Event { at: Utc::now(), kind: kind.into(), detail }
    }
}
