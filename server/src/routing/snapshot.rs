//! The routing snapshot: an immutable, in-memory copy of all routing configuration,
//! swapped atomically when the configuration changes. The hot path only ever calls
//! [`Routing::current`] — one atomic load, no lock, no database.
//!
//! Every configuration change bumps `routing_config_version` in its own transaction.
//! Each node polls that one-row table every [`POLL_INTERVAL`] and rebuilds its snapshot
//! when the number moved, so a change made on one node reaches every node sharing the
//! database well within a second, with SQLite and PostgreSQL alike.

use std::{collections::HashMap, net::IpAddr, sync::Arc, time::Duration};

use arc_swap::ArcSwap;
use sqlx::{FromRow, Row as _, postgres::PgRow, sqlite::SqliteRow};
use uuid::Uuid;

use crate::{
    accounts::OrgId,
    db::{Db, with_pool},
    e164::E164,
    network::{
        Status,
        buyers::Buyer,
        campaigns::Campaign,
        dni_pools::DniPool,
        numbers::Number,
        publishers::Publisher,
        resource::Resource,
        ring_tree,
        targets::Target,
        trunks::Direction,
        trunks::{self, Trunk},
    },
    routing::rules::Rule,
    secrets,
    webhooks::{EventSet, endpoint::Webhook},
};

pub const POLL_INTERVAL: Duration = Duration::from_millis(200);

/// An object with the organization it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owned<T> {
    pub org: OrgId,
    pub object: T,
}

/// A trunk with its password opened, ready to answer a digest challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrunkEntry {
    pub trunk: Trunk,
    pub password: Option<String>,
}

/// All routing configuration at one version. Never changed once built.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub version: i64,
    pub campaigns: HashMap<Uuid, Owned<Campaign>>,
    /// Each campaign's ring tree, in the order written; absent when empty.
    pub ring_trees: HashMap<Uuid, Vec<ring_tree::Entry>>,
    pub publishers: HashMap<Uuid, Owned<Publisher>>,
    pub buyers: HashMap<Uuid, Owned<Buyer>>,
    pub targets: HashMap<Uuid, Owned<Target>>,
    pub trunks: HashMap<Uuid, Owned<TrunkEntry>>,
    /// Each organization's inbound trunks: a call is admitted only by its number's.
    pub inbound: HashMap<OrgId, Vec<Uuid>>,
    /// Numbers by E.164; a number belongs to one organization on the whole platform.
    pub numbers: HashMap<E164, Owned<Number>>,
    /// Each target's conditions, compiled.
    pub rules: HashMap<Uuid, Vec<Rule>>,
    /// Each organization's block list (E.164) with each entry's status.
    pub blocked: HashMap<(OrgId, String), Status>,
    pub dni_pools: HashMap<Uuid, Owned<DniPool>>,
    /// Campaigns by their DNI public key.
    pub campaign_keys: HashMap<String, Uuid>,
    /// The events each organization's enabled webhooks and pixels want.
    pub webhook_events: HashMap<OrgId, EventSet>,
    /// Each organization's webhooks and pixels: (enabled, disabled).
    pub webhook_counts: HashMap<OrgId, Counts>,
}

/// Counts of one kind of object: (active, paused).
pub type Counts = (usize, usize);

fn count(statuses: impl Iterator<Item = Status>) -> Counts {
    statuses.fold((0, 0), |(active, paused), status| match status {
        Status::Active => (active + 1, paused),
        Status::Paused => (active, paused + 1),
    })
}

impl Snapshot {
    /// The number `number`, in whichever organization holds it: one hash lookup.
    pub fn number(&self, number: &E164) -> Option<&Owned<Number>> {
        self.numbers.get(number)
    }

    /// The events some enabled endpoint of `org` wants.
    pub fn webhook_events(&self, org: OrgId) -> EventSet {
        self.webhook_events.get(&org).copied().unwrap_or_default()
    }

