//! Caps and concurrency, exact under concurrent calls: a call claims each target it may
//! ring before it is connected anywhere, and the claim counts against the target's
//! concurrency cap and, until the call is connected or let go, against its caps too. So
//! two calls racing for a target's last slot never both get it.
//!
//! A claim is taken for every ranked candidate when the call is routed and released as
//! soon as that leg fails or another answers: conservative (a target can look full for
//! the seconds an earlier candidate rings) and never over the cap.
//!
//! Caps count calls a target took (connected), per hour, day and month of the target's
//! time zone and in all. This is one node's count; the count is also written to
//! `target_counts` and read back at start.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::{
    db::{Db, with_pool},
    network::targets::{Caps, Target},
};

/// A cap window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Period {
    Hour,
    Day,
    Month,
    Total,
}

impl Period {
    pub const ALL: [Period; 4] = [Period::Hour, Period::Day, Period::Month, Period::Total];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Month => "month",
            Self::Total => "total",
        }
    }

    pub fn parse(text: &str) -> Option<Period> {
        Self::ALL.into_iter().find(|period| period.as_str() == text)
    }

    fn cap(self, caps: &Caps) -> Option<u32> {
        match self {
            Self::Hour => caps.hour,
            Self::Day => caps.day,
            Self::Month => caps.month,
            Self::Total => caps.total,
        }
    }

    /// The window `at` falls in, as local time text in `zone`.
    pub fn bucket(self, at: DateTime<Utc>, zone: &str) -> String {
        let zone: Tz = zone.parse().unwrap_or(Tz::UTC);
        let local = at.with_timezone(&zone);
        match self {
            Self::Hour => local.format("%Y-%m-%dT%H").to_string(),
            Self::Day => local.format("%Y-%m-%d").to_string(),
            Self::Month => local.format("%Y-%m").to_string(),
            Self::Total => "all".to_owned(),
        }
    }
}

/// Why a target cannot take another call now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Full {
    Concurrency(u32),
    Cap(Period, u32),
}

impl std::fmt::Display for Full {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Concurrency(cap) => write!(f, "concurrency cap reached ({cap} live)"),
            Self::Cap(Period::Total, cap) => write!(f, "total cap reached ({cap} calls)"),
            Self::Cap(period, cap) => {
                write!(f, "{} cap reached ({cap} calls this {})", period.as_str(), period.as_str())
            }
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    /// Claims of calls not connected yet.
    pending: u32,
    /// Calls connected and not ended.
    connected: u32,
    /// Calls taken per window: the window's bucket and its count.
    taken: HashMap<Period, (String, u32)>,
}

impl Counts {
    fn taken(&self, period: Period, bucket: &str) -> u32 {
        match self.taken.get(&period) {
            Some((current, count)) if current == bucket => *count,
            _ => 0,
        }
    }

    fn check(&self, target: &Target, now: DateTime<Utc>) -> Result<(), Full> {
        if let Some(cap) = target.concurrency_cap
            && self.pending + self.connected >= cap
        {
            return Err(Full::Concurrency(cap));
        }
        for period in Period::ALL {
            if let Some(cap) = period.cap(&target.caps) {
                let taken = self.taken(period, &period.bucket(now, &target.time_zone));
                if taken + self.pending >= cap {
                    return Err(Full::Cap(period, cap));
                }
            }
        }
        Ok(())
    }
}

/// This node's counts per target.
#[derive(Debug, Default)]
pub struct Counters {
    targets: Mutex<HashMap<Uuid, Counts>>,
}

impl Counters {
    /// Counters starting from calls already taken: `(target, period, bucket, calls)`.
    pub fn with_taken(rows: impl IntoIterator<Item = (Uuid, Period, String, u32)>) -> Counters {
        let mut targets: HashMap<Uuid, Counts> = HashMap::new();
        for (target, period, bucket, calls) in rows {
            let counts = targets.entry(target).or_default();
            let newer = counts.taken.get(&period).is_none_or(|(current, _)| *current < bucket);
            if newer {
                counts.taken.insert(period, (bucket, calls));
            }
        }
        Counters { targets: Mutex::new(targets) }
    }

