//! `bidline demo`: Bidline as `serve` runs it, with a demo organization whose calls
//! never stop. Its buyers answer on loopback ([`super::buyers`]), its carrier dials its
//! numbers through the SIP edge ([`super::carrier`]), and a first start writes two weeks
//! of history through the same generator as `bidline demo seed`. The organization is
//! marked `demo`; `bidline demo remove` deletes it with everything it holds.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::json;
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{
    buyers::{Answered, Buyers},
    carrier::Carrier,
    network::{self, DNI_CAMPAIGN},
    seed::{Seeding, seed},
    world::CAMPAIGNS,
};
use crate::{
    accounts::{self, AccountError, OrgId, audit::By, orgs::Creator},
    db::{Db, with_pool},
    dni::book::Book,
    network::NetworkError,
    postbacks::keys,
    routing::{
        loopback::{self, Line},
        snapshot::Routing,
    },
    tasks::Tasks,
};

/// Who signs in to the demo organization.
pub const EMAIL: &str = "demo@bidline.example";
const NAME: &str = "Demo network";
/// History written at the first start: enough for every report to show something.
const HISTORY: Seeding = Seeding { org: OrgId(Uuid::nil()), calls: 3_000, days: 14, seed: 1 };

/// What `bidline demo` asks for.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    pub calls_per_minute: u32,
    pub seed: Option<u64>,
}

/// What the demo runs in: the server's database, routing and lease book, the loopback
/// line to its SIP edge, and where its HTTP server listens.
pub struct Stage {
    pub db: Db,
    pub routing: Routing,
    pub book: Arc<Book>,
    pub line: Line,
    pub http: SocketAddr,
}