    /// The campaign whose DNI public key is `key`.
    pub fn campaign_by_key(&self, key: &str) -> Option<&Owned<Campaign>> {
        self.campaign_keys.get(key).and_then(|id| self.campaigns.get(id))
    }

    /// The active inbound trunks that admit calls from `ip`, in any organization.
    pub fn inbound_trunks(&self, ip: IpAddr) -> impl Iterator<Item = &Owned<TrunkEntry>> {
        self.trunks.values().filter(move |owned| admits(&owned.object.trunk, ip))
    }

    /// `org`'s active inbound trunks that admit calls from `ip`.
    pub fn inbound_trunks_of(&self, org: OrgId, ip: IpAddr) -> impl Iterator<Item = &TrunkEntry> {
        let ids = self.inbound.get(&org).map_or(&[][..], Vec::as_slice);
        ids.iter()
            .filter_map(|id| self.trunks.get(id))
            .map(|owned| &owned.object)
            .filter(move |entry| admits(&entry.trunk, ip))
    }

    /// The organization's objects in this snapshot, per kind.
    pub fn counts(&self, org: OrgId) -> Vec<(&'static str, Counts)> {
        fn of<T>(
            map: &HashMap<Uuid, Owned<T>>,
            org: OrgId,
            status: impl Fn(&T) -> Status,
        ) -> Counts {
            count(map.values().filter(|o| o.org == org).map(|o| status(&o.object)))
        }
        let numbers = self.numbers.values().filter(|n| n.org == org);
        vec![
            ("campaigns", of(&self.campaigns, org, |c| c.status)),
            ("publishers", of(&self.publishers, org, |p| p.status)),
            ("buyers", of(&self.buyers, org, |b| b.status)),
            ("targets", of(&self.targets, org, |t| t.status)),
            ("trunks", of(&self.trunks, org, |t| t.trunk.status)),
            ("numbers", count(numbers.map(|n| n.object.status))),
            (
                "blocked_callers",
                count(self.blocked.iter().filter(|((o, _), _)| *o == org).map(|(_, s)| *s)),
            ),
            ("webhooks", self.webhook_counts.get(&org).copied().unwrap_or_default()),
        ]
    }

