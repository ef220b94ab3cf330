//! Running a buyer's cycle: hold its calls, then make the invoice at Stripe.
//!
//! The first run of a cycle creates the invoice row and, in the same transaction, takes
//! the cycle's converted calls into `buyer_invoice_calls`, whose primary key is the call:
//! a call is invoiced once, ever. What happens at Stripe after that (the customer, the
//! draft, one line per campaign, finalizing) is keyed by Bidline's ids, so a run that
//! stopped half-way (a crash, Stripe down) is finished by the next run, with the same
//! calls, without a second invoice or line; two runs at once send the same keyed
//! requests, which Stripe answers alike. The row stays `pending` until Stripe has it all.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{ConnectError, connection, cycle};
use crate::{
    accounts::{OrgId, tokens},
    billing::{StripeApi, stripe::StripeError},
    db::{Db, with_pool},
    network::{buyers::Buyer, resource},
};

/// How long after a cycle ends it is invoiced: time for buyers' postbacks to land.
#[derive(Clone, Copy, Debug)]
pub struct Delay(pub chrono::Duration);

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("not found")]
    NotFound,
    #[error("invoicing is off for this buyer")]
    Off,
    #[error("the organization has not connected a Stripe account")]
    NotConnected,
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error(transparent)]
    Stripe(#[from] StripeError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// An invoice as the API shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, sqlx::FromRow)]
pub struct Invoice {
    pub id: Uuid,
    pub buyer_id: Uuid,
    pub cycle: String,
    #[serde(serialize_with = "crate::time::serialize")]
    pub period_start: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize")]
    pub period_end: DateTime<Utc>,
    pub status: String,
    pub calls: i64,
    pub total_cents: i64,
    pub stripe_invoice_id: Option<String>,
    pub hosted_invoice_url: Option<String>,
    #[serde(skip)]
    pub statement_token: String,
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::time::serialize")]
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, buyer_id, cycle, period_start, period_end, status, calls, total_cents, \
    stripe_invoice_id, hosted_invoice_url, statement_token, last_error, created_at";

/// Invoices the buyer's last cycle that ended at least `delay` before `now`, or finishes
/// its invoice; answers the invoice. `base` is where the statement page is reached.
pub async fn run(
    db: &Db,
    api: &StripeApi,
    org: OrgId,
    buyer: Uuid,
    now: DateTime<Utc>,
    delay: Delay,
    base: &str,
) -> Result<Invoice, RunError> {
    let buyer: Buyer = resource::get(db, org, buyer).await.map_err(|error| match error {
        crate::network::NetworkError::Database(error) => RunError::Database(error),
        _ => RunError::NotFound,
    })?;
    if !buyer.invoicing.enabled {
        return Err(RunError::Off);
    }
    let account = connection(db, org).await?.ok_or(RunError::NotConnected)?;
    let zone = crate::calls::query::time_zone(db, org).await?.parse().unwrap_or(chrono_tz::UTC);
    let (start, end) = cycle::last_complete(buyer.invoicing.cycle, zone, now - delay.0);
    let invoice = hold_calls(db, org, &buyer, start, end, now).await?;
    if invoice.status != "pending" {
        return Ok(invoice);
    }
    let stripe = api.client(account.secret_key())?;
    let result = finish(db, &stripe, org, &buyer, &invoice, base).await;
    if let Err(error) = &result {
        with_pool!(db, pool => {
            sqlx::query("UPDATE buyer_invoices SET last_error = $2 WHERE id = $1")
                .bind(invoice.id)
                .bind(error.to_string())
                .execute(pool)
                .await
                .map(drop)
        })?;
    }
    result?;
    get(db, org, invoice.id).await?.ok_or(RunError::NotFound)
}

/// The cycle's invoice row, made with its calls held on the first run.
async fn hold_calls(
    db: &Db,
    org: OrgId,
    buyer: &Buyer,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Invoice, RunError> {
    let id = Uuid::now_v7();
    let token = tokens::generate("st_");
    let select =
        format!("SELECT {COLUMNS} FROM buyer_invoices WHERE buyer_id = $1 AND period_start = $2");
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        let created = sqlx::query(
            "INSERT INTO buyer_invoices (id, organization_id, buyer_id, cycle, period_start, period_end, \
             status, calls, total_cents, statement_token, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, 0, $7, $8) \
             ON CONFLICT (buyer_id, period_start) DO NOTHING",
        )
        .bind(id)
        .bind(org)
        .bind(buyer.id)
        .bind(buyer.invoicing.cycle.as_str())
        .bind(start)
        .bind(end)
        .bind(&token)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected() == 1;
        if created {
            // Revenue as it stands now: postbacks made since the call are in it.
            sqlx::query(
                "INSERT INTO buyer_invoice_calls (call_id, invoice_id, campaign_id, revenue_cents) \
                 SELECT id, $1, campaign_id, revenue_cents FROM calls \
                 WHERE organization_id = $2 AND buyer_id = $3 AND converted AND revenue_cents > 0 \
                 AND ended_at >= $4 AND ended_at < $5 \
                 ON CONFLICT (call_id) DO NOTHING",
            )
            .bind(id)
            .bind(org)
            .bind(buyer.id)
            .bind(start)
            .bind(end)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE buyer_invoices SET \
                 calls = (SELECT COUNT(*) FROM buyer_invoice_calls WHERE invoice_id = $1), \
                 total_cents = COALESCE((SELECT SUM(revenue_cents) FROM buyer_invoice_calls WHERE invoice_id = $1), 0) \
                 WHERE id = $1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE buyer_invoices SET status = 'empty' WHERE id = $1 AND calls = 0")
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        let invoice: Invoice = sqlx::query_as(&select).bind(buyer.id).bind(start).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(invoice)
    })
}

/// One line: a campaign's calls on the invoice.
#[derive(sqlx::FromRow)]
struct Line {
    campaign_id: Uuid,
    name: String,
    calls: i64,
    cents: i64,
}

/// Makes the invoice at Stripe, step by step, each step keyed so that repeating it
/// changes nothing; marks the invoice open once Stripe has finalized it.
async fn finish(
    db: &Db,
    stripe: &crate::billing::stripe::Stripe,
    org: OrgId,
    buyer: &Buyer,
    invoice: &Invoice,
    base: &str,
) -> Result<(), RunError> {
    let customer = buyer_customer(db, stripe, org, buyer).await?;
    let stripe_invoice = match &invoice.stripe_invoice_id {
        Some(id) => id.clone(),
        None => {
            let statement = format!("{base}/statements/{}", invoice.statement_token);
            let description = format!(
                "Converted calls from {} to {} (UTC). The calls: {statement}",
                invoice.period_start.format("%Y-%m-%d %H:%M"),
                invoice.period_end.format("%Y-%m-%d %H:%M"),
            );
            let id = stripe.create_invoice(invoice.id, &customer, &description).await?;
            with_pool!(db, pool => {
                sqlx::query("UPDATE buyer_invoices SET stripe_invoice_id = $2 WHERE id = $1")
                    .bind(invoice.id)
                    .bind(&id)
                    .execute(pool)
                    .await
                    .map(drop)
            })?;
            id
        }
    };
    let lines: Vec<Line> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT i.campaign_id, c.name, COUNT(*) AS calls, CAST(SUM(i.revenue_cents) AS BIGINT) AS cents \
             FROM buyer_invoice_calls i JOIN campaigns c ON c.id = i.campaign_id \
             WHERE i.invoice_id = $1 GROUP BY i.campaign_id, c.name ORDER BY c.name",
        )
        .bind(invoice.id)
        .fetch_all(pool)
        .await
    })?;
    for line in &lines {
        let plural = if line.calls == 1 { "" } else { "s" };
        let description = format!("{}: {} converted call{plural}", line.name, line.calls);
        stripe
            .add_invoice_line(
                invoice.id,
                line.campaign_id,
                &stripe_invoice,
                &customer,
                line.cents,
                &description,
            )
            .await?;
    }
    let hosted = stripe.finalize_invoice(invoice.id, &stripe_invoice).await?;
    with_pool!(db, pool => {
        sqlx::query(
            "UPDATE buyer_invoices SET status = 'open', hosted_invoice_url = $2, finalized_at = $3, \
             last_error = NULL WHERE id = $1",
        )
        .bind(invoice.id)
        .bind(hosted)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(drop)
    })?;
    Ok(())
}

