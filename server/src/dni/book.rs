//! The lease book: which visitor holds which pool number, in memory. Leasing, renewing
//! and releasing never wait on the database — each change is handed to the store's
//! writer — and a call's attribution is read from here on the routing hot path.
//!
//! Per campaign, the free numbers of its active pools wait in one queue, least recently
//! released first: a number goes back to the end when its lease ends, so the number a
//! visitor just saw is the last to be handed to someone else. A visitor who comes back
//! while their lease lives gets the same lease. When no number is free the visitor gets
//! the campaign's default number: the visit still counts (its demand sizes the pool),
//! but it holds no number, so no call can be attributed to it.
//!
//! One client (an address, or an IPv6 /64: see [`crate::limits::client_key`]) holds at
//! most a fixed number of a campaign's numbers at once ([`Book::with_client_cap`]):
//! past it, its visits are shown the default number too, so one address hammering the
//! lease endpoint cannot drain a pool. The count is this node's (a restart or another
//! node starts it afresh), which bounds a drain just as well.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::Mutex;

use chrono::{DateTime, Duration, DurationRound, Utc};
use uuid::Uuid;

use crate::{
    accounts::OrgId,
    e164::E164,
    network::{Status, campaigns::Campaign},
    routing::snapshot::Snapshot,
};

/// Lease time of a visit served the default number (the campaign has no active pool).
pub const DEFAULT_LEASE_MINUTES: i64 = 30;

/// A pool number, as leases hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Held {
    pub number_id: Uuid,
    pub pool_id: Uuid,
    pub number: E164,
}

/// One visit's hold on a number (or on nothing, when the pool was exhausted).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// Unguessable: whoever has it may renew and release the lease.
    pub id: Uuid,
    pub org: OrgId,
    pub campaign_id: Uuid,
    pub held: Option<Held>,
    pub visitor_id: Uuid,
    /// The visitor came with an id from an earlier visit.
    pub returning: bool,
    /// What the visit brought: captured parameters, referrer, landing page, geo.
    pub tags: BTreeMap<String, String>,
    /// Kept only when the operator says so (see `--dni-keep-ip`).
    pub ip: Option<String>,
    /// The client it was leased to, as limits count clients; in memory only (for the
    /// per-client cap), never stored.
    pub client: Option<IpAddr>,
    pub leased_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

/// What a visitor asks for.
#[derive(Debug, Default)]
pub struct Visit {
    pub visitor_id: Option<Uuid>,
    pub tags: BTreeMap<String, String>,
    pub ip: Option<String>,
    /// Who asks, as limits count clients (`limits::client_key`), for the per-client cap.
    pub client: Option<IpAddr>,
}

/// One campaign's visits in one hour (UTC), for utilisation and sizing. As a change,
/// `leases` and `exhausted` are added to what is stored (several nodes add theirs) and
/// the peaks raise the stored ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hour {
    pub campaign_id: Uuid,
    pub org: OrgId,
    pub hour: DateTime<Utc>,
    /// Most numbers leased at once.
    pub peak_leased: i64,
    /// Most visits at once, those served the default number included: the demand.
    pub peak_visitors: i64,
    pub leases: i64,
    pub exhausted: i64,
}

/// A change for the store to write.
#[derive(Debug)]
pub enum Change {
    Lease(Box<Lease>),
    Hour(Hour),
}

/// Where changes go; the store's writer in the server, a channel in tests.
pub trait Sink: Send + Sync {
    fn send(&self, change: Change);
}

/// A sink that keeps nothing: for a book whose changes need not last (benchmarks).
pub struct Discard;

impl Sink for Discard {
    fn send(&self, _: Change) {}
}

/// A pool number's state, for the dashboard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NumberState {
    pub held: Held,
    /// The live lease on it, if any.
    pub lease: Option<Lease>,
}

struct CampaignBook {
    org: OrgId,
    /// Numbers of the campaign's active pools.
    members: HashSet<Uuid>,
    /// Free members, least recently released first.
    free: VecDeque<Held>,
    lease_minutes: HashMap<Uuid, i64>,
    live: usize,
    leased: usize,
    /// This hour's peaks: (hour, most leased, most visitors).
    peaks: Option<(DateTime<Utc>, i64, i64)>,
}