/// How to sign in to the demo organization.
pub struct SignIn {
    pub org: OrgId,
    pub email: &'static str,
    pub password: String,
}

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the demo's buyers could not listen on loopback: {0}")]
    Listen(#[from] std::io::Error),
    #[error("the demo organization: {0}")]
    Account(#[from] AccountError),
    #[error("the demo's configuration: {}", described(.0))]
    Network(#[from] NetworkError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// The error, with the fields a refused object broke.
fn described(error: &NetworkError) -> String {
    match error {
        NetworkError::Invalid(invalid) | NetworkError::Taken(invalid) => {
            let fields: Vec<String> = invalid.0.iter().map(|(k, v)| format!("{k} {v}")).collect();
            format!("{error} ({})", fields.join("; "))
        }
        _ => error.to_string(),
    }
}

/// Sets the demo organization up and starts its traffic (stopped with `tasks`).
pub async fn start(stage: Stage, settings: Settings, tasks: &Tasks) -> Result<SignIn, DemoError> {
    let Stage { db, routing, book, line, http } = stage;
    let (answered, postbacks) = mpsc::channel(256);
    let buyers = Buyers::start(answered).await?;
    let (org, password, new) = organization(&db).await?;
    let mut rng = StdRng::from_os_rng();
    network::ensure(&db, org, buyers.sip, buyers.http, &mut rng).await?;
    if new {
        let db = db.clone();
        tasks.spawn("demo history", async move {
            if let Err(error) = seed(&db, Seeding { org, ..HISTORY }).await {
                tracing::warn!(%error, "the demo's history could not be written");
            }
        });
    }
    let key = postback_key(&db, org).await?;
    tasks.spawn("demo postbacks", send_postbacks(postbacks, http, key));
    wait_for_numbers(&routing, org).await;
    let dni_campaign = campaign_named(&db, org, CAMPAIGNS[DNI_CAMPAIGN].0).await?;
    let carrier = Carrier {
        org,
        routing,
        book: Arc::downgrade(&book),
        line,
        calls_per_minute: settings.calls_per_minute,
        seed: settings.seed,
        dni_campaign,
    };
    tasks.spawn("demo carrier", async move {
        // The buyers answer for as long as the carrier calls.
        let _buyers = buyers;
        carrier.run().await;
    });
    Ok(SignIn { org, email: EMAIL, password })
}

/// The demo organization (created, and marked, the first time) and a fresh password
/// for its owner; `true` when it is new.
async fn organization(db: &Db) -> Result<(OrgId, String, bool), DemoError> {
    let password = accounts::passwords::generate();
    let existing: Option<OrgId> = with_pool!(db, pool => {
        sqlx::query_scalar("SELECT id FROM organizations WHERE demo ORDER BY created_at LIMIT 1")
            .fetch_optional(pool)
            .await
    })?;
    if let Some(org) = existing {
        accounts::users::reset_password(db, EMAIL, &password).await?;
        return Ok((org, password, false));
    }
    // A user kept from a removed demo gets the new password first (creating an
    // organization for an existing user asks for theirs).
    match accounts::users::reset_password(db, EMAIL, &password).await {
        Ok(_) | Err(AccountError::UnknownEmail) => {}
        Err(error) => return Err(error.into()),
    }
    let created =
        accounts::orgs::create_with_owner(db, NAME, EMAIL, &password, Creator::Operator).await?;
    with_pool!(db, pool => {
        sqlx::query("UPDATE organizations SET demo = TRUE WHERE id = $1")
            .bind(created.org)
            .execute(pool)
            .await
            .map(drop)
    })?;
    Ok((created.org, password, true))
}

/// A postback key of the buyer that reports conversions, made anew at each start (the
/// last start's is revoked: its secret is gone with that process).
async fn postback_key(db: &Db, org: OrgId) -> Result<String, DemoError> {
    let plan = network::TARGETS.iter().find(|t| t.postbacks).expect("a buyer sends postbacks");
    let name = super::world::BUYERS[plan.buyer];
    let buyer: Uuid = with_pool!(db, pool => {
        sqlx::query_scalar("SELECT id FROM buyers WHERE organization_id = $1 AND name = $2")
            .bind(org)
            .bind(name)
            .fetch_one(pool)
            .await
    })?;
    for old in keys::list(db, org, buyer).await?.into_iter().filter(|k| k.revoked_at.is_none()) {
        keys::revoke(db, org, buyer, old.id, By::operator()).await?;
    }
    let (_, secret) = keys::create(db, org, buyer, By::operator()).await?;
    Ok(secret)
}

/// Reports conversions of the calls the postback buyer answered, once each has ended.
async fn send_postbacks(mut answered: mpsc::Receiver<Answered>, http: SocketAddr, key: String) {
    let client = reqwest::Client::new();
    let url = format!("http://{}/postback/v1/{key}", loopback::reachable(http));
    while let Some(Answered { caller, plan, hang_up_after }) = answered.recv().await {
        let (client, url) = (client.clone(), url.clone());
        let (converted, revenue) = {
            let mut rng = rand::rng();
            (rng.random_bool(0.6), plan.cents + rng.random_range(-500..=1_500))
        };
        tokio::spawn(async move {
            // The buyer hangs up by then if the caller has not: the call has ended.
            tokio::time::sleep(hang_up_after + Duration::from_secs(5)).await;
            let body = json!({
                "caller": caller,
                "at": chrono::Utc::now().to_rfc3339(),
                "converted": converted,
                "revenue_cents": converted.then_some(revenue),
            });
            match client.post(&url).json(&body).send().await {
                Ok(response) if !response.status().is_success() => {
                    tracing::debug!(status = %response.status(), "a demo postback was refused");
                }
                Ok(_) => {}
                Err(error) => tracing::debug!(%error, "a demo postback failed"),
            }
        });
    }
}

/// Waits (a few seconds at most) for the routing snapshot to hold the demo's numbers.
async fn wait_for_numbers(routing: &Routing, org: OrgId) {
    for _ in 0..100 {
        if routing.current().numbers.values().any(|n| n.org == org) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn campaign_named(db: &Db, org: OrgId, name: &str) -> Result<Option<Uuid>, sqlx::Error> {
    with_pool!(db, pool => {
        sqlx::query_scalar("SELECT id FROM campaigns WHERE organization_id = $1 AND name = $2")
            .bind(org)
            .bind(name)
            .fetch_optional(pool)
            .await
    })
}

/// Deletes every demo organization and everything it holds; returns how many there were.
pub async fn remove(db: &Db) -> Result<u64, sqlx::Error> {
    let orgs: Vec<OrgId> = with_pool!(db, pool => {
        sqlx::query_scalar("SELECT id FROM organizations WHERE demo").fetch_all(pool).await
    })?;
    for &org in &orgs {
        // Rows without a foreign key to their organization first (see the migration
        // that dropped them), then the organization, which takes the rest with it.
        let statements = [
            "DELETE FROM call_events WHERE call_id IN (SELECT id FROM calls WHERE organization_id = $1)",
            "DELETE FROM bids WHERE call_id IN (SELECT id FROM calls WHERE organization_id = $1)",
            "DELETE FROM buyer_invoice_calls WHERE invoice_id IN \
             (SELECT id FROM buyer_invoices WHERE organization_id = $1)",
            "DELETE FROM buyer_invoice_lines WHERE invoice_id IN \
             (SELECT id FROM buyer_invoices WHERE organization_id = $1)",
            "DELETE FROM usage_records WHERE organization_id = $1",
            "DELETE FROM organizations WHERE id = $1 AND demo",
        ];
        with_pool!(db, pool => {
            let mut tx = pool.begin().await?;
            for sql in statements {
                sqlx::query(sql).bind(org).execute(&mut *tx).await?;
            }
            // Its user, unless they belong to another organization too.
            sqlx::query(
                "DELETE FROM users WHERE email = $1 \
                 AND NOT EXISTS (SELECT 1 FROM memberships WHERE memberships.user_id = users.id)",
            )
            .bind(EMAIL)
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        })?;
    }
    Ok(orgs.len() as u64)
}
