//! What a call was worth. A call converts when its talk time reaches the buffer (the
//! bid's minimum duration, else the target's, else the campaign's); it then earns the
//! winning bid (or the target's static revenue). The publisher is paid by its rule once
//! talk time reaches the publisher's buffer (its own, else the campaign's) — nothing for
//! a duplicate unless the publisher is paid for those. All in integer cents.

use crate::network::publishers::Payout;

/// The money terms of a connected call, fixed when it was routed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Terms {
    pub bid_cents: i64,
    pub buffer_seconds: i64,
    /// `None` when the number has no publisher: nobody is paid.
    pub payout: Option<Payout>,
    pub payout_buffer_seconds: i64,
    pub pays_duplicates: bool,
    pub duplicate: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settlement {
    pub converted: bool,
    pub revenue_cents: i64,
    pub payout_cents: i64,
}

impl Settlement {
    pub fn profit_cents(&self) -> i64 {
        self.revenue_cents - self.payout_cents
    }
}

/// Settles a call that talked for `talk_ms`.
pub fn settle(terms: &Terms, talk_ms: i64) -> Settlement {
    let reached = |seconds: i64| talk_ms >= seconds.saturating_mul(1000);
    let converted = reached(terms.buffer_seconds);
    let revenue_cents = if converted { terms.bid_cents.max(0) } else { 0 };
    let paid = reached(terms.payout_buffer_seconds) && (!terms.duplicate || terms.pays_duplicates);
    Settlement {
        converted,
        revenue_cents,
        payout_cents: payout_cents(terms.payout, paid, revenue_cents),
    }
}

/// What the publisher earns: nothing unless `paid` (its buffer reached, and not an unpaid
/// duplicate); else its fixed cents or its share of `revenue_cents`.
pub fn payout_cents(payout: Option<Payout>, paid: bool, revenue_cents: i64) -> i64 {
    match payout {
        Some(_) if !paid => 0,
        None => 0,
        Some(Payout::Fixed { cents }) => cents,
        // A share rounds down: the network never pays a fraction of a cent it did not earn.
        Some(Payout::Percent { basis_points }) => revenue_cents * basis_points / 10_000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(payout: Payout) -> Terms {
        Terms {
            bid_cents: 2_550,
            buffer_seconds: 90,
            payout: Some(payout),
            payout_buffer_seconds: 60,
            pays_duplicates: false,
            duplicate: false,
        }
    }

    #[test]
    fn a_call_converts_at_its_buffer_to_the_millisecond() {
        let t = terms(Payout::Fixed { cents: 1_000 });
        assert_eq!(
            settle(&t, 89_999),
            Settlement { converted: false, revenue_cents: 0, payout_cents: 1_000 }
        );
        let converted = settle(&t, 90_000);
        assert_eq!(
            converted,
            Settlement { converted: true, revenue_cents: 2_550, payout_cents: 1_000 }
        );
        assert_eq!(converted.profit_cents(), 1_550);
        assert_eq!(settle(&t, 59_999), Settlement::default());
    }

    #[test]
    fn a_share_of_revenue_rounds_down_to_the_cent() {
        // 62.5 % of $25.50 is 1593.75 cents.
        let t = terms(Payout::Percent { basis_points: 6_250 });
        assert_eq!(settle(&t, 120_000).payout_cents, 1_593);
        assert_eq!(settle(&t, 70_000).payout_cents, 0, "no revenue, no share");
    }

    #[test]
    fn duplicates_pay_the_publisher_only_when_it_is_paid_for_them() {
        let mut t = terms(Payout::Fixed { cents: 1_000 });
        t.duplicate = true;
        assert_eq!(settle(&t, 120_000).payout_cents, 0);
        assert_eq!(settle(&t, 120_000).revenue_cents, 2_550, "the buyer still pays");
        t.pays_duplicates = true;
        assert_eq!(settle(&t, 120_000).payout_cents, 1_000);
        t.payout = None;
        assert_eq!(settle(&t, 120_000).payout_cents, 0);
    }
}