/// The buyer's customer in the organization's account (made once).
async fn buyer_customer(
    db: &Db,
    stripe: &crate::billing::stripe::Stripe,
    org: OrgId,
    buyer: &Buyer,
) -> Result<String, RunError> {
    let known: Option<String> = with_pool!(db, pool => {
        sqlx::query_scalar("SELECT stripe_customer_id FROM buyer_customers WHERE buyer_id = $1")
            .bind(buyer.id)
            .fetch_optional(pool)
            .await
    })?;
    if let Some(customer) = known {
        return Ok(customer);
    }
    let customer =
        stripe.create_buyer_customer(buyer.id, &buyer.name, buyer.contact.email.as_deref()).await?;
    with_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO buyer_customers (buyer_id, organization_id, stripe_customer_id) VALUES ($1, $2, $3) \
             ON CONFLICT (buyer_id) DO NOTHING",
        )
        .bind(buyer.id)
        .bind(org)
        .bind(&customer)
        .execute(pool)
        .await
        .map(drop)
    })?;
    Ok(customer)
}

pub async fn get(db: &Db, org: OrgId, id: Uuid) -> Result<Option<Invoice>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM buyer_invoices WHERE organization_id = $1 AND id = $2");
    with_pool!(db, pool => {
        sqlx::query_as(&sql).bind(org).bind(id).fetch_optional(pool).await
    })
}

/// The buyer's invoices, newest cycle first.
pub async fn list(db: &Db, org: OrgId, buyer: Uuid) -> Result<Vec<Invoice>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM buyer_invoices WHERE organization_id = $1 AND buyer_id = $2 \
         ORDER BY period_start DESC LIMIT 100"
    );
    with_pool!(db, pool => {
        sqlx::query_as(&sql).bind(org).bind(buyer).fetch_all(pool).await
    })
}

/// Every buyer with invoicing on, in organizations with a connected account.
pub async fn due(db: &Db) -> Result<Vec<(OrgId, Uuid)>, sqlx::Error> {
    with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT b.organization_id, b.id FROM buyers b \
             JOIN org_stripe_accounts a ON a.organization_id = b.organization_id \
             WHERE b.invoicing_enabled",
        )
        .fetch_all(pool)
        .await
    })
}

/// Runs every due buyer's last cycle every hour (the first an hour after start; runs of
/// a finished cycle change nothing, so every node may).
pub fn spawn(db: Db, api: StripeApi, delay: Delay, base: String) {
    tokio::spawn(async move {
        let every = std::time::Duration::from_secs(3600);
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let buyers = match due(&db).await {
                Ok(buyers) => buyers,
                Err(error) => {
                    tracing::warn!(%error, "could not list the buyers to invoice");
                    continue;
                }
            };
            for (org, buyer) in buyers {
                if let Err(error) = run(&db, &api, org, buyer, Utc::now(), delay, &base).await {
                    tracing::warn!(%error, buyer = %buyer, "could not invoice a buyer's cycle");
                }
            }
        }
    });
}