    /// Reads the version and everything it covers in one transaction, so the snapshot
    /// is exactly the configuration at that version.
    async fn load(db: &Db) -> Result<Self, sqlx::Error> {
        let (
            version,
            campaigns,
            ring_entries,
            publishers,
            buyers,
            targets,
            trunks,
            numbers,
            blocked,
            dni_pools,
            webhooks,
        ) = with_pool!(db, pool => {
            let mut tx = pool.begin().await?;
            let version: i64 = sqlx::query_scalar("SELECT version FROM routing_config_version WHERE id = 1")
                .fetch_one(&mut *tx)
                .await?;
            let campaigns: Vec<Owned<Campaign>> = sqlx::query_as("SELECT * FROM campaigns").fetch_all(&mut *tx).await?;
            let ring_entries: Vec<(Uuid, ring_tree::Entry)> = sqlx::query_as::<_, Keyed<ring_tree::Entry>>(
                "SELECT campaign_id, target_id, priority, weight, enabled FROM ring_tree_entries \
                 ORDER BY campaign_id, position",
            )
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .map(|keyed| (keyed.0, keyed.1))
            .collect();
            let publishers: Vec<Owned<Publisher>> = sqlx::query_as("SELECT * FROM publishers").fetch_all(&mut *tx).await?;
            let buyers: Vec<Owned<Buyer>> = sqlx::query_as("SELECT * FROM buyers").fetch_all(&mut *tx).await?;
            let targets: Vec<Owned<Target>> = sqlx::query_as("SELECT * FROM targets").fetch_all(&mut *tx).await?;
            let trunks: Vec<Owned<Trunk>> = sqlx::query_as("SELECT * FROM trunks").fetch_all(&mut *tx).await?;
            let numbers: Vec<Owned<Number>> = sqlx::query_as("SELECT * FROM numbers").fetch_all(&mut *tx).await?;
            let blocked: Vec<(OrgId, String, String)> = sqlx::query_as("SELECT organization_id, number, status FROM blocked_callers")
                .fetch_all(&mut *tx)
                .await?;
            let dni_pools: Vec<Owned<DniPool>> = sqlx::query_as("SELECT * FROM dni_pools").fetch_all(&mut *tx).await?;
            let webhooks: Vec<Owned<Webhook>> = sqlx::query_as("SELECT * FROM webhooks").fetch_all(&mut *tx).await?;
            tx.commit().await?;
            (version, campaigns, ring_entries, publishers, buyers, targets, trunks, numbers, blocked, dni_pools, webhooks)
        });
        let mut ring_trees: HashMap<Uuid, Vec<ring_tree::Entry>> = HashMap::new();
        for (campaign, entry) in ring_entries {
            ring_trees.entry(campaign).or_default().push(entry);
        }
        let by_number: HashMap<E164, Owned<Number>> =
            numbers.into_iter().map(|number| (number.object.number.clone(), number)).collect();
        let mut inbound: HashMap<OrgId, Vec<Uuid>> = HashMap::new();
        for trunk in trunks.iter().filter(|t| t.object.direction == Direction::Inbound) {
            inbound.entry(trunk.org).or_default().push(trunk.object.id);
        }
        let mut webhook_events: HashMap<OrgId, EventSet> = HashMap::new();
        let mut webhook_counts: HashMap<OrgId, Counts> = HashMap::new();
        for webhook in &webhooks {
            let counts = webhook_counts.entry(webhook.org).or_default();
            if !webhook.object.enabled {
                counts.1 += 1;
                continue;
            }
            counts.0 += 1;
            let set = webhook_events.entry(webhook.org).or_default();
            for &event in &webhook.object.events {
                set.insert(event);
            }
        }
        let rules = targets
            .iter()
            .map(|owned| {
                let target = &owned.object;
                let rules = target.conditions.iter().filter_map(|condition| {
                    let rule = Rule::compile(condition);
                    if rule.is_none() {
                        tracing::error!(target_id = %target.id, ?condition, "a condition no longer compiles; it is left out");
                    }
                    rule
                });
                (target.id, rules.collect())
            })
            .collect();
        Ok(Self {
            version,
            rules,
            blocked: blocked
                .into_iter()
                .map(|(org, number, status)| {
                    ((org, number), Status::parse(&status).unwrap_or(Status::Paused))
                })
                .collect(),
            campaign_keys: campaigns
                .iter()
                .map(|c| (c.object.dni_public_key.clone(), c.object.id))
                .collect(),
            campaigns: by_id(campaigns, |c| c.id),
            dni_pools: by_id(dni_pools, |p| p.id),
            ring_trees,
            publishers: by_id(publishers, |p| p.id),
            buyers: by_id(buyers, |b| b.id),
            targets: by_id(targets, |t| t.id),
            trunks: by_id(trunks.into_iter().map(open_password).collect(), |t| t.trunk.id),
            inbound,
            numbers: by_number,
            webhook_events,
            webhook_counts,
        })
    }
}

/// Whether `trunk` is an active inbound trunk whose networks hold `ip`.
fn admits(trunk: &Trunk, ip: IpAddr) -> bool {
    trunk.direction == Direction::Inbound
        && trunk.status == Status::Active
        && trunk.allowed_cidrs.iter().any(|net| net.contains(&ip))
}

fn by_id<T>(objects: Vec<Owned<T>>, id: impl Fn(&T) -> Uuid) -> HashMap<Uuid, Owned<T>> {
    objects.into_iter().map(|owned| (id(&owned.object), owned)).collect()
}

