//! The network's configuration objects (campaigns, publishers, buyers, targets,
//! numbers, DNI pools, trunks) as the dashboard reads and writes them, and the server
//! functions that do it.
//!
//! Objects travel as the same JSON the REST API speaks (`/api/v1`), so the dashboard
//! and the API cannot disagree about a field; the server checks every write exactly as
//! it checks an API call.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::errors::AppError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Campaign,
    Publisher,
    Buyer,
    Target,
    Number,
    DniPool,
    Trunk,
    BlockedCaller,
    Webhook,
}

impl Kind {
    pub const ALL: [Kind; 9] = [
        Self::Campaign,
        Self::Publisher,
        Self::Buyer,
        Self::Target,
        Self::Number,
        Self::DniPool,
        Self::Trunk,
        Self::BlockedCaller,
        Self::Webhook,
    ];

    /// The path segment of its pages and API routes (`dni-pools`).
    pub fn plural(self) -> &'static str {
        match self {
            Self::Campaign => "campaigns",
            Self::Publisher => "publishers",
            Self::Buyer => "buyers",
            Self::Target => "targets",
            Self::Number => "numbers",
            Self::DniPool => "dni-pools",
            Self::Trunk => "trunks",
            Self::BlockedCaller => "blocked-callers",
            Self::Webhook => "webhooks",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Self::Campaign => "Campaigns",
            Self::Publisher => "Publishers",
            Self::Buyer => "Buyers",
            Self::Target => "Targets",
            Self::Number => "Numbers",
            Self::DniPool => "DNI pools",
            Self::Trunk => "Trunks",
            Self::BlockedCaller => "Blocked callers",
            Self::Webhook => "Webhooks",
        }
    }

    /// What one is for, as an empty list tells a new user.
    pub fn purpose(self) -> &'static str {
        match self {
            Self::Campaign => {
                "A campaign is the offer callers ring about: its numbers, ring tree and conversion rules."
            }
            Self::Publisher => {
                "Publishers send you calls; each is paid by its payout rule for the calls it converts."
            }
            Self::Buyer => {
                "Buyers take your calls and pay for them; each rings at one or more targets."
            }
            Self::Target => {
                "A target is where a buyer's calls ring (a SIP address, or a phone number through an outbound trunk), with its price and limits."
            }
            Self::Number => {
                "Tracking numbers are what callers dial: each belongs to a campaign, and may be credited to a publisher."
            }
            Self::DniPool => {
                "A DNI pool lends its numbers to website visitors one at a time, so each call tells which visit it came from."
            }
            Self::Trunk => {
                "Trunks connect you to carriers: inbound ones let their calls in, outbound ones carry calls to phone-number targets."
            }
            Self::BlockedCaller => {
                "Calls from a blocked number are turned away before any buyer is asked."
            }
            Self::Webhook => {
                "Webhooks send each call's events (ringing, connected, ended, converted) to your own systems."
            }
        }
    }

    pub fn singular(self) -> &'static str {
        match self {
            Self::Campaign => "campaign",
            Self::Publisher => "publisher",
            Self::Buyer => "buyer",
            Self::Target => "target",
            Self::Number => "number",
            Self::DniPool => "DNI pool",
            Self::Trunk => "trunk",
            Self::BlockedCaller => "blocked caller",
            Self::Webhook => "webhook",
        }
    }

    /// The field an object is known by in lists and links.
    pub fn label_field(self) -> &'static str {
        match self {
            Self::Number | Self::BlockedCaller => "number",
            _ => "name",
        }
    }
}

/// One page of a list, oldest first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListPage {
    pub items: Vec<Value>,
    pub next_cursor: Option<String>,
}

/// One change in an object's history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeView {
    /// RFC 3339 UTC.
    pub at: String,
    /// The user's email or the API key's name.
    pub actor: String,
    pub action: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

/// What an object's page shows, loaded in one call.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectPageData {
    pub object: Value,
    /// Newest first.
    pub history: Vec<ChangeView>,
    /// A campaign's ring tree, and every target it may hold.
    pub ring_tree: Option<RingTreeData>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RingTreeData {
    pub entries: Vec<Value>,
    pub targets: Vec<Value>,
}

pub use bidline_model::ping::{ParsedBid, PingReport, PingRequest, PingResponse};

/// What an import did (or, previewed, would do).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ImportAnswer {
    pub numbers: Vec<String>,
    pub errors: Vec<LineErrorView>,
    pub stored: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LineErrorView {
    pub line: usize,
    pub text: String,
    pub error: String,
}

#[server(prefix = "/fn", endpoint = "list_objects")]
pub async fn list_objects(
    kind: Kind,
    name: String,
    status: String,
    cursor: Option<String>,
) -> Result<ListPage, AppError> {
    crate::backend::backend()?.list_objects(kind, name, status, cursor).await
}

/// Every object of `kind`, oldest first, for choosing one.
#[server(prefix = "/fn", endpoint = "all_objects")]
pub async fn all_objects(kind: Kind) -> Result<Vec<Value>, AppError> {
    crate::backend::backend()?.all_objects(kind).await
}

// Pages load through one server function each: during server rendering, a server
// function called after another's `.await` runs outside the request's context.
#[server(prefix = "/fn", endpoint = "object_page")]
pub async fn object_page(kind: Kind, id: String) -> Result<ObjectPageData, AppError> {
    crate::backend::backend()?.object_page(kind, id).await
}

/// Creates (no `id`) or updates an object from `body`, the API's JSON.
#[server(prefix = "/fn", endpoint = "save_object")]
pub async fn save_object(kind: Kind, id: Option<String>, body: String) -> Result<Value, AppError> {
    crate::backend::backend()?.save_object(kind, id, body).await
}

#[server(prefix = "/fn", endpoint = "delete_object")]
pub async fn delete_object(kind: Kind, id: String) -> Result<(), AppError> {
    crate::backend::backend()?.delete_object(kind, id).await
}

/// Replaces the campaign's ring tree with `body`, a JSON list of entries.
#[server(prefix = "/fn", endpoint = "save_ring_tree")]
pub async fn save_ring_tree(campaign_id: String, body: String) -> Result<Vec<Value>, AppError> {
    crate::backend::backend()?.save_ring_tree(campaign_id, body).await
}

/// Sends a sample ping to an RTB target from the server.
#[server(prefix = "/fn", endpoint = "test_ping")]
pub async fn test_ping(target_id: String) -> Result<PingReport, AppError> {
    crate::backend::backend()?.test_ping(target_id).await
}

/// Imports numbers; `body` is the API's import JSON. With `preview`, stores nothing.
#[server(prefix = "/fn", endpoint = "import_numbers")]
pub async fn import_numbers(body: String, preview: bool) -> Result<ImportAnswer, AppError> {
    crate::backend::backend()?.import_numbers(body, preview).await
}