    /// Counters starting from the calls `target_counts` says targets took.
    pub async fn load(db: &Db) -> Result<Counters, sqlx::Error> {
        let rows: Vec<(Uuid, String, String, i64)> = with_pool!(db, pool => {
            sqlx::query_as("SELECT target_id, period, bucket, calls FROM target_counts").fetch_all(pool).await
        })?;
        Ok(Self::with_taken(rows.into_iter().filter_map(|(target, period, bucket, calls)| {
            Some((target, Period::parse(&period)?, bucket, u32::try_from(calls).ok()?))
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Counts>> {
        self.targets.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `target` could take a call now (a claim may still lose a race).
    pub fn check(&self, target: &Target, now: DateTime<Utc>) -> Result<(), Full> {
        self.lock().get(&target.id).map_or(Ok(()), |counts| counts.check(target, now))
    }

    /// Claims a place at `target` for a call, or says why there is none.
    pub fn claim(&self, target: &Target, now: DateTime<Utc>) -> Result<(), Full> {
        let mut targets = self.lock();
        let counts = targets.entry(target.id).or_default();
        counts.check(target, now)?;
        counts.pending += 1;
        Ok(())
    }

    /// A claim let go without the call being connected there.
    pub fn release(&self, target: Uuid) {
        if let Some(counts) = self.lock().get_mut(&target) {
            counts.pending = counts.pending.saturating_sub(1);
        }
    }

    /// The claimed call was connected: it is counted in every window, and stays live
    /// until [`Counters::hang_up`]. Answers the windows it was counted in.
    pub fn connect(&self, target: &Target, at: DateTime<Utc>) -> Vec<(Period, String)> {
        let mut targets = self.lock();
        let counts = targets.entry(target.id).or_default();
        counts.pending = counts.pending.saturating_sub(1);
        counts.connected += 1;
        Period::ALL
            .into_iter()
            .map(|period| {
                let bucket = period.bucket(at, &target.time_zone);
                let entry = counts.taken.entry(period).or_insert_with(|| (bucket.clone(), 0));
                if entry.0 != bucket {
                    *entry = (bucket.clone(), 0);
                }
                entry.1 += 1;
                (period, bucket)
            })
            .collect()
    }

    /// A connected call ended.
    pub fn hang_up(&self, target: Uuid) {
        if let Some(counts) = self.lock().get_mut(&target) {
            counts.connected = counts.connected.saturating_sub(1);
        }
    }

    /// Live calls (ringing or connected) at `target`.
    pub fn live(&self, target: Uuid) -> u32 {
        self.lock().get(&target).map_or(0, |counts| counts.pending + counts.connected)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::network::targets::testing::target;

    #[test]
    fn the_last_place_goes_to_one_claim_only() {
        let mut t = target();
        t.concurrency_cap = Some(1);
        let counters = Counters::default();
        let now = Utc::now();
        assert_eq!(counters.claim(&t, now), Ok(()));
        assert_eq!(counters.claim(&t, now), Err(Full::Concurrency(1)));
        counters.connect(&t, now);
        assert_eq!(counters.check(&t, now), Err(Full::Concurrency(1)));
        counters.hang_up(t.id);
        assert_eq!(counters.claim(&t, now), Ok(()));
        counters.release(t.id);
        assert_eq!(counters.live(t.id), 0);
    }

    #[test]
    fn caps_count_taken_calls_per_window_in_the_targets_zone() {
        let mut t = target();
        t.time_zone = "America/New_York".into();
        t.caps.day = Some(2);
        let counters = Counters::default();
        // 04:30 UTC on the 2nd is still the 1st in New York.
        let late_first = Utc.with_ymd_and_hms(2026, 12, 2, 4, 30, 0).unwrap();
        counters.claim(&t, late_first).unwrap();
        let windows = counters.connect(&t, late_first);
        assert!(windows.contains(&(Period::Day, "2026-12-01".to_owned())), "{windows:?}");
        counters.claim(&t, late_first).unwrap();
        // One taken and one pending: the cap of two is reached until the pending one goes.
        assert_eq!(counters.claim(&t, late_first), Err(Full::Cap(Period::Day, 2)));
        counters.release(t.id);
        counters.connect(&t, late_first);
        counters.claim(&t, late_first).unwrap_err();
        // A new day in New York: the cap is free again.
        let second = Utc.with_ymd_and_hms(2026, 12, 2, 5, 30, 0).unwrap();
        assert_eq!(counters.claim(&t, second), Ok(()));
    }

    #[test]
    fn taken_calls_are_read_back_at_start() {
        let mut t = target();
        t.caps.total = Some(3);
        let counters = Counters::with_taken([(t.id, Period::Total, "all".to_owned(), 3)]);
        assert_eq!(counters.check(&t, Utc::now()), Err(Full::Cap(Period::Total, 3)));
    }
}
