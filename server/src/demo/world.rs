//! The organization's configuration as the demo traffic uses it: its campaigns, the
//! targets each sends calls to, its tracking numbers. An organization without campaigns
//! first gets a demo configuration of its own.

use rand::{Rng, rngs::StdRng, seq::SliceRandom};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    accounts::{OrgId, audit::By},
    db::{Db, with_pool},
    network::{
        NetworkError,
        buyers::Buyer,
        campaigns::Campaign,
        numbers::{self, Number},
        publishers::Publisher,
        resource::{self, Resource},
        targets::Target,
    },
};

/// Names the demo configuration uses, with each campaign's typical revenue per
/// converted call in cents.
pub(super) const CAMPAIGNS: [(&str, i64); 4] = [
    ("Auto insurance", 3_500),
    ("Medicare supplement", 4_500),
    ("Home services", 2_500),
    ("Debt relief", 6_000),
];
pub(super) const PUBLISHERS: [&str; 6] = [
    "Bright Leads",
    "CallCraft Media",
    "Northside Digital",
    "Pinnacle Affiliates",
    "Radio Direct",
    "Search Partners",
];
pub(super) const BUYERS: [&str; 5] = [
    "Acme Insurance",
    "Blue Harbor Agency",
    "Cedar Health",
    "Delta Home Pros",
    "Evergreen Finance",
];
/// Area codes the demo's numbers are in (fictional 555-01XX lines in each).
pub(super) const AREA_CODES: [u16; 12] =
    [212, 213, 305, 312, 404, 415, 512, 602, 617, 702, 713, 720];

pub struct World {
    pub campaigns: Vec<CampaignPlan>,
    pub publishers: Vec<Uuid>,
    pub numbers: Vec<NumberPlan>,
}

pub struct CampaignPlan {
    pub id: Uuid,
    /// Revenue of a converted call, before the buyer's own spread.
    pub revenue_cents: i64,
    /// The targets it rings, each with its buyer.
    pub targets: Vec<(Uuid, Uuid)>,
}

pub struct NumberPlan {
    pub id: Uuid,
    pub number: String,
    /// Index into [`World::campaigns`].
    pub campaign: usize,
    pub publisher_id: Option<Uuid>,
}

impl World {
    /// The organization's configuration, after creating a demo one when it has no
    /// campaign.
    pub async fn ensure(db: &Db, org: OrgId, rng: &mut StdRng) -> Result<World, NetworkError> {
        if load_ids(db, org, "SELECT id FROM campaigns WHERE organization_id = $1")
            .await?
            .is_empty()
        {
            create(db, org, rng).await?;
        }
        World::load(db, org, rng).await
    }

    async fn load(db: &Db, org: OrgId, rng: &mut StdRng) -> Result<World, NetworkError> {
        let targets: Vec<(Uuid, Uuid)> = with_pool!(db, pool => {
            sqlx::query_as("SELECT id, buyer_id FROM targets WHERE organization_id = $1 ORDER BY id")
                .bind(org)
                .fetch_all(pool)
                .await
        })?;
        let campaign_ids =
            load_ids(db, org, "SELECT id FROM campaigns WHERE organization_id = $1 ORDER BY id")
                .await?;
        let campaigns = campaign_ids
            .iter()
            .enumerate()
            .map(|(i, &id)| {
                // Each campaign rings two to four of the targets, as a ring tree would.
                let mut targets = targets.clone();
                targets.shuffle(rng);
                targets.truncate(rng.random_range(2..=4));
                let revenue_cents =
                    CAMPAIGNS.get(i).map_or_else(|| rng.random_range(20..80) * 100, |c| c.1);
                CampaignPlan { id, revenue_cents, targets }
            })
            .collect::<Vec<_>>();
        let publishers =
            load_ids(db, org, "SELECT id FROM publishers WHERE organization_id = $1 ORDER BY id")
                .await?;
        let rows: Vec<(Uuid, String, Uuid, Option<Uuid>)> = with_pool!(db, pool => {
            sqlx::query_as(
                "SELECT id, number, campaign_id, publisher_id FROM numbers \
                 WHERE organization_id = $1 ORDER BY id",
            )
            .bind(org)
            .fetch_all(pool)
            .await
        })?;
        let numbers = rows
            .into_iter()
            .filter_map(|(id, number, campaign_id, publisher_id)| {
                let campaign = campaign_ids.iter().position(|&c| c == campaign_id)?;
                Some(NumberPlan { id, number, campaign, publisher_id })
            })
            .collect();
        Ok(World { campaigns, publishers, numbers })
    }
}

