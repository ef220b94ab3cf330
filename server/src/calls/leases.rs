//! Caps shared by the nodes of one PostgreSQL database, kept off the call's path.
//!
//! A node does not ask the database per call. It holds a lease on each capped target: a
//! share of the calls the target's caps leave in the current windows, and a share of its
//! places for live calls. Calls are routed from the lease in memory; a keeper task tops
//! leases up (two rounds' worth of recent claims, at most [`MAX_BLOCK`]) and hands back
//! what is not needed, every [`REFRESH`] and whenever a lease runs low. A call to a
//! target whose lease is short waits for one round, at most [`READY_WAIT`] (a node idle
//! for a few rounds holds nothing, leaving the caps to nodes with calls). In
//! the database, `target_leases` holds every node's shares under a per-target advisory
//! lock, and a taken call moves from its node's lease to `target_counts` in the writer's
//! transaction, so the calls taken plus the calls leased never exceed a cap.
//!
//! The bound, stated: caps hold across nodes exactly, but for calls ringing at the turn
//! of a window (reserved in the old window's lease, counted in the new window when they
//! connect) and clocks that disagree about when a window turns. When the database is
//! unreachable a node keeps routing from what it holds; it stops drawing on a lease not
//! confirmed for [`VALID`], before the other nodes (after `recovery::PRESUMED_DEAD`
//! without a heartbeat) take a silent node's leases back. Targets without caps or a
//! concurrency cap have no lease and never wait on anything; in an outage nothing waits
//! longer than [`READY_WAIT`].

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::PgPool;
use tokio::sync::Notify;
use uuid::Uuid;

use super::counters::{Full, TakenRow, limited};
use super::writer::Write;
use crate::network::targets::{Period, Target};

/// How often leases are renewed, topped up and trimmed.
pub const REFRESH: Duration = Duration::from_secs(1);
/// How long a node draws on a lease the database has not confirmed.
pub const VALID: Duration = Duration::from_secs(20);
/// The longest a call waits for a short lease to be topped up (only a target with limits,
/// only when the database may grant more).
const READY_WAIT: Duration = Duration::from_millis(250);
/// The soonest a lease running low is topped up after the round before.
const EARLIEST: Duration = Duration::from_millis(50);
/// The most calls (and spare places for live calls) one lease holds unused.
pub const MAX_BLOCK: u32 = 50;

/// The windows a lease's calls were granted in.
#[derive(Clone, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Windows {
    pub hour: String,
    pub day: String,
    pub month: String,
}

impl Windows {
    fn at(now: DateTime<Utc>, zone: &str) -> Windows {
        Windows {
            hour: Period::Hour.bucket(now, zone),
            day: Period::Day.bucket(now, zone),
            month: Period::Month.bucket(now, zone),
        }
    }

    fn bucket(&self, period: Period) -> &str {
        match period {
            Period::Hour => &self.hour,
            Period::Day => &self.day,
            Period::Month => &self.month,
            Period::Total => "all",
        }
    }
}

fn capped(target: &Target) -> bool {
    Period::ALL.iter().any(|p| p.cap(&target.caps).is_some())
}

/// What this node holds of one target.
#[derive(Debug)]
struct Lease {
    /// The target as last routed to (its caps and zone).
    target: Target,
    /// The windows `calls` were granted in; `None` until the first grant.
    windows: Option<Windows>,
    /// Counts grants in new windows, so a call reserved in an old one is not given back
    /// to the new one.
    generation: u64,
    /// Calls granted and not reserved.
    calls: u32,
    /// Places for live calls granted.
    slots: u32,
    /// Calls ringing with a reservation, and the generation each was reserved from.
    ringing: HashMap<Uuid, u64>,
    connected: u32,
    /// Claims since the last refresh.
    demand: u32,
    /// Claims a round, recently: the latest round's, or less each round without calls.
    pace: f32,
    confirmed: Option<Instant>,
    /// The window whose cap the last grant found reached.
    reached: Option<(Period, u32)>,
}

