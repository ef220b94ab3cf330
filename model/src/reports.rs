//! What a report measures: every metric's name (as the API and CSV write it), how people
//! read it, and its unit. The server's reports and the dashboard's tables both follow this
//! list and its order.

/// How a metric's value is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    Cents,
    /// A fraction, 0–1.
    Rate,
    Seconds,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Metric {
    pub name: &'static str,
    pub label: &'static str,
    pub unit: Unit,
}

const fn metric(name: &'static str, label: &'static str, unit: Unit) -> Metric {
    Metric { name, label, unit }
}

pub const METRICS: [Metric; 18] = [
    metric("calls", "Calls", Unit::Count),
    metric("connected", "Connected", Unit::Count),
    metric("converted", "Converted", Unit::Count),
    metric("duplicates", "Duplicates", Unit::Count),
    metric("rejected", "Rejected", Unit::Count),
    metric("no_answer", "No answer", Unit::Count),
    metric("revenue_cents", "Revenue", Unit::Cents),
    metric("payout_cents", "Payout", Unit::Cents),
    metric("profit_cents", "Profit", Unit::Cents),
    metric("talk_seconds", "Talk time", Unit::Seconds),
    metric("conversion_rate", "Conversion rate", Unit::Rate),
    metric("rpc_cents", "Revenue per call", Unit::Cents),
    metric("ppc_cents", "Payout per call", Unit::Cents),
    metric("acl_seconds", "Average call length", Unit::Seconds),
    metric("pings", "Pings", Unit::Count),
    metric("bids", "Bids", Unit::Count),
    metric("bids_won", "Bids won", Unit::Count),
    metric("avg_bid_cents", "Average bid", Unit::Cents),
];

/// The metric called `name`.
pub fn metric_named(name: &str) -> Option<&'static Metric> {
    METRICS.iter().find(|m| m.name == name)
}

/// What a report may be grouped by (besides `tag.NAME`), as the API names them, with
/// how people read them.
pub const DIMENSIONS: [(&str, &str); 10] = [
    ("campaign", "Campaign"),
    ("publisher", "Publisher"),
    ("buyer", "Buyer"),
    ("target", "Target"),
    ("number", "Number"),
    ("caller_state", "Caller state"),
    ("hour", "Hour"),
    ("day", "Day"),
    ("week", "Week"),
    ("month", "Month"),
];
