//! Caps and concurrency, exact under concurrent calls: a call claims each target it may
//! ring before it is connected anywhere, and the claim counts against the target's
//! concurrency cap and, until the call is connected or let go, against its caps too. So
//! two calls racing for a target's last place never both get it.
//!
//! A claim is taken for every ranked candidate when the call is routed and released as
//! soon as that leg fails or another answers: conservative (a target can look full for
//! the seconds an earlier candidate rings) and never over the cap.
//!
//! Caps count calls a target took (connected), per hour, day and month of the target's
//! time zone and in all. One node (SQLite) counts in memory and keeps what was taken in
//! `target_counts`, read back at start. Nodes sharing PostgreSQL claim from leases they
//! hold on each target's caps (see `calls::leases`), so no claim waits on the database.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::{
    calls::leases::Leases,
    calls::writer::{Write, Writer},
    db::{Db, with_pool},
    network::targets::{Period, Target},
};

/// Why a target cannot take another call now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Full {
    Concurrency(u32),
    Cap(Period, u32),
    /// The shared counts could not be read: the target is not rung rather than overrun.
    Unknown(String),
}

impl std::fmt::Display for Full {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Concurrency(cap) => write!(f, "concurrency cap reached ({cap} live)"),
            Self::Cap(period, cap) => {
                let calls = if *cap == 1 { "call" } else { "calls" };
                match period {
                    Period::Total => write!(f, "total cap reached ({cap} {calls})"),
                    _ => write!(f, "{0} cap reached ({cap} {calls} this {0})", period.as_str()),
                }
            }
            Self::Unknown(why) => write!(f, "its call counts cannot be read: {why}"),
        }
    }
}

/// Whether `target` can take one more call, given its calls ringing (`pending`), live
/// (`connected`) and taken per window.
fn fits(
    target: &Target,
    pending: u32,
    connected: u32,
    taken: impl Fn(Period, &str) -> u32,
    now: DateTime<Utc>,
) -> Result<(), Full> {
    if let Some(cap) = target.concurrency_cap
        && pending + connected >= cap
    {
        return Err(Full::Concurrency(cap));
    }
    for period in Period::ALL {
        if let Some(cap) = period.cap(&target.caps)
            && taken(period, &period.bucket(now, &target.time_zone)) + pending >= cap
        {
            return Err(Full::Cap(period, cap));
        }
    }
    Ok(())
}

/// Whether `target` has anything to count: a cap or a concurrency cap.
pub fn limited(target: &Target) -> bool {
    target.concurrency_cap.is_some() || Period::ALL.iter().any(|p| p.cap(&target.caps).is_some())
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

    fn fits(&self, target: &Target, now: DateTime<Utc>) -> Result<(), Full> {
        fits(target, self.pending, self.connected, |p, b| self.taken(p, b), now)
    }
}

/// Counts per target: in memory for one node, from leases for several.
#[derive(Debug)]
pub struct Counters {
    local: Mutex<HashMap<Uuid, Counts>>,
    shared: Option<Arc<Leases>>,
    writer: Writer,
}

impl Counters {
    /// In-memory counters starting from calls already taken: `(target, period, bucket,
    /// calls)`.
    pub fn with_taken(
        rows: impl IntoIterator<Item = (Uuid, Period, String, u32)>,
        writer: Writer,
    ) -> Counters {
        let mut targets: HashMap<Uuid, Counts> = HashMap::new();
        add_taken(&mut targets, rows);
        Counters { local: Mutex::new(targets), shared: None, writer }
    }