impl Lease {
    fn new(target: Target) -> Lease {
        Lease {
            target,
            windows: None,
            generation: 0,
            calls: 0,
            slots: 0,
            ringing: HashMap::new(),
            connected: 0,
            demand: 0,
            pace: 0.0,
            confirmed: None,
            reached: None,
        }
    }

    fn live(&self) -> u32 {
        self.ringing.len() as u32 + self.connected
    }

    /// Whether the lease can take one more call now.
    fn fits(&self, now: DateTime<Utc>) -> Result<(), Full> {
        let target = &self.target;
        if let Some(cap) = target.concurrency_cap
            && self.live() >= self.slots
        {
            return Err(if self.confirmed.is_some() {
                Full::Concurrency(cap)
            } else {
                Full::Unknown("no share of its concurrency cap is leased yet".into())
            });
        }
        if !capped(target) {
            return Ok(());
        }
        let current = self.windows.as_ref() == Some(&Windows::at(now, &target.time_zone));
        let confirmed = self.confirmed.is_some_and(|at| at.elapsed() < VALID);
        if !current || !confirmed {
            return Err(Full::Unknown(
                "no share of its caps is leased for this window (the database has not answered)"
                    .into(),
            ));
        }
        if self.calls == 0 {
            return Err(match self.reached {
                Some((period, cap)) => Full::Cap(period, cap),
                None => Full::Unknown("this node's share of its caps is used up for now".into()),
            });
        }
        Ok(())
    }

    /// Whether the lease cannot take a call now but a refresh may let it.
    fn short(&self, now: DateTime<Utc>) -> bool {
        match self.fits(now) {
            Ok(()) | Err(Full::Cap(..)) => false,
            // Places other nodes hold may have been handed back (or their node declared
            // dead) since the last round.
            Err(Full::Concurrency(cap)) => self.slots < cap,
            Err(Full::Unknown(_)) => true,
        }
    }

    /// Whether the keeper should top the lease up now rather than at its next round.
    fn low(&self) -> bool {
        let want = want(self.pace.max(self.demand as f32));
        (capped(&self.target) && self.calls < want / 2 + 1)
            || (self.target.concurrency_cap.is_some() && self.slots < self.live() + want / 2 + 1)
    }
}

/// This node's lease on `target`, made when there is none, knowing `target` as it is now
/// (copied only when it was edited: this runs on every call to a target with limits).
fn lease_of<'a>(held: &'a mut HashMap<Uuid, Lease>, target: &Target) -> &'a mut Lease {
    let lease = held.entry(target.id).or_insert_with(|| Lease::new(target.clone()));
    if lease.target.updated_at != target.updated_at {
        lease.target.clone_from(target);
    }
    lease
}

/// The unused calls (and spare places) to hold at a pace of `pace` claims a round: two
/// rounds' worth, and none once a node has been idle for a few rounds, so a node without
/// calls leaves the caps to those with them.
fn want(pace: f32) -> u32 {
    (2.0 * pace).round().min(MAX_BLOCK as f32) as u32
}

/// How much of the pace is left after a round without calls.
const PACE_DECAY: f32 = 0.8;

/// The leases of one node.
#[derive(Debug)]
pub struct Leases {
    pool: PgPool,
    node: Uuid,
    held: Mutex<HashMap<Uuid, Lease>>,
    /// Asks the keeper for a round now.
    wake: Notify,
    /// Told after every round.
    refreshed: Notify,
}

impl Leases {
    pub fn new(pool: PgPool, node: Uuid) -> Leases {
        Leases { pool, node, held: Mutex::default(), wake: Notify::new(), refreshed: Notify::new() }
    }