impl CampaignBook {
    fn new(org: OrgId) -> Self {
        Self {
            org,
            members: HashSet::new(),
            free: VecDeque::new(),
            lease_minutes: HashMap::new(),
            live: 0,
            leased: 0,
            peaks: None,
        }
    }

    fn minutes(&self, held: Option<&Held>) -> i64 {
        held.and_then(|held| self.lease_minutes.get(&held.pool_id).copied())
            .or_else(|| self.lease_minutes.values().max().copied())
            .unwrap_or(DEFAULT_LEASE_MINUTES)
    }

    /// Raises this hour's peaks to the counts now (started afresh when the hour turned).
    fn note_peaks(&mut self, now: DateTime<Utc>) {
        let hour = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
        let (leased, live) = (self.leased as i64, self.live as i64);
        self.peaks = Some(match self.peaks {
            Some((at, most_leased, most_live)) if at == hour => {
                (hour, most_leased.max(leased), most_live.max(live))
            }
            _ => (hour, leased, live),
        });
    }

    /// This hour's change after one more lease (exhausted or not).
    fn hour_change(&self, campaign_id: Uuid, exhausted: bool) -> Option<Hour> {
        let (hour, peak_leased, peak_visitors) = self.peaks?;
        Some(Hour {
            campaign_id,
            org: self.org,
            hour,
            peak_leased,
            peak_visitors,
            leases: 1,
            exhausted: i64::from(exhausted),
        })
    }
}

#[derive(Default)]
struct State {
    version: Option<i64>,
    campaigns: HashMap<Uuid, CampaignBook>,
    live: HashMap<Uuid, Lease>,
    by_visitor: HashMap<(Uuid, Uuid), Uuid>,
    /// Live leases by expiry, for the sweep.
    expiry: BTreeSet<(DateTime<Utc>, Uuid)>,
    /// Each number's live lease.
    holder: HashMap<Uuid, Uuid>,
    /// Numbers each client holds per campaign, by live leases.
    by_client: HashMap<(Uuid, IpAddr), usize>,
    /// Each number's last ended lease, for attribution within the grace period.
    last_ended: HashMap<Uuid, Lease>,
    /// This node and the live nodes sharing the pools (empty: this node alone).
    me: Option<Uuid>,
    nodes: Vec<Uuid>,
}

pub struct Book {
    state: Mutex<State>,
    sink: Box<dyn Sink>,
    grace: Duration,
    /// Most numbers of one campaign one client may hold at once; `None`: no cap.
    per_client: Option<NonZeroUsize>,
}

impl Book {
    /// A book whose changes go to `sink`; a call within `grace` of a lease's end is
    /// still that lease's.
    pub fn new(sink: Box<dyn Sink>, grace: Duration) -> Self {
        Self { state: Mutex::default(), sink, grace, per_client: None }
    }

