//! Calls as the dashboard shows them: the call log, one call with its timeline and
//! auction, and the live calls pushed as they change.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;

/// One call in the log and in the live view. Names are the configuration's now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSummary {
    pub id: String,
    pub started_at: String,
    /// `None`: withheld.
    pub caller: Option<String>,
    pub dialed: String,
    pub campaign: String,
    pub publisher: Option<String>,
    pub buyer: Option<String>,
    pub target: Option<String>,
    /// ringing, connected, completed, failed, rejected, abandoned, interrupted.
    pub status: String,
    pub talk_seconds: Option<i64>,
    pub converted: bool,
    pub duplicate: bool,
    pub revenue_cents: i64,
    pub payout_cents: i64,
}

/// The call log's filters, as the form sends them: empty means any.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CallFilter {
    /// Dates (`2026-12-01`) in the organization's time zone; `to` is included.
    pub from: String,
    pub to: String,
    pub campaign_id: String,
    pub publisher_id: String,
    pub buyer_id: String,
    pub target_id: String,
    pub status: String,
    /// `yes`, `no` or empty.
    pub converted: String,
    pub duplicate: String,
    pub caller: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallLogPage {
    pub items: Vec<CallSummary>,
    pub next_cursor: Option<String>,
    /// The zone the dates are read in.
    pub time_zone: String,
}

/// What every call matching the log's filters adds up to (not only the page shown).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallLogTotals {
    pub calls: i64,
    pub talk_seconds: i64,
    pub revenue_cents: i64,
    pub payout_cents: i64,
}

/// Statuses of calls not ended yet.
pub const LIVE_STATUSES: [&str; 2] = ["ringing", "connected"];

/// A call with everything known about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallDetailView {
    pub call: CallSummary,
    pub end_reason: Option<String>,
    pub sip_status: Option<i64>,
    pub answered_at: Option<String>,
    pub ended_at: Option<String>,
    pub ring_seconds: Option<i64>,
    pub bid_cents: Option<i64>,
    pub buffer_seconds: Option<i64>,
    pub profit_cents: i64,
    pub tags: Vec<(String, String)>,
    pub events: Vec<EventLine>,
    pub auction: Vec<AuctionLine>,
    pub legs: Vec<LegLine>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventLine {
    pub at: String,
    /// Since the call began: `+0.42 s`, `+2:05`.
    pub after: String,
    pub kind: String,
    /// What happened, as a sentence naming targets and buyers.
    pub text: String,
}

/// One ring-tree target in the call's auction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuctionLine {
    pub target: String,
    pub buyer: String,
    /// ineligible, no_bid, failed, below_floor, ranked, no_answer, connected.
    pub outcome: String,
    pub reason: Option<String>,
    pub pinged: bool,
    pub latency_ms: Option<i64>,
    pub http_status: Option<i64>,
    pub bid_cents: Option<i64>,
    pub won: bool,
    /// The place it was rung in, from 1.
    pub rank: Option<i64>,
}

/// One outbound leg: who was rung and what came of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegLine {
    pub target: String,
    pub uri: String,
    pub result: String,
}

/// A campaign's calls today (in the organization's time zone).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TodayFigures {
    pub calls: i64,
    pub connected: i64,
    pub converted: i64,
    pub revenue_cents: i64,
    pub payout_cents: i64,
    pub time_zone: String,
}

#[server(prefix = "/fn", endpoint = "campaign_today")]
pub async fn campaign_today(campaign_id: String) -> Result<TodayFigures, AppError> {
    crate::backend::backend()?.campaign_today(campaign_id).await
}

/// A page of the call log, newest first; `cursor` from the previous page.
#[server(prefix = "/fn", endpoint = "list_calls")]
pub async fn list_calls(
    filter: CallFilter,
    cursor: Option<String>,
) -> Result<CallLogPage, AppError> {
    crate::backend::backend()?.list_calls(filter, cursor).await
}

#[server(prefix = "/fn", endpoint = "call_totals")]
pub async fn call_totals(filter: CallFilter) -> Result<CallLogTotals, AppError> {
    crate::backend::backend()?.call_totals(filter).await
}

#[server(prefix = "/fn", endpoint = "call_detail")]
pub async fn call_detail(id: String) -> Result<CallDetailView, AppError> {
    crate::backend::backend()?.call_detail(id).await
}

/// The organization's calls live now (ringing or connected), newest first.
#[server(prefix = "/fn", endpoint = "live_calls")]
pub async fn live_calls() -> Result<Vec<CallSummary>, AppError> {
    crate::backend::backend()?.live_calls().await
}

/// Dollars and cents for people: `$25.50`, `-$3.00`, `$1,234.00`.
pub fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}${}.{:02}", crate::reports::count((cents / 100) as i64), cents % 100)
}

/// The call log as CSV, every matching call, for the signed-in member: [`CallFilter`]'s
/// fields as the query string.
pub const CALLS_CSV_PATH: &str = "/export/calls.csv";

/// Where live calls stream from (server-sent events of [`CallSummary`] as JSON).
pub const LIVE_PATH: &str = "/live/calls";

#[cfg(test)]
mod tests {
    use super::dollars;

    #[test]
    fn money_reads_as_dollars_and_cents() {
        assert_eq!(dollars(2550), "$25.50");
        assert_eq!(dollars(5), "$0.05");
        assert_eq!(dollars(-300), "-$3.00");
        assert_eq!(dollars(123_456_789), "$1,234,567.89");
    }
}
