//! The demo organization's configuration: the network `bidline demo` sends its calls
//! through, its targets at the demo's own buyers on loopback. The buyers' ports change
//! with every start, so each start points the targets at them again.

use std::net::SocketAddr;

use rand::{Rng, rngs::StdRng};
use serde_json::{Value, json};
use uuid::Uuid;

use super::world::{self, BUYERS, CAMPAIGNS, PUBLISHERS};
use crate::{
    accounts::{OrgId, audit::By},
    db::{Db, with_pool},
    network::{
        NetworkError,
        buyers::Buyer,
        campaigns::Campaign,
        dni_pools::DniPool,
        publishers::Publisher,
        resource::{self, Resource},
        ring_tree::{self, EntryInput},
        targets::Target,
    },
};

/// One target of the demo: whose it is, how it is priced, how its buyer behaves.
#[derive(Debug)]
pub struct TargetPlan {
    /// Index into [`BUYERS`].
    pub buyer: usize,
    /// The SIP user part and ping path that name it at the demo's buyers.
    pub slug: &'static str,
    /// Priced by a ping (RTB) rather than a fixed amount.
    pub rtb: bool,
    /// Revenue of a converted call, or the middle of its bids.
    pub cents: i64,
    /// Share of calls it answers.
    pub answer_rate: f64,
    /// It reports conversions by postback.
    pub postbacks: bool,
}

pub const TARGETS: [TargetPlan; 7] = [
    plan(0, "acme-1", false, 3_500, 0.9, false),
    plan(0, "acme-2", true, 3_000, 0.8, false),
    plan(1, "blue-harbor-1", true, 4_200, 0.85, false),
    plan(2, "cedar-1", false, 4_500, 0.75, false),
    plan(3, "delta-1", true, 2_500, 0.9, false),
    plan(3, "delta-2", false, 2_200, 0.7, false),
    plan(4, "evergreen-1", false, 6_000, 0.8, true),
];

const fn plan(
    buyer: usize,
    slug: &'static str,
    rtb: bool,
    cents: i64,
    answer_rate: f64,
    postbacks: bool,
) -> TargetPlan {
    TargetPlan { buyer, slug, rtb, cents, answer_rate, postbacks }
}

impl TargetPlan {
    pub fn by_slug(slug: &str) -> Option<&'static TargetPlan> {
        TARGETS.iter().find(|plan| plan.slug == slug)
    }

    fn name(&self) -> String {
        let line =
            TARGETS[..].iter().filter(|p| p.buyer == self.buyer).position(|p| p.slug == self.slug);
        format!("{} line {}", BUYERS[self.buyer], line.unwrap_or(0) + 1)
    }

    /// The target's destination and revenue, at the buyers' current addresses.
    fn wiring(&self, sip: SocketAddr, http: SocketAddr) -> Value {
        let revenue = if self.rtb {
            json!({
                "kind": "rtb",
                "ping_url": format!("http://{http}/bid/{}", self.slug),
                "method": "post",
                "bid_unit": "cents",
                "timeout_ms": 500,
                "buffer_seconds": 45,
            })
        } else {
            json!({"kind": "static", "cents": self.cents, "buffer_seconds": 30})
        };
        json!({"destination": format!("sip:{}@{sip}", self.slug), "revenue": revenue})
    }
}

/// The campaign whose numbers are a DNI pool: its calls carry their visit's tags.
pub const DNI_CAMPAIGN: usize = 0;

/// Creates the demo network in an organization that has none; otherwise points its
/// targets at the buyers' current addresses.
pub async fn ensure(
    db: &Db,
    org: OrgId,
    sip: SocketAddr,
    http: SocketAddr,
    rng: &mut StdRng,
) -> Result<(), NetworkError> {
    let targets: Vec<(Uuid, String)> = with_pool!(db, pool => {
        sqlx::query_as("SELECT id, name FROM targets WHERE organization_id = $1")
            .bind(org)
            .fetch_all(pool)
            .await
    })?;
    if targets.is_empty() {
        return create(db, org, sip, http, rng).await;
    }
    for plan in &TARGETS {
        if let Some((id, _)) = targets.iter().find(|(_, name)| *name == plan.name()) {
            update::<Target>(db, org, *id, plan.wiring(sip, http)).await?;
        }
    }
    Ok(())
}

async fn create(
    db: &Db,
    org: OrgId,
    sip: SocketAddr,
    http: SocketAddr,
    rng: &mut StdRng,
) -> Result<(), NetworkError> {
    let mut buyers = Vec::new();
    for name in BUYERS {
        buyers.push(world::make::<Buyer>(db, org, json!({"name": name})).await?.id);
    }
    let mut targets = Vec::new();
    for plan in &TARGETS {
        let mut input = plan.wiring(sip, http);
        input["buyer_id"] = json!(buyers[plan.buyer]);
        input["name"] = json!(plan.name());
        targets.push(world::make::<Target>(db, org, input).await?.id);
    }
    let mut publishers = Vec::new();
    for name in PUBLISHERS {
        let payout = json!({"kind": "percent", "percent": rng.random_range(40..=60)});
        let input = json!({"name": name, "payout": payout});
        publishers.push(world::make::<Publisher>(db, org, input).await?.id);
    }
    for (i, (name, _)) in CAMPAIGNS.into_iter().enumerate() {
        let input = json!({
            "name": name,
            "time_zone": "America/New_York",
            "conversion_buffer_seconds": 30,
        });
        let campaign = world::make::<Campaign>(db, org, input).await?.id;
        // Three targets each, the first two sharing the first priority.
        let tree = (0..3)
            .map(|k| EntryInput {
                target_id: targets[(i * 2 + k) % targets.len()],
                priority: Some(if k < 2 { 1 } else { 2 }),
                weight: Some(if k == 0 { 2 } else { 1 }),
                enabled: Some(true),
            })
            .collect();
        ring_tree::put(db, org, campaign, tree, By::operator()).await?;
        let pool = if i == DNI_CAMPAIGN {
            let input =
                json!({"campaign_id": campaign, "name": "Website visitors", "lease_minutes": 10});
            Some(world::make::<DniPool>(db, org, input).await?.id)
        } else {
            None
        };
        for _ in 0..if pool.is_some() { 6 } else { 3 } {
            let publisher = publishers[rng.random_range(0..publishers.len())];
            world::tracking_number(db, org, campaign, publisher, pool, rng).await?;
        }
    }
    Ok(())
}

async fn update<R: Resource>(
    db: &Db,
    org: OrgId,
    id: Uuid,
    input: Value,
) -> Result<R, NetworkError> {
    let input: R::Input = serde_json::from_value(input).expect("demo objects are well formed");
    resource::update(db, org, id, input, By::operator()).await
}