    /// The book with at most `cap` numbers of a campaign held by one client at once
    /// (`None`: no cap).
    pub fn with_client_cap(mut self, cap: Option<NonZeroUsize>) -> Self {
        self.per_client = cap;
        self
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Puts back leases read from the store (at start): live ones hold their numbers
    /// again; ended ones still attribute calls within the grace period.
    pub fn restore(&self, snapshot: &Snapshot, leases: Vec<Lease>, now: DateTime<Utc>) {
        let mut state = self.lock();
        for lease in leases {
            match lease.ended_at {
                Some(_) => {
                    if let Some(held) = &lease.held {
                        state.last_ended.insert(held.number_id, lease);
                    }
                }
                None => state.hold(lease, now),
            }
        }
        state.sync(snapshot);
        drop(state);
        self.sweep(now);
    }

    /// A lease for `visit` to `campaign`'s numbers: the visitor's own while it lives,
    /// else the least recently released free number, else none (the default number).
    pub fn lease(
        &self,
        snapshot: &Snapshot,
        org: OrgId,
        campaign: &Campaign,
        visit: Visit,
        now: DateTime<Utc>,
    ) -> Lease {
        let mut state = self.lock();
        state.sync(snapshot);
        self.sweep_locked(&mut state, now);
        let capped = match (visit.client, self.per_client) {
            (Some(client), Some(cap)) => {
                state.by_client.get(&(campaign.id, client)).copied().unwrap_or(0) >= cap.get()
            }
            _ => false,
        };
        if let Some(visitor) = visit.visitor_id
            && let Some(&id) = state.by_visitor.get(&(campaign.id, visitor))
            && let Some(live) = state.live.get(&id)
        {
            let free = !capped
                && state.campaigns.get(&campaign.id).is_some_and(|book| !book.free.is_empty());
            if live.held.is_some() || !free {
                return self.extend(&mut state, id, now).expect("a live lease");
            }
            // Shown the default number earlier, and a number is free now: the visit
            // gets it, as a new lease.
            if let Some(ended) = state.end(id, now) {
                self.sink.send(Change::Lease(Box::new(ended)));
            }
        }
        let pick = if capped { None } else { state.first_mine(campaign.id) };
        let book = state.campaigns.entry(campaign.id).or_insert_with(|| CampaignBook::new(org));
        let held = pick.and_then(|at| book.free.remove(at));
        let lease = Lease {
            id: Uuid::new_v4(),
            org,
            campaign_id: campaign.id,
            expires_at: now + Duration::minutes(book.minutes(held.as_ref())),
            held,
            visitor_id: visit.visitor_id.unwrap_or_else(Uuid::now_v7),
            returning: visit.visitor_id.is_some(),
            tags: visit.tags,
            ip: visit.ip,
            client: visit.client,
            leased_at: now,
            ended_at: None,
        };
        // A client over its cap is shown the default number, but the pool is not empty.
        let exhausted = lease.held.is_none() && !book.members.is_empty() && !capped;
        if capped {
            metrics::counter!("bidline_dni_client_capped_total", "campaign" => campaign.id.to_string())
                .increment(1);
        }
        if exhausted {
            metrics::counter!("bidline_dni_pool_exhausted_total", "campaign" => campaign.id.to_string())
                .increment(1);
        }
        state.hold(lease.clone(), now);
        let book = state.campaigns.get(&campaign.id).expect("made above");
        let hour = book.hour_change(campaign.id, exhausted);
        self.sink.send(Change::Lease(Box::new(lease.clone())));
        if let Some(hour) = hour {
            self.sink.send(Change::Hour(hour));
        }
        lease
    }

    /// Takes in a lease another node wrote (nodes sharing PostgreSQL): a live one holds
    /// its number here too and can be renewed or released here; an ended one frees it.
    /// Nothing is written back. When two nodes handed out one number at once, the
    /// earlier lease keeps it and the later one ends (its page leases again on renewal).
    pub fn merge(&self, snapshot: &Snapshot, remote: Lease, now: DateTime<Utc>) {
        let mut state = self.lock();
        state.sync(snapshot);
        if let Some(ended_at) = remote.ended_at {
            if state.live.contains_key(&remote.id) {
                state.end(remote.id, ended_at);
            } else if let Some(held) = &remote.held
                && state
                    .last_ended
                    .get(&held.number_id)
                    .is_none_or(|l| l.ended_at < remote.ended_at)
            {
                state.last_ended.insert(held.number_id, remote);
            }
            return;
        }
        if let Some(local) = state.live.get_mut(&remote.id) {
            if remote.expires_at > local.expires_at {
                let old = std::mem::replace(&mut local.expires_at, remote.expires_at);
                state.expiry.remove(&(old, remote.id));
                state.expiry.insert((remote.expires_at, remote.id));
            }
            return;
        }
        if remote.expires_at <= now {
            return;
        }
        let rival =
            remote.held.as_ref().and_then(|held| state.holder.get(&held.number_id)).copied();
        if let Some(rival) = rival {
            let first = state
                .live
                .get(&rival)
                .is_some_and(|local| (local.leased_at, local.id) < (remote.leased_at, remote.id));
            if first {
                return;
            }
            if let Some(ended) = state.end(rival, now) {
                self.sink.send(Change::Lease(Box::new(ended)));
            }
        }
        state.hold(remote, now);
    }

    /// The live nodes sharing the pools, this one included: each hands out first the
    /// numbers that rank it highest, so nodes rarely reach for the same number.
    pub fn set_nodes(&self, me: Uuid, nodes: Vec<Uuid>) {
        let mut state = self.lock();
        state.me = Some(me);
        state.nodes = nodes;
    }

    /// The lease `id` with its time extended, if it still lives.
    pub fn renew(&self, id: Uuid, now: DateTime<Utc>) -> Option<Lease> {
        let mut state = self.lock();
        if state.live.get(&id)?.expires_at <= now {
            self.sweep_locked(&mut state, now);
            return None;
        }
        self.extend(&mut state, id, now)
    }

    fn extend(&self, state: &mut State, id: Uuid, now: DateTime<Utc>) -> Option<Lease> {
        let minutes = {
            let lease = state.live.get(&id)?;
            state
                .campaigns
                .get(&lease.campaign_id)
                .map_or(DEFAULT_LEASE_MINUTES, |book| book.minutes(lease.held.as_ref()))
        };
        let lease = state.live.get_mut(&id)?;
        let old = lease.expires_at;
        lease.expires_at = now + Duration::minutes(minutes);
        let lease = lease.clone();
        state.expiry.remove(&(old, id));
        state.expiry.insert((lease.expires_at, id));
        self.sink.send(Change::Lease(Box::new(lease.clone())));
        Some(lease)
    }

    /// Ends the lease `id` now; false when it had already ended.
    pub fn release(&self, id: Uuid, now: DateTime<Utc>) -> bool {
        let mut state = self.lock();
        match state.end(id, now) {
            Some(lease) => {
                self.sink.send(Change::Lease(Box::new(lease)));
                true
            }
            None => false,
        }
    }

    /// Ends every lease whose time is up.
    pub fn sweep(&self, now: DateTime<Utc>) {
        let mut state = self.lock();
        self.sweep_locked(&mut state, now);
    }

    fn sweep_locked(&self, state: &mut State, now: DateTime<Utc>) {
        while let Some(&(expires_at, id)) = state.expiry.first() {
            if expires_at > now {
                break;
            }
            if let Some(lease) = state.end(id, expires_at) {
                self.sink.send(Change::Lease(Box::new(lease)));
            }
        }
    }

    /// The campaign of the live lease `id`.
    pub fn campaign_of(&self, id: Uuid) -> Option<Uuid> {
        self.lock().live.get(&id).map(|lease| lease.campaign_id)
    }

    /// The visit that held the number `number_id` at `at`, or whose lease on it ended
    /// at most the grace period before.
    pub fn attribution(&self, number_id: Uuid, at: DateTime<Utc>) -> Option<Lease> {
        let state = self.lock();
        if let Some(lease) = state.holder.get(&number_id).and_then(|id| state.live.get(id)) {
            return Some(lease.clone());
        }
        state
            .last_ended
            .get(&number_id)
            .filter(|lease| lease.ended_at.is_some_and(|ended| ended + self.grace >= at))
            .cloned()
    }

    /// Each number of the campaign's active pools with its live lease; the live
    /// visits; this hour's figures.
    pub fn status(&self, snapshot: &Snapshot, campaign_id: Uuid) -> (Vec<NumberState>, usize) {
        let mut state = self.lock();
        state.sync(snapshot);
        let Some(book) = state.campaigns.get(&campaign_id) else { return (Vec::new(), 0) };
        let live = book.live;
        let mut numbers: Vec<NumberState> =
            book.free.iter().map(|held| NumberState { held: held.clone(), lease: None }).collect();
        for lease in state.live.values().filter(|l| l.campaign_id == campaign_id) {
            if let Some(held) = &lease.held {
                numbers.push(NumberState { held: held.clone(), lease: Some(lease.clone()) });
            }
        }
        numbers.sort_by(|a, b| a.held.number.as_str().cmp(b.held.number.as_str()));
        (numbers, live)
    }
}

impl State {
    /// Where in the campaign's free queue the first number this node should hand out
    /// is: the least recently released of those that rank it highest among the live
    /// nodes (rendezvous hashing), else the least recently released of all.
    fn first_mine(&self, campaign: Uuid) -> Option<usize> {
        let free = &self.campaigns.get(&campaign)?.free;
        if free.is_empty() {
            return None;
        }
        let Some(me) = self.me.filter(|_| self.nodes.len() > 1) else { return Some(0) };
        let rank = |node: &Uuid, number: Uuid| {
            let mut hasher = std::hash::DefaultHasher::new();
            std::hash::Hash::hash(&(node, number), &mut hasher);
            std::hash::Hasher::finish(&hasher)
        };
        let mine =
            |number: Uuid| self.nodes.iter().max_by_key(|node| rank(node, number)) == Some(&me);
        Some(free.iter().position(|held| mine(held.number_id)).unwrap_or(0))
    }