async fn load_ids(db: &Db, org: OrgId, sql: &str) -> Result<Vec<Uuid>, sqlx::Error> {
    with_pool!(db, pool => sqlx::query_scalar(sql).bind(org).fetch_all(pool).await)
}

/// A demo configuration: campaigns, publishers, buyers with a target or two each, and
/// three tracking numbers a campaign, each credited to a publisher.
async fn create(db: &Db, org: OrgId, rng: &mut StdRng) -> Result<(), NetworkError> {
    let mut buyers = Vec::new();
    for name in BUYERS {
        buyers.push(make::<Buyer>(db, org, json!({"name": name})).await?.id);
    }
    for (i, &buyer) in buyers.iter().enumerate() {
        let host = BUYERS[i].to_ascii_lowercase().replace(' ', "-");
        for n in 1..=(1 + i % 2) {
            make::<Target>(
                db,
                org,
                json!({
                    "buyer_id": buyer,
                    "name": format!("{} line {n}", BUYERS[i]),
                    "destination": format!("sip:intake{n}@{host}.example"),
                    "revenue": {"kind": "static", "cents": CAMPAIGNS[i % CAMPAIGNS.len()].1,
                                "buffer_seconds": 90},
                }),
            )
            .await?;
        }
    }
    let mut publishers = Vec::new();
    for name in PUBLISHERS {
        let payout = json!({"kind": "percent", "percent": rng.random_range(40..=60)});
        publishers
            .push(make::<Publisher>(db, org, json!({"name": name, "payout": payout})).await?.id);
    }
    for (name, _) in CAMPAIGNS {
        let campaign = make::<Campaign>(
            db,
            org,
            json!({
                "name": name,
                "time_zone": "America/New_York",
                "conversion_buffer_seconds": 90,
            }),
        )
        .await?
        .id;
        for _ in 0..3 {
            let publisher = publishers[rng.random_range(0..publishers.len())];
            tracking_number(db, org, campaign, publisher, None, rng).await?;
        }
    }
    Ok(())
}

/// A number on the platform nobody holds yet: numbers are unique across organizations,
/// so one taken (by another organization, or by this one in an earlier draw) is drawn
/// again.
pub(super) async fn tracking_number(
    db: &Db,
    org: OrgId,
    campaign: Uuid,
    publisher: Uuid,
    pool: Option<Uuid>,
    rng: &mut StdRng,
) -> Result<(), NetworkError> {
    let mut last = None;
    for _ in 0..50 {
        let area = AREA_CODES[rng.random_range(0..AREA_CODES.len())];
        let number = format!("+1{area}55501{:02}", rng.random_range(0..100));
        let input = json!({
            "number": number,
            "campaign_id": campaign,
            "publisher_id": publisher,
            "pool_id": pool,
        });
        match make::<Number>(db, org, input).await {
            Err(error @ NetworkError::Taken(_)) => last = Some(error),
            Err(NetworkError::Invalid(invalid))
                if invalid.0.get("number").map(String::as_str)
                    == Some(numbers::IN_THIS_ORGANIZATION) =>
            {
                last = Some(NetworkError::Invalid(invalid));
            }
            done => return done.map(|_| ()),
        }
    }
    Err(last.expect("fifty draws were made"))
}

pub(super) async fn make<R: Resource>(
    db: &Db,
    org: OrgId,
    input: Value,
) -> Result<R, NetworkError> {
    let input: R::Input = serde_json::from_value(input).expect("demo objects are well formed");
    resource::create(db, org, input, By::operator()).await
}