    /// The counters for `db`: leased from the database on PostgreSQL; on SQLite in
    /// memory, starting from the calls `target_counts` says targets took.
    pub async fn load(db: &Db, node: Uuid, writer: Writer) -> Result<Counters, sqlx::Error> {
        if let Db::Postgres(pool) = db {
            let leases = Leases::new(pool.clone(), node);
            return Ok(Counters {
                local: Mutex::default(),
                shared: Some(Arc::new(leases)),
                writer,
            });
        }
        let rows: Vec<TakenRow> = with_pool!(db, pool => {
            sqlx::query_as("SELECT target_id, period, bucket, calls FROM target_counts").fetch_all(pool).await
        })?;
        Ok(Self::with_taken(typed(rows), writer))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Counts>> {
        self.local.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps this node's leases on the targets `limited` names (on PostgreSQL; one node
    /// needs none).
    pub fn keep_leases(
        &self,
        limited: impl Fn() -> Vec<Target> + Send + 'static,
        tasks: &crate::tasks::Tasks,
    ) {
        if let Some(leases) = &self.shared {
            leases.clone().spawn_keeper(limited, tasks);
        }
    }

    /// This node's leases, when it shares caps with other nodes.
    #[cfg(test)]
    pub(crate) fn leases(&self) -> Option<&Arc<Leases>> {
        self.shared.as_ref()
    }

    /// Waits (briefly: see `calls::leases`) for this node's leases on `targets` to hold a
    /// call where they are short and the database may grant more; at once on one node.
    pub async fn ready(&self, targets: &[&Target], now: DateTime<Utc>) {
        if let Some(leases) = &self.shared {
            leases.ready(targets.iter().copied().filter(|t| limited(t)), now).await;
        }
    }

    /// The targets among `targets` that cannot take a call now, and why (a claim may
    /// still lose a race).
    pub fn full(&self, targets: &[&Target], now: DateTime<Utc>) -> HashMap<Uuid, Full> {
        let limited = targets.iter().copied().filter(|t| limited(t));
        if let Some(leases) = &self.shared {
            return limited.filter_map(|t| Some((t.id, leases.check(t, now).err()?))).collect();
        }
        let local = self.lock();
        limited
            .filter_map(|t| {
                let full = local.get(&t.id).map_or(Ok(()), |c| c.fits(t, now)).err()?;
                Some((t.id, full))
            })
            .collect()
    }

    /// Claims a place for `call` at each of `targets`; each answer says whether it got one.
    pub fn claim(
        &self,
        targets: &[&Target],
        call: Uuid,
        now: DateTime<Utc>,
    ) -> Vec<Result<(), Full>> {
        if let Some(leases) = &self.shared {
            // A target without caps or a concurrency cap has nothing to count.
            return targets
                .iter()
                .map(|t| if limited(t) { leases.claim(t, call, now) } else { Ok(()) })
                .collect();
        }
        let mut local = self.lock();
        targets
            .iter()
            .map(|target| {
                let counts = local.entry(target.id).or_default();
                counts.fits(target, now)?;
                counts.pending += 1;
                Ok(())
            })
            .collect()
    }

    /// `call`'s claim on `target` let go without the call being connected there.
    pub fn release(&self, target: Uuid, call: Uuid) {
        if let Some(leases) = &self.shared {
            leases.release(target, call);
        } else if let Some(counts) = self.lock().get_mut(&target) {
            counts.pending = counts.pending.saturating_sub(1);
        }
    }

    /// `call` was connected to `target`: it is counted in every window, and stays live
    /// until [`Counters::hang_up`].
    pub fn connect(&self, target: &Target, call: Uuid, at: DateTime<Utc>) {
        if let Some(leases) = &self.shared {
            if let Some(used) = leases.connect(target, call) {
                self.writer.send(used);
            }
        } else {
            let mut local = self.lock();
            let counts = local.entry(target.id).or_default();
            counts.pending = counts.pending.saturating_sub(1);
            counts.connected += 1;
            for period in Period::ALL {
                let bucket = period.bucket(at, &target.time_zone);
                let entry = counts.taken.entry(period).or_insert_with(|| (bucket.clone(), 0));
                if entry.0 != bucket {
                    *entry = (bucket, 0);
                }
                entry.1 += 1;
            }
        }
        for period in Period::ALL {
            let bucket = period.bucket(at, &target.time_zone);
            self.writer.send(Write::Taken { target: target.id, period, bucket });
        }
    }

    /// `call`, connected to `target`, ended.
    pub fn hang_up(&self, target: Uuid) {
        if let Some(leases) = &self.shared {
            leases.hang_up(target);
        } else if let Some(counts) = self.lock().get_mut(&target) {
            counts.connected = counts.connected.saturating_sub(1);
        }
    }
}

/// A `target_counts` row: target, period, bucket, calls.
pub(super) type TakenRow = (Uuid, String, String, i64);

fn typed(rows: Vec<TakenRow>) -> impl Iterator<Item = (Uuid, Period, String, u32)> {
    rows.into_iter().filter_map(|(target, period, bucket, calls)| {
        Some((target, Period::parse(&period)?, bucket, u32::try_from(calls).unwrap_or(u32::MAX)))
    })
}

/// Each target's calls taken in its newest window of each period.
fn add_taken(
    counts: &mut HashMap<Uuid, Counts>,
    rows: impl IntoIterator<Item = (Uuid, Period, String, u32)>,
) {
    for (target, period, bucket, calls) in rows {
        let c = counts.entry(target).or_default();
        if c.taken.get(&period).is_none_or(|(current, _)| *current < bucket) {
            c.taken.insert(period, (bucket, calls));
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::network::targets::testing::target;

    /// In-memory counters whose writes go nowhere.
    fn counters(taken: Vec<(Uuid, Period, String, u32)>) -> Counters {
        Counters::with_taken(taken, Writer::detached())
    }

    fn claim(counters: &Counters, target: &Target, now: DateTime<Utc>) -> Result<(), Full> {
        counters.claim(&[target], Uuid::now_v7(), now).remove(0)
    }

    #[tokio::test]
    async fn on_a_shared_database_only_targets_with_limits_are_claimed_there() {
        // A database nobody answers, so no lease: only a target with caps is refused.
        let pool = sqlx::postgres::PgPoolOptions::new()
            .acquire_timeout(std::time::Duration::from_millis(200))
            .connect_lazy("postgres://postgres@127.0.0.1:1/nowhere")
            .unwrap();
        let counters = Counters {
            local: Mutex::default(),
            shared: Some(Arc::new(Leases::new(pool, Uuid::now_v7()))),
            writer: Writer::detached(),
        };
        let (open, other) = (target(), target());
        let mut capped = target();
        capped.caps.day = Some(10);
        let answers = counters.claim(&[&open, &capped, &other], Uuid::now_v7(), Utc::now());
        assert_eq!(answers[0], Ok(()));
        assert!(matches!(answers[1], Err(Full::Unknown(_))), "{:?}", answers[1]);
        assert_eq!(answers[2], Ok(()));
    }

    #[test]
    fn the_last_place_goes_to_one_claim_only() {
        let mut t = target();
        t.concurrency_cap = Some(1);
        let counters = counters(Vec::new());
        let (now, call) = (Utc::now(), Uuid::now_v7());
        assert_eq!(claim(&counters, &t, now), Ok(()));
        assert_eq!(claim(&counters, &t, now), Err(Full::Concurrency(1)));
        counters.connect(&t, call, now);
        assert_eq!(counters.full(&[&t], now).get(&t.id), Some(&Full::Concurrency(1)));
        counters.hang_up(t.id);
        assert_eq!(claim(&counters, &t, now), Ok(()));
        counters.release(t.id, call);
        assert!(counters.full(&[&t], now).is_empty());
    }

    #[test]
    fn caps_count_taken_calls_per_window_in_the_targets_zone() {
        let mut t = target();
        t.time_zone = "America/New_York".into();
        t.caps.day = Some(2);
        let counters = counters(Vec::new());
        let call = Uuid::now_v7();
        // 04:30 UTC on the 2nd is still the 1st in New York.
        let late_first = Utc.with_ymd_and_hms(2026, 12, 2, 4, 30, 0).unwrap();
        assert_eq!(Period::Day.bucket(late_first, &t.time_zone), "2026-12-01");
        claim(&counters, &t, late_first).unwrap();
        counters.connect(&t, call, late_first);
        claim(&counters, &t, late_first).unwrap();
        // One taken and one pending: the cap of two is reached until the pending one goes.
        assert_eq!(claim(&counters, &t, late_first), Err(Full::Cap(Period::Day, 2)));
        counters.release(t.id, call);
        counters.connect(&t, call, late_first);
        claim(&counters, &t, late_first).unwrap_err();
        // A new day in New York: the cap is free again.
        let second = Utc.with_ymd_and_hms(2026, 12, 2, 5, 30, 0).unwrap();
        assert_eq!(claim(&counters, &t, second), Ok(()));
    }

    #[test]
    fn taken_calls_are_read_back_at_start() {
        let mut t = target();
        t.caps.total = Some(3);
        let counters = counters(vec![(t.id, Period::Total, "all".to_owned(), 3)]);
        assert_eq!(counters.full(&[&t], Utc::now()).get(&t.id), Some(&Full::Cap(Period::Total, 3)));
    }
}