    /// Takes `lease` into the book as live.
    fn hold(&mut self, lease: Lease, now: DateTime<Utc>) {
        let book =
            self.campaigns.entry(lease.campaign_id).or_insert_with(|| CampaignBook::new(lease.org));
        book.live += 1;
        if let Some(held) = &lease.held {
            book.leased += 1;
            book.free.retain(|free| free.number_id != held.number_id);
            self.holder.insert(held.number_id, lease.id);
            if let Some(client) = lease.client {
                *self.by_client.entry((lease.campaign_id, client)).or_default() += 1;
            }
        }
        book.note_peaks(now);
        self.by_visitor.insert((lease.campaign_id, lease.visitor_id), lease.id);
        self.expiry.insert((lease.expires_at, lease.id));
        self.live.insert(lease.id, lease);
    }

    /// Ends the live lease `id` at `at`; its number goes to the end of the free queue.
    fn end(&mut self, id: Uuid, at: DateTime<Utc>) -> Option<Lease> {
        let mut lease = self.live.remove(&id)?;
        lease.ended_at = Some(at);
        self.expiry.remove(&(lease.expires_at, id));
        if self.by_visitor.get(&(lease.campaign_id, lease.visitor_id)) == Some(&id) {
            self.by_visitor.remove(&(lease.campaign_id, lease.visitor_id));
        }
        if let Some(book) = self.campaigns.get_mut(&lease.campaign_id) {
            book.live -= 1;
            if let Some(held) = &lease.held {
                book.leased -= 1;
                if book.members.contains(&held.number_id) {
                    book.free.push_back(held.clone());
                }
            }
        }
        if let Some(held) = &lease.held {
            self.holder.remove(&held.number_id);
            self.last_ended.insert(held.number_id, lease.clone());
            if let Some(client) = lease.client
                && let std::collections::hash_map::Entry::Occupied(mut held) =
                    self.by_client.entry((lease.campaign_id, client))
            {
                *held.get_mut() -= 1;
                if *held.get() == 0 {
                    held.remove();
                }
            }
        }
        Some(lease)
    }

