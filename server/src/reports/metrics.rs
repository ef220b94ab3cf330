//! The metrics of a report row, derived from rollup sums.

use bidline_model::reports::METRICS;
use serde::Serialize;

use crate::calls::rollups::Sums;

/// One row's (or the totals') metrics as the API shows them: money in cents, rates as
/// fractions (0–1), averages rounded to the nearest whole unit.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Metrics {
    pub calls: i64,
    pub connected: i64,
    pub converted: i64,
    pub duplicates: i64,
    pub rejected: i64,
    pub no_answer: i64,
    pub revenue_cents: i64,
    pub payout_cents: i64,
    pub profit_cents: i64,
    pub talk_seconds: i64,
    /// Converted calls ÷ calls, to four places.
    pub conversion_rate: f64,
    /// Revenue per call.
    pub rpc_cents: i64,
    /// Payout per call.
    pub ppc_cents: i64,
    /// Average talk time of connected calls.
    pub acl_seconds: i64,
    pub pings: i64,
    pub bids: i64,
    pub bids_won: i64,
    pub avg_bid_cents: i64,
}

/// `a ÷ b` rounded half away from zero; 0 when `b` is 0.
fn per(a: i64, b: i64) -> i64 {
    if b == 0 {
        return 0;
    }
    let (q, r) = (a / b, a % b);
    if 2 * r.abs() >= b.abs() { q + a.signum() * b.signum() } else { q }
}

impl From<&Sums> for Metrics {
    fn from(s: &Sums) -> Metrics {
        let rate = if s.calls == 0 { 0.0 } else { s.converted as f64 / s.calls as f64 };
        Metrics {
            calls: s.calls,
            connected: s.connected,
            converted: s.converted,
            duplicates: s.duplicates,
            rejected: s.rejected,
            no_answer: s.no_answer,
            revenue_cents: s.revenue_cents,
            payout_cents: s.payout_cents,
            profit_cents: s.revenue_cents - s.payout_cents,
            talk_seconds: per(s.talk_ms, 1000),
            conversion_rate: (rate * 10_000.0).round() / 10_000.0,
            rpc_cents: per(s.revenue_cents, s.calls),
            ppc_cents: per(s.payout_cents, s.calls),
            acl_seconds: per(s.talk_ms, s.connected * 1000),
            pings: s.pings,
            bids: s.bids,
            bids_won: s.bids_won,
            avg_bid_cents: per(s.bid_cents, s.bids),
        }
    }
}

impl Metrics {
    /// Every metric, in the order of [`METRICS`].
    pub fn values(&self) -> [f64; METRICS.len()] {
        [
            self.calls as f64,
            self.connected as f64,
            self.converted as f64,
            self.duplicates as f64,
            self.rejected as f64,
            self.no_answer as f64,
            self.revenue_cents as f64,
            self.payout_cents as f64,
            self.profit_cents as f64,
            self.talk_seconds as f64,
            self.conversion_rate,
            self.rpc_cents as f64,
            self.ppc_cents as f64,
            self.acl_seconds as f64,
            self.pings as f64,
            self.bids as f64,
            self.bids_won as f64,
            self.avg_bid_cents as f64,
        ]
    }

    /// The metric called `name` (one of [`METRICS`]), for sorting.
    pub fn get(&self, name: &str) -> Option<f64> {
        METRICS.iter().position(|m| m.name == name).map(|i| self.values()[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_round_to_the_nearest_cent_and_never_divide_by_zero() {
        let sums = Sums { calls: 3, revenue_cents: 1000, talk_ms: 0, ..Sums::default() };
        let m = Metrics::from(&sums);
        assert_eq!(m.rpc_cents, 333);
        assert_eq!(m.acl_seconds, 0);
        assert_eq!(m.avg_bid_cents, 0);
        let sums =
            Sums { calls: 2, revenue_cents: 1001, connected: 2, talk_ms: 3_000, ..Sums::default() };
        let m = Metrics::from(&sums);
        assert_eq!(m.rpc_cents, 501);
        assert_eq!(m.acl_seconds, 2);
        assert_eq!(Metrics::from(&Sums::default()).conversion_rate, 0.0);
        // The names and the values line up with what the API shows.
        let shown = serde_json::to_value(&m).unwrap();
        for (metric, value) in METRICS.iter().zip(m.values()) {
            assert_eq!(shown[metric.name].as_f64(), Some(value), "{}", metric.name);
        }
    }
}
