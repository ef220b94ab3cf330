//! Reports as the dashboard shows them: the Overview's figures and the report builder's
//! tables, answered by the same engine as `GET /api/v1/reports`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use bidline_model::reports::Unit;

use crate::errors::AppError;

/// A report's rows and totals, metrics in the order of `bidline_model::reports::METRICS`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportTable {
    /// The key columns' headers, e.g. `["Campaign", "Day"]`.
    pub key_labels: Vec<String>,
    pub rows: Vec<ReportLine>,
    /// Every call the report covers, not only the rows shown.
    pub totals: Vec<f64>,
    /// The first day covered and the last (included), in `time_zone`.
    pub from: String,
    pub to: String,
    pub time_zone: String,
    /// Changes recorded before this time are counted (RFC 3339).
    pub data_as_of: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportLine {
    /// What each key shows: a name, a date, a state; empty when the calls had none.
    pub keys: Vec<String>,
    /// The call-log filters this row stands for (`campaign_id=…`, `from=…&to=…`), as a
    /// query string; empty when the log cannot narrow to it (a tag, a caller state).
    pub calls_query: String,
    pub values: Vec<f64>,
}

/// A report as CSV, every row, for the signed-in member: the API's parameters as the
/// query string.
pub const REPORT_CSV_PATH: &str = "/export/report.csv";

/// The report the query string `query` asks for (the API's parameters; the page keeps
/// them in its URL).
#[server(prefix = "/fn", endpoint = "run_report")]
pub async fn run_report(query: String) -> Result<ReportTable, AppError> {
    crate::backend::backend()?.run_report(query).await
}

/// The ranges the Overview offers, as its URL names them.
pub const RANGES: [(&str, &str); 4] = [
    ("today", "Today"),
    ("yesterday", "Yesterday"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
];

/// Where the organization stands over a range, against the period before it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OverviewData {
    /// The range's first and last day (included), in `time_zone`.
    pub from: String,
    pub to: String,
    pub time_zone: String,
    /// Totals of the range and of the as-long period just before it, in the order of
    /// `METRICS`.
    pub current: Vec<f64>,
    pub previous: Vec<f64>,
    /// Calls and revenue by hour (a range of one day) or by day.
    pub series: Vec<SeriesPoint>,
    pub top_campaigns: Vec<TopLine>,
    pub top_publishers: Vec<TopLine>,
    pub top_buyers: Vec<TopLine>,
    /// Calls ringing or connected now.
    pub live_calls: i64,
    /// Whether the organization has ever had a call (until then, setup comes first).
    pub has_calls: bool,
    pub data_as_of: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesPoint {
    /// `14:00` or `Dec 5`.
    pub label: String,
    pub calls: i64,
    pub revenue_cents: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TopLine {
    pub name: String,
    /// The call log narrowed to it over the range, as a query string.
    pub calls_query: String,
    pub calls: i64,
    pub profit_cents: i64,
}

/// The Overview for `range` (one of [`RANGES`], or `custom` with `from` and `to` dates).
#[server(prefix = "/fn", endpoint = "overview")]
pub async fn overview(range: String, from: String, to: String) -> Result<OverviewData, AppError> {
    crate::backend::backend()?.overview(range, from, to).await
}

/// A metric's value as people read it: `1,234`, `$25.50`, `12.5%`, `3:05`.
pub fn metric_text(unit: Unit, value: f64) -> String {
    match unit {
        Unit::Count => count(value as i64),
        Unit::Cents => crate::calls::dollars(value as i64),
        Unit::Rate => format!("{:.1}%", value * 100.0),
        Unit::Seconds => duration(value as i64),
    }
}

/// Whole dollars, for figures too large for their cents to matter: `$266,369`.
pub fn whole_dollars(cents: i64) -> String {
    let dollars = (cents.abs() + 50) / 100;
    format!("{}${}", if cents < 0 { "-" } else { "" }, count(dollars))
}

/// `1 call`, `1,234 calls`.
pub fn calls_text(n: i64) -> String {
    format!("{} {}", count(n), if n == 1 { "call" } else { "calls" })
}

/// `1,234,567`.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// When figures were current, from an RFC 3339 UTC time: `00:11:44 UTC`.
pub fn as_of(rfc3339: &str) -> String {
    rfc3339.get(11..19).map_or_else(|| rfc3339.to_owned(), |time| format!("{time} UTC"))
}

/// `0:42`, `3:05`, `1:02:03`.
pub fn duration(seconds: i64) -> String {
    let (h, m, s) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m}:{s:02}") }
}

/// The change from `previous` to `current`: `+12.5%`, `-3.0%`; `None` when there was
/// nothing before to compare with.
pub fn change(current: f64, previous: f64) -> Option<String> {
    (previous != 0.0).then(|| {
        let percent = (current - previous) / previous.abs() * 100.0;
        format!("{}{percent:.1}%", if percent >= 0.0 { "+" } else { "" })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(-950), "-950");
        assert_eq!(metric_text(Unit::Rate, 0.125), "12.5%");
        assert_eq!(metric_text(Unit::Cents, 2550.0), "$25.50");
        assert_eq!(duration(185), "3:05");
        assert_eq!(duration(3723), "1:02:03");
        assert_eq!(change(110.0, 100.0).as_deref(), Some("+10.0%"));
        assert_eq!(change(97.0, 100.0).as_deref(), Some("-3.0%"));
        assert_eq!(change(5.0, 0.0), None);
        assert_eq!(whole_dollars(26_636_890), "$266,369");
        assert_eq!(whole_dollars(-150), "-$2");
    }
}