/// The trunk with its password opened. The key was proven at start (see
/// [`secrets::secret_key_check`]); a password that still does not open is left out and
/// said loudly, since the trunk's digest authentication will fail.
fn open_password(owned: Owned<Trunk>) -> Owned<TrunkEntry> {
    let Owned { org, object: trunk } = owned;
    let password = trunk.password_sealed.as_deref().and_then(|sealed| {
        let opened =
            secrets::key().and_then(|key| key.open(sealed, &trunks::password_context(trunk.id)));
        match opened {
            Ok(password) => Some(password),
            Err(error) => {
                tracing::error!(trunk_id = %trunk.id, %error, "cannot open a trunk's password");
                None
            }
        }
    });
    Owned { org, object: TrunkEntry { trunk, password } }
}

/// A row of `R` with its `organization_id`.
impl<'r, R: Resource> FromRow<'r, SqliteRow> for Owned<R> {
    fn from_row(row: &'r SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            org: row.try_get("organization_id")?,
            object: R::from_row(R::Row::from_row(row)?),
        })
    }
}

impl<'r, R: Resource> FromRow<'r, PgRow> for Owned<R> {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self {
            org: row.try_get("organization_id")?,
            object: R::from_row(R::Row::from_row(row)?),
        })
    }
}

/// A row of `T` with the `campaign_id` it belongs to.
struct Keyed<T>(Uuid, T);

impl<'r, T: FromRow<'r, SqliteRow>> FromRow<'r, SqliteRow> for Keyed<T> {
    fn from_row(row: &'r SqliteRow) -> Result<Self, sqlx::Error> {
        Ok(Self(row.try_get("campaign_id")?, T::from_row(row)?))
    }
}

impl<'r, T: FromRow<'r, PgRow>> FromRow<'r, PgRow> for Keyed<T> {
    fn from_row(row: &'r PgRow) -> Result<Self, sqlx::Error> {
        Ok(Self(row.try_get("campaign_id")?, T::from_row(row)?))
    }
}

/// The node's current snapshot, and the task that keeps it fresh.
#[derive(Clone)]
pub struct Routing {
    current: Arc<ArcSwap<Snapshot>>,
}

impl Routing {
    /// Loads the first snapshot; start-up fails if the database cannot give one.
    pub async fn load(db: &Db) -> Result<Self, sqlx::Error> {
        Ok(Self::new(Snapshot::load(db).await?))
    }

    /// Routing with `snapshot` in force (until a refresh replaces it).
    pub fn new(snapshot: Snapshot) -> Self {
        Self { current: Arc::new(ArcSwap::from_pointee(snapshot)) }
    }

    /// The snapshot in force now. Cheap: one atomic load.
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Polls the version and rebuilds the snapshot when it moved. A failed poll or
    /// rebuild keeps the last good snapshot and is retried on the next tick.
    pub fn spawn_refresh(&self, db: Db, tasks: &crate::tasks::Tasks) {
        let routing = self.clone();
        tasks.spawn("routing snapshot refresh", async move {
            let mut tick = tokio::time::interval(POLL_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(error) = routing.refresh(&db).await {
                    tracing::warn!(%error, "could not refresh the routing snapshot; keeping the last one");
                }
            }
        });
    }

    async fn refresh(&self, db: &Db) -> Result<(), sqlx::Error> {
        let version: i64 = with_pool!(db, pool => {
            sqlx::query_scalar("SELECT version FROM routing_config_version WHERE id = 1").fetch_one(pool).await
        })?;
        if version == self.current.load().version {
            return Ok(());
        }
        let snapshot = Snapshot::load(db).await?;
        tracing::info!(
            version = snapshot.version,
            campaigns = snapshot.campaigns.len(),
            targets = snapshot.targets.len(),
            numbers = snapshot.numbers.len(),
            "routing snapshot rebuilt"
        );
        self.current.store(Arc::new(snapshot));
        Ok(())
    }
}
