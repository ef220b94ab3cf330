//! The order a call's candidates are tried in: highest bid first; among equal bids the
//! lower priority number first; among those, a random order in which each candidate's
//! chance to come first is proportional to its weight. Bids under the campaign's floor
//! are out.
//!
//! The weighted order is Efraimidis and Spirakis' (2006): each candidate draws
//! `u^(1/weight)` for a uniform `u` in (0, 1], and the larger draws go first. One draw
//! each, so ranking n candidates is a sort, and the first place follows the weights
//! exactly.

use rand::Rng;

/// One eligible target with what it offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate<T> {
    pub target: T,
    /// What the call would earn, in cents: the static revenue or the RTB bid.
    pub bid_cents: i64,
    /// Lower goes first among equal bids (the ring tree's priority).
    pub priority: i64,
    /// Relative share among equal bid and priority; at least 1.
    pub weight: i64,
}

/// The candidates to try, best first; those bidding under `floor_cents` dropped.
pub fn rank<T>(
    candidates: Vec<Candidate<T>>,
    floor_cents: i64,
    rng: &mut impl Rng,
) -> Vec<Candidate<T>> {
    let mut keyed: Vec<(f64, Candidate<T>)> = candidates
        .into_iter()
        .filter(|candidate| candidate.bid_cents >= floor_cents)
        .map(|candidate| {
            // (0, 1]: a zero draw would tie every weight at 0.
            let u: f64 = 1.0 - rng.random::<f64>();
            let key = u.powf(1.0 / candidate.weight.max(1) as f64);
            (key, candidate)
        })
        .collect();
    keyed.sort_by(|(key_a, a), (key_b, b)| {
        b.bid_cents.cmp(&a.bid_cents).then(a.priority.cmp(&b.priority)).then(key_b.total_cmp(key_a))
    });
    keyed.into_iter().map(|(_, candidate)| candidate).collect()
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    use super::*;

    fn candidate(
        target: &'static str,
        bid_cents: i64,
        priority: i64,
        weight: i64,
    ) -> Candidate<&'static str> {
        Candidate { target, bid_cents, priority, weight }
    }

    fn order(candidates: Vec<Candidate<&'static str>>, floor: i64, seed: u64) -> Vec<&'static str> {
        rank(candidates, floor, &mut StdRng::seed_from_u64(seed))
            .into_iter()
            .map(|c| c.target)
            .collect()
    }

    #[test]
    fn the_highest_bid_goes_first_then_the_lower_priority() {
        let ranked = order(
            vec![
                candidate("cheap", 1000, 0, 1),
                candidate("rich-late", 3000, 5, 1),
                candidate("rich-early", 3000, 1, 1),
            ],
            0,
            7,
        );
        assert_eq!(ranked, ["rich-early", "rich-late", "cheap"]);
    }

    #[test]
    fn bids_under_the_floor_are_dropped() {
        let ranked = order(vec![candidate("under", 499, 0, 1), candidate("at", 500, 0, 1)], 500, 1);
        assert_eq!(ranked, ["at"]);
    }

    #[test]
    fn equal_candidates_come_first_in_proportion_to_their_weights() {
        let mut rng = StdRng::seed_from_u64(42);
        let mut heavy_first = 0;
        for _ in 0..10_000 {
            let ranked = rank(
                vec![candidate("light", 100, 0, 1), candidate("heavy", 100, 0, 3)],
                0,
                &mut rng,
            );
            heavy_first += usize::from(ranked[0].target == "heavy");
        }
        // 3 / (3 + 1) = 75 %, within a few standard deviations (σ ≈ 0.43 %).
        assert!((7_300..=7_700).contains(&heavy_first), "{heavy_first}");
    }

    #[test]
    fn a_weight_below_one_counts_as_one() {
        let ranked = order(vec![candidate("zero", 100, 0, 0), candidate("one", 100, 0, 1)], 0, 3);
        assert_eq!(ranked.len(), 2);
    }
}