    /// Waits up to [`READY_WAIT`] for the keeper's next round when a lease on `targets`
    /// is short and a round may top it up, counting the call in its demand.
    pub async fn ready(&self, targets: impl Iterator<Item = &Target>, now: DateTime<Utc>) {
        let refreshed = self.refreshed.notified();
        tokio::pin!(refreshed);
        refreshed.as_mut().enable();
        let mut short = false;
        {
            let mut held = self.lock();
            for target in targets {
                let lease = lease_of(&mut held, target);
                if lease.short(now) {
                    lease.demand = lease.demand.saturating_add(1);
                    short = true;
                }
            }
        }
        if short {
            self.wake.notify_one();
            let _ = tokio::time::timeout(READY_WAIT, refreshed).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, Lease>> {
        self.held.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether `target` (which has limits) could take a call now.
    pub fn check(&self, target: &Target, now: DateTime<Utc>) -> Result<(), Full> {
        let mut held = self.lock();
        let lease = lease_of(&mut held, target);
        let fits = lease.fits(now);
        if let Err(Full::Unknown(_)) = fits {
            self.wake.notify_one();
        }
        fits
    }

    /// Reserves a place for `call` at `target` (which has limits) from the lease.
    pub fn claim(&self, target: &Target, call: Uuid, now: DateTime<Utc>) -> Result<(), Full> {
        let mut held = self.lock();
        let lease = lease_of(&mut held, target);
        lease.demand = lease.demand.saturating_add(1);
        let fits = lease.fits(now);
        if fits.is_ok() {
            if capped(target) {
                lease.calls -= 1;
            }
            lease.ringing.insert(call, lease.generation);
        }
        if lease.low() {
            self.wake.notify_one();
        }
        fits
    }

    /// `call`'s place at `target` let go without the call being connected there.
    pub fn release(&self, target: Uuid, call: Uuid) {
        let mut held = self.lock();
        let Some(lease) = held.get_mut(&target) else { return };
        if lease.ringing.remove(&call) == Some(lease.generation) && capped(&lease.target) {
            lease.calls += 1;
        }
    }

    /// `call` was connected to `target`: its reserved call is taken. Answers the write
    /// that moves it from the lease to the counts in the database.
    pub fn connect(&self, target: &Target, call: Uuid) -> Option<Write> {
        let mut held = self.lock();
        let lease = held.get_mut(&target.id)?;
        let generation = lease.ringing.remove(&call)?;
        lease.connected += 1;
        let windows = lease.windows.clone()?;
        (generation == lease.generation && capped(target)).then_some(Write::LeaseUsed {
            target: target.id,
            node: self.node,
            windows,
        })
    }

    /// `call`, connected to `target`, ended.
    pub fn hang_up(&self, target: Uuid) {
        if let Some(lease) = self.lock().get_mut(&target) {
            lease.connected = lease.connected.saturating_sub(1);
        }
    }

    /// Keeps the leases of the targets `limited` names (every target with limits the
    /// node may route to) and of those it has routed to, until the process ends.
    pub fn spawn_keeper(
        self: Arc<Self>,
        limited: impl Fn() -> Vec<Target> + Send + 'static,
        tasks: &crate::tasks::Tasks,
    ) {
        tasks.spawn("lease keeper", async move {
            loop {
                let mut targets: BTreeMap<Uuid, Target> =
                    limited().into_iter().map(|t| (t.id, t)).collect();
                {
                    let held = self.lock();
                    for (id, lease) in held.iter() {
                        targets.entry(*id).or_insert_with(|| lease.target.clone());
                    }
                }
                let targets: Vec<Target> = targets.into_values().collect();
                if !targets.is_empty()
                    && let Err(error) = self.refresh(&targets, Utc::now()).await
                {
                    tracing::warn!(%error, "cannot renew the leases on capped targets; routing from what this node holds");
                }
                self.refreshed.notify_waiters();
                tokio::select! {
                    () = tokio::time::sleep(REFRESH) => {}
                    () = self.wake.notified() => {
                        // At most 20 early rounds a second, however often leases run low
                        // (a target at its cap is low on every call).
                        tokio::time::sleep(EARLIEST).await;
                    }
                }
            }
        })
    }

    /// Renews, tops up and trims the leases of `targets` in one transaction, each target
    /// locked in one order (so nodes refreshing the same targets never wait in a circle).
    pub async fn refresh(&self, targets: &[Target], now: DateTime<Utc>) -> Result<(), sqlx::Error> {
        let targets: Vec<&Target> = targets.iter().filter(|t| limited(t)).collect();
        let ids: Vec<Uuid> = targets.iter().map(|t| t.id).collect();
        let mut tx = self.pool.begin().await?;
        for id in &ids {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(lock_key(*id))
                .execute(&mut *tx)
                .await?;
        }
        let rows: Vec<LeaseRow> = sqlx::query_as(
            "SELECT target_id, node_id, hour_bucket, day_bucket, month_bucket, calls, slots \
             FROM target_leases WHERE target_id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
        let taken: Vec<TakenRow> = sqlx::query_as(
            "SELECT target_id, period, bucket, calls FROM target_counts WHERE target_id = ANY($1)",
        )
        .bind(&ids)
        .fetch_all(&mut *tx)
        .await?;
        let mut plans = Vec::with_capacity(targets.len());
        {
            let mut held = self.lock();
            for target in &targets {
                let lease = lease_of(&mut held, target);
                let windows = Windows::at(now, &target.time_zone);
                let plan = plan(lease, &windows, self.node, &rows, &taken);
                plans.push((target.id, windows, plan));
            }
        }
        // From here on a failure must give back to the leases what the plans set aside.
        let committed = async {
            for (target, windows, plan) in &plans {
                write(&mut tx, *target, self.node, windows, plan, now).await?;
            }
            tx.commit().await
        }
        .await;
        let confirmed = Instant::now();
        let mut held = self.lock();
        for (target, windows, plan) in plans {
            let Some(lease) = held.get_mut(&target) else { continue };
            match (&committed, plan.calls) {
                (Ok(()), Calls::Add(delta)) if delta > 0 => lease.calls += delta as u32,
                (Ok(()), Calls::Add(_)) => {}
                (Ok(()), Calls::Grant(calls)) => {
                    lease.windows = Some(windows);
                    lease.generation += 1;
                    lease.calls = calls;
                }
                // What was set aside to hand back is this node's still.
                (Err(_), Calls::Add(delta)) if delta < 0 => {
                    lease.calls += delta.unsigned_abs() as u32
                }
                (Err(_), _) => {}
            }
            match &committed {
                Ok(()) => {
                    lease.slots = plan.slots;
                    lease.confirmed = Some(confirmed);
                    lease.reached = plan.reached;
                }
                Err(_) => lease.slots = lease.slots.max(plan.slots_before),
            }
        }
        committed
    }
}

/// Writes what `plan` makes of this node's lease on `target`.
async fn write(
    tx: &mut sqlx::PgConnection,
    target: Uuid,
    node: Uuid,
    windows: &Windows,
    plan: &Plan,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let query = match plan.calls {
        Calls::Add(delta) => sqlx::query(
            "UPDATE target_leases SET calls = calls + $3, slots = $4, renewed_at = $5 \
             WHERE target_id = $1 AND node_id = $2",
        )
        .bind(target)
        .bind(node)
        .bind(delta)
        .bind(i64::from(plan.slots))
        .bind(now),
        Calls::Grant(calls) => sqlx::query(
            "INSERT INTO target_leases (target_id, node_id, calls, slots, renewed_at, \
             hour_bucket, day_bucket, month_bucket) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (target_id, node_id) DO UPDATE SET calls = excluded.calls, \
             slots = excluded.slots, renewed_at = excluded.renewed_at, \
             hour_bucket = excluded.hour_bucket, day_bucket = excluded.day_bucket, \
             month_bucket = excluded.month_bucket",
        )
        .bind(target)
        .bind(node)
        .bind(i64::from(calls))
        .bind(i64::from(plan.slots))
        .bind(now)
        .bind(&windows.hour)
        .bind(&windows.day)
        .bind(&windows.month),
    };
    query.execute(tx).await.map(drop)
}

/// A `target_leases` row: target, node, windows, calls, slots.
type LeaseRow = (Uuid, Uuid, String, String, String, i64, i64);

/// How a refresh changes one lease.
#[derive(Debug)]
struct Plan {
    calls: Calls,
    slots: u32,
    slots_before: u32,
    reached: Option<(Period, u32)>,
}

#[derive(Clone, Copy, Debug)]
enum Calls {
    /// The lease stays in its windows; its calls change by this much (given back when
    /// negative: those are set aside already).
    Add(i64),
    /// A lease for new windows, with this many calls.
    Grant(u32),
}

/// What `lease` should hold now, given every node's leases (`rows`) and the calls
/// taken (`taken`) as the database has them. Calls handed back and places given up leave
/// the lease at once; what is added waits for the commit.
fn plan(
    lease: &mut Lease,
    windows: &Windows,
    node: Uuid,
    rows: &[LeaseRow],
    taken: &[TakenRow],
) -> Plan {
    let target = lease.target.clone();
    let demand = std::mem::take(&mut lease.demand);
    lease.pace = (lease.pace * PACE_DECAY).max(demand as f32);
    let want = i64::from(want(lease.pace));
    let of_target = rows.iter().filter(|row| row.0 == target.id);
    let mut own: Option<&LeaseRow> = None;
    let mut others_slots = 0;
    let mut others_calls: HashMap<Period, i64> = HashMap::new();
    for row in of_target {
        if row.1 == node {
            own = Some(row);
            continue;
        }
        others_slots += row.6;
        let row_windows = Windows { hour: row.2.clone(), day: row.3.clone(), month: row.4.clone() };
        for period in Period::ALL {
            if row_windows.bucket(period) == windows.bucket(period) {
                *others_calls.entry(period).or_default() += row.5;
            }
        }
    }
    // The calls the caps leave for this node, counting what it holds already.
    let mut room = i64::MAX;
    let mut reached = None;
    for period in Period::ALL {
        let Some(cap) = period.cap(&target.caps) else { continue };
        let bucket = windows.bucket(period);
        let taken: i64 = taken
            .iter()
            .filter(|t| t.0 == target.id && t.1 == period.as_str() && t.2 == bucket)
            .map(|t| t.3)
            .sum();
        let left = i64::from(cap) - taken - others_calls.get(&period).copied().unwrap_or(0);
        if left < room {
            room = left;
            if left <= 0 {
                reached = Some((period, cap));
            }
        }
    }
    let own_windows =
        own.map(|row| Windows { hour: row.2.clone(), day: row.3.clone(), month: row.4.clone() });
    let calls = if !capped(&target) {
        Calls::Grant(0)
    } else if own_windows.as_ref() == Some(windows) && lease.windows.as_ref() == Some(windows) {
        let held_in_db = own.map_or(0, |row| row.5);
        let mut delta = (want - i64::from(lease.calls)).min(room - held_in_db);
        if delta < 0 {
            delta = delta.max(-i64::from(lease.calls));
            lease.calls -= delta.unsigned_abs() as u32;
        }
        Calls::Add(delta)
    } else {
        Calls::Grant(want.min(room).max(0) as u32)
    };
    let slots_before = lease.slots;
    let slots = match target.concurrency_cap {
        Some(cap) => {
            (i64::from(lease.live()) + want).min(i64::from(cap) - others_slots).max(0) as u32
        }
        None => 0,
    };
    lease.slots = lease.slots.min(slots);
    Plan { calls, slots, slots_before, reached }
}

/// The advisory lock that serialises leases on one target.
fn lock_key(target: Uuid) -> i64 {
    let bytes = target.as_bytes();
    i64::from_be_bytes(bytes[8..16].try_into().expect("eight bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::counters::Counters;
    use crate::calls::writer::Writer;
    use crate::db::{Db, nodes};
    use crate::network::targets::testing::target;

    /// Nodes sharing one PostgreSQL database (none without `TEST_DATABASE_URL`), each
    /// with its counters and a real writer.
    async fn nodes(count: usize) -> Option<(bidline_tests::TestDatabase, Db, Vec<Arc<Counters>>)> {
        let (test_db, db) = crate::db::testing::migrated_databases()
            .await
            .into_iter()
            .find(|(_, db)| matches!(db, Db::Postgres(_)))?;
        let mut counters = Vec::new();
        for _ in 0..count {
            let node = nodes::NodeInfo::new("127.0.0.1:0".parse().unwrap());
            nodes::register(&db, &node).await.unwrap();
            let (writer, _) = Writer::spawn(&db, None);
            counters.push(Arc::new(Counters::load(&db, node.id, writer).await.unwrap()));
        }
        Some((test_db, db, counters))
    }

    /// A keeper's round on every node, once the writers have written.
    async fn refresh_all(nodes: &[Arc<Counters>], target: &Target) {
        tokio::time::sleep(Duration::from_millis(60)).await;
        for node in nodes {
            node.leases().unwrap().refresh(std::slice::from_ref(target), Utc::now()).await.unwrap();
        }
    }

    /// A call to `target` on node `at`, as the router places one: a claim, and when the
    /// lease is short, the keeper's rounds (the other nodes trimming theirs too) and a
    /// second try. Connected when it got a place.
    async fn call(nodes: &[Arc<Counters>], at: usize, target: &Target) -> bool {
        let call = Uuid::now_v7();
        let mut claimed = nodes[at].claim(&[target], call, Utc::now()).remove(0).is_ok();
        if !claimed {
            refresh_all(nodes, target).await;
            refresh_all(nodes, target).await;
            claimed = nodes[at].claim(&[target], call, Utc::now()).remove(0).is_ok();
        }
        if claimed {
            nodes[at].connect(target, call, Utc::now());
        }
        claimed
    }

    #[tokio::test]
    async fn nodes_sharing_a_cap_take_exactly_the_cap_between_them() {
        let Some((_test_db, db, nodes)) = nodes(2).await else { return };
        let mut t = target();
        t.caps.day = Some(10);
        refresh_all(&nodes, &t).await;
        let mut taken = 0;
        for round in 0..30 {
            taken += u32::from(call(&nodes, round % 2, &t).await);
        }
        assert_eq!(taken, 10, "between them the nodes took the cap, no more and no less");
        refresh_all(&nodes, &t).await;
        let full = nodes[0].full(&[&t], Utc::now());
        assert_eq!(full.get(&t.id), Some(&Full::Cap(Period::Day, 10)));
        let Db::Postgres(pool) = &db else { unreachable!() };
        let (counted, leased): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT calls FROM target_counts WHERE target_id = $1 AND period = 'day'), \
             (SELECT SUM(calls)::BIGINT FROM target_leases WHERE target_id = $1)",
        )
        .bind(t.id)
        .fetch_one(pool)
        .await
        .unwrap();
        assert_eq!((counted, leased), (10, 0));
    }

    #[tokio::test]
    async fn nodes_sharing_a_concurrency_cap_never_hold_more_live_calls_than_it() {
        let Some((_test_db, _db, nodes)) = nodes(2).await else { return };
        let mut t = target();
        t.concurrency_cap = Some(3);
        refresh_all(&nodes, &t).await;
        let mut live = Vec::new();
        for round in 0..12 {
            if call(&nodes, round % 2, &t).await {
                live.push(round % 2);
            }
        }
        assert_eq!(live.len(), 3, "{live:?}");
        // A call that ends frees its place: its node, busy, keeps it for its next call,
        // and the cap still holds for both.
        let (busy, other) = (live[0], 1 - live[0]);
        nodes[busy].hang_up(t.id);
        assert!(call(&nodes, busy, &t).await);
        assert!(!call(&nodes, other, &t).await);
        assert!(!call(&nodes, busy, &t).await);
    }
}