    /// Brings the campaigns' numbers in line with `snapshot` when it changed: new pool
    /// numbers join the front of the queue (never used), removed or paused ones leave
    /// it (a held one when its lease ends).
    fn sync(&mut self, snapshot: &Snapshot) {
        if self.version == Some(snapshot.version) {
            return;
        }
        self.version = Some(snapshot.version);
        let mut members: HashMap<Uuid, Vec<Held>> = HashMap::new();
        let mut minutes: HashMap<Uuid, HashMap<Uuid, i64>> = HashMap::new();
        for pool in snapshot.dni_pools.values().filter(|p| p.object.status == Status::Active) {
            minutes
                .entry(pool.object.campaign_id)
                .or_default()
                .insert(pool.object.id, pool.object.lease_minutes);
        }
        for number in snapshot.numbers.values() {
            let number = &number.object;
            let Some(pool) = number.pool_id.and_then(|id| snapshot.dni_pools.get(&id)) else {
                continue;
            };
            if number.status == Status::Active
                && pool.object.status == Status::Active
                && pool.object.campaign_id == number.campaign_id
            {
                members.entry(number.campaign_id).or_default().push(Held {
                    number_id: number.id,
                    pool_id: pool.object.id,
                    number: number.number.clone(),
                });
            }
        }
        for (campaign_id, owned) in &snapshot.campaigns {
            let book =
                self.campaigns.entry(*campaign_id).or_insert_with(|| CampaignBook::new(owned.org));
            let mut numbers = members.remove(campaign_id).unwrap_or_default();
            numbers.sort_by(|a, b| a.number.as_str().cmp(b.number.as_str()));
            book.members = numbers.iter().map(|held| held.number_id).collect();
            book.lease_minutes = minutes.remove(campaign_id).unwrap_or_default();
            let members = &book.members;
            book.free.retain(|held| members.contains(&held.number_id));
            let queued: HashSet<Uuid> = book.free.iter().map(|held| held.number_id).collect();
            for held in numbers.into_iter().rev() {
                if !queued.contains(&held.number_id) && !self.holder.contains_key(&held.number_id) {
                    book.free.push_front(held);
                }
            }
        }
        self.campaigns.retain(|id, _| snapshot.campaigns.contains_key(id));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use serde_json::json;

    use super::*;
    use crate::network::{dni_pools::DniPool, numbers::Number, resource::Resource};
    use crate::routing::snapshot::Owned;

    struct Channel(Mutex<mpsc::Sender<Change>>);

    impl Sink for Channel {
        fn send(&self, change: Change) {
            let _ = self.0.lock().unwrap().send(change);
        }
    }

    fn object<R: Resource>(input: serde_json::Value) -> R {
        R::apply(None, serde_json::from_value(input).unwrap()).unwrap()
    }

    struct World {
        book: Book,
        changes: mpsc::Receiver<Change>,
        snapshot: Snapshot,
        org: OrgId,
        campaign: Campaign,
        pool: DniPool,
    }

    /// A campaign with one pool of `numbers` numbers, each leased for 30 minutes.
    fn world(numbers: usize) -> World {
        let (sender, changes) = mpsc::channel();
        let org = OrgId(Uuid::now_v7());
        let campaign: Campaign = object(json!({"name": "Solar", "time_zone": "UTC"}));
        let pool: DniPool =
            object(json!({"campaign_id": campaign.id, "name": "Web", "lease_minutes": 30}));
        let mut snapshot = Snapshot { version: 1, ..Snapshot::default() };
        for n in 0..numbers {
            let number: Number = object(json!({"number": format!("+1800555{:04}", n),
                "campaign_id": campaign.id, "pool_id": pool.id}));
            snapshot.numbers.insert(number.number.clone(), Owned { org, object: number });
        }
        snapshot.campaigns.insert(campaign.id, Owned { org, object: campaign.clone() });
        snapshot.dni_pools.insert(pool.id, Owned { org, object: pool.clone() });
        World {
            book: Book::new(Box::new(Channel(Mutex::new(sender))), Duration::minutes(10)),
            changes,
            snapshot,
            org,
            campaign,
            pool,
        }
    }

    fn at(minute: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() + Duration::minutes(minute)
    }

    impl World {
        fn lease(&self, visitor: Option<Uuid>, minute: i64) -> Lease {
            let visit = Visit { visitor_id: visitor, ..Visit::default() };
            self.book.lease(&self.snapshot, self.org, &self.campaign, visit, at(minute))
        }

        fn number(lease: &Lease) -> &str {
            lease.held.as_ref().map_or("default", |held| held.number.as_str())
        }
    }

    #[test]
    fn the_least_recently_released_number_goes_first() {
        let w = world(3);
        let a = w.lease(None, 0);
        let b = w.lease(None, 0);
        assert_eq!([World::number(&a), World::number(&b)], ["+18005550000", "+18005550001"]);
        assert!(w.book.release(a.id, at(1)));
        assert!(w.book.release(b.id, at(2)));
        // Never used first, then a (released before b), then b.
        let next: Vec<String> =
            (0..3).map(|_| World::number(&w.lease(None, 3)).to_owned()).collect();
        assert_eq!(next, ["+18005550002", "+18005550000", "+18005550001"]);
    }

    #[test]
    fn a_returning_visitor_keeps_their_number_while_the_lease_lives() {
        let w = world(2);
        let first = w.lease(None, 0);
        let again = w.lease(Some(first.visitor_id), 20);
        assert_eq!(again.id, first.id);
        assert_eq!(World::number(&again), World::number(&first));
        assert_eq!(again.expires_at, at(50), "coming back renews the lease");
        // After the lease ran out, the visitor is returning but starts a new lease.
        let later = w.lease(Some(first.visitor_id), 120);
        assert_ne!(later.id, first.id);
        assert!(later.returning && !first.returning);
    }

    #[test]
    fn a_visitor_turned_away_gets_a_number_once_one_is_free() {
        let w = world(1);
        let held = w.lease(None, 0);
        let turned_away = w.lease(None, 1);
        assert_eq!(turned_away.held, None);
        assert_eq!(w.lease(Some(turned_away.visitor_id), 2).held, None, "still none free");
        w.book.release(held.id, at(3));
        let later = w.lease(Some(turned_away.visitor_id), 4);
        assert_eq!(World::number(&later), World::number(&held));
        assert!(later.returning);
    }

    #[test]
    fn an_exhausted_pool_serves_the_default_number_and_counts_the_demand() {
        let w = world(1);
        let held = w.lease(None, 0);
        let turned_away = w.lease(None, 0);
        assert!(held.held.is_some());
        assert_eq!(turned_away.held, None);
        let hours: Vec<Hour> = w
            .changes
            .try_iter()
            .filter_map(|change| match change {
                Change::Hour(hour) => Some(hour),
                Change::Lease(_) => None,
            })
            .collect();
        let last = hours.last().unwrap();
        let added = |count: fn(&Hour) -> i64| hours.iter().map(count).sum::<i64>();
        assert_eq!((added(|h| h.leases), added(|h| h.exhausted)), (2, 1));
        assert_eq!((last.peak_leased, last.peak_visitors), (1, 2));
    }

    #[test]
    fn an_expired_lease_frees_its_number_and_renewing_it_fails() {
        let w = world(1);
        let lease = w.lease(None, 0);
        assert!(w.book.renew(lease.id, at(29)).is_some());
        assert_eq!(w.book.renew(lease.id, at(60)), None);
        let next = w.lease(None, 60);
        assert_eq!(World::number(&next), World::number(&lease));
    }

    #[test]
    fn a_lease_another_node_wrote_holds_its_number_here_and_can_be_renewed_here() {
        let w = world(2);
        let other = Book::new(Box::new(Discard), Duration::minutes(10));
        let theirs = other.lease(&w.snapshot, w.org, &w.campaign, Visit::default(), at(0));
        w.book.merge(&w.snapshot, theirs.clone(), at(0));
        let mine = w.lease(None, 1);
        assert_ne!(World::number(&mine), World::number(&theirs), "the number is taken");
        let number = theirs.held.as_ref().unwrap().number_id;
        assert_eq!(w.book.attribution(number, at(2)).map(|l| l.id), Some(theirs.id));
        assert_eq!(w.book.renew(theirs.id, at(3)).map(|l| l.expires_at), Some(at(33)));
        let mut ended = theirs.clone();
        ended.ended_at = Some(at(4));
        w.book.merge(&w.snapshot, ended, at(4));
        assert_eq!(w.book.renew(theirs.id, at(5)), None);
        assert_eq!(World::number(&w.lease(None, 5)), World::number(&theirs), "free again");
    }

    #[test]
    fn when_two_nodes_hand_out_one_number_the_earlier_lease_keeps_it() {
        let w = world(1);
        let other = Book::new(Box::new(Discard), Duration::minutes(10));
        let theirs = other.lease(&w.snapshot, w.org, &w.campaign, Visit::default(), at(0));
        let mine = w.lease(None, 1);
        assert_eq!(World::number(&mine), World::number(&theirs));
        w.book.merge(&w.snapshot, theirs.clone(), at(1));
        assert_eq!(w.book.renew(mine.id, at(2)), None, "the later lease ended");
        let number = theirs.held.as_ref().unwrap().number_id;
        assert_eq!(w.book.attribution(number, at(2)).map(|l| l.id), Some(theirs.id));
    }

    #[test]
    fn nodes_prefer_different_numbers() {
        let w = world(60);
        let other = Book::new(Box::new(Discard), Duration::minutes(10));
        let (a, b) = (Uuid::now_v7(), Uuid::now_v7());
        w.book.set_nodes(a, vec![a, b]);
        other.set_nodes(b, vec![a, b]);
        let mut numbers: Vec<String> = (0..10)
            .flat_map(|_| {
                let mine = w.book.lease(&w.snapshot, w.org, &w.campaign, Visit::default(), at(0));
                let theirs = other.lease(&w.snapshot, w.org, &w.campaign, Visit::default(), at(0));
                [World::number(&mine).to_owned(), World::number(&theirs).to_owned()]
            })
            .collect();
        numbers.sort();
        numbers.dedup();
        assert_eq!(numbers.len(), 20, "without hearing from each other, no number twice");
    }

    #[test]
    fn one_client_holds_at_most_its_cap_and_others_still_get_numbers() {
        let mut w = world(50);
        let (sender, changes) = mpsc::channel();
        w.book = Book::new(Box::new(Channel(Mutex::new(sender))), Duration::minutes(10))
            .with_client_cap(NonZeroUsize::new(5));
        w.changes = changes;
        let lease = |w: &World, client: &str, minute: i64| {
            let visit = Visit { client: Some(client.parse().unwrap()), ..Visit::default() };
            w.book.lease(&w.snapshot, w.org, &w.campaign, visit, at(minute))
        };
        let drained: Vec<Lease> = (0..50).map(|_| lease(&w, "203.0.113.9", 0)).collect();
        let held: Vec<&Lease> = drained.iter().filter(|l| l.held.is_some()).collect();
        assert_eq!(held.len(), 5);
        let exhausted =
            w.changes.try_iter().any(|c| matches!(c, Change::Hour(h) if h.exhausted > 0));
        assert!(!exhausted, "a capped client is not an exhausted pool");
        let others = (0..45).filter(|n| lease(&w, &format!("198.51.100.{n}"), 0).held.is_some());
        assert_eq!(others.count(), 45, "the rest of the pool is everyone else's");
        // A released number makes room for the client again.
        assert!(w.book.release(held[0].id, at(1)));
        assert!(lease(&w, "203.0.113.9", 2).held.is_some());
    }

    #[test]
    fn a_call_is_attributed_to_the_holder_or_to_a_lease_ended_within_the_grace_period() {
        let w = world(1);
        let lease = w.lease(None, 0);
        let number = lease.held.as_ref().unwrap().number_id;
        assert_eq!(w.book.attribution(number, at(5)).map(|l| l.id), Some(lease.id));
        w.book.release(lease.id, at(6));
        assert_eq!(w.book.attribution(number, at(15)).map(|l| l.id), Some(lease.id));
        assert_eq!(w.book.attribution(number, at(17)), None);
    }

    #[test]
    fn numbers_leave_and_join_the_pool_with_the_configuration() {
        let mut w = world(2);
        let lease = w.lease(None, 0);
        // The pool is paused: nothing is handed out, the held number is not returned.
        let mut paused = w.pool.clone();
        paused.status = Status::Paused;
        w.snapshot.dni_pools.insert(paused.id, Owned { org: w.org, object: paused });
        w.snapshot.version = 2;
        assert_eq!(w.lease(None, 1).held, None);
        w.book.release(lease.id, at(2));
        let (numbers, _) = w.book.status(&w.snapshot, w.campaign.id);
        assert!(numbers.is_empty());
        w.snapshot.dni_pools.insert(w.pool.id, Owned { org: w.org, object: w.pool.clone() });
        w.snapshot.version = 3;
        assert!(w.lease(None, 3).held.is_some());
    }
}
