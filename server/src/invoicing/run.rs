//! Running a buyer's cycle: finish what earlier runs left, hold the cycle's calls, then
//! make the invoice at Stripe.
//!
//! Holding: the first run of a cycle creates the invoice row and, in the same
//! transaction, takes every converted call of the buyer that ended before the cycle's end
//! and is on no invoice yet (back to the start of the buyer's first invoiced cycle: a
//! call converted late by a postback, or one a missed or switched cycle left out, goes on
//! the next invoice) into `buyer_invoice_calls`, whose primary key is the call, and fixes
//! the invoice's lines (one per campaign) and its text. A call is invoiced once, ever.
//!
//! At Stripe, each step is keyed by Bidline's ids and its result kept as soon as it is
//! known (the draft's id, each line's item id), so a run cut short is finished by the
//! next without a second invoice or line; a draft that Stripe already finalized is only
//! recorded. Pending invoices are finished first, whatever their cycle, even if invoicing
//! has been turned off since.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{ConnectError, connection, cycle};
use crate::{
    accounts::{OrgId, tokens},
    billing::{
        StripeApi,
        stripe::{Stripe, StripeError},
    },
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
    #[error(
        "invoices link a statement page: set the address people reach Bidline at (--public-url / BIDLINE_PUBLIC_URL)"
    )]
    NoPublicUrl,
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
    #[serde(skip)]
    pub description: String,
    pub last_error: Option<String>,
    #[serde(serialize_with = "crate::time::serialize")]
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, buyer_id, cycle, period_start, period_end, status, calls, total_cents, \
    stripe_invoice_id, hosted_invoice_url, statement_token, description, last_error, created_at";

/// Where invoices' statement links point: the configured public address.
pub fn statements_base(public_url: Option<&url::Url>) -> Result<String, RunError> {
    public_url.map(|url| url.as_str().trim_end_matches('/').to_owned()).ok_or(RunError::NoPublicUrl)
}

/// Finishes the buyer's pending invoices, then invoices its last cycle that ended at
/// least `delay` before `now` (or finishes that invoice); answers it.
pub async fn run(
    db: &Db,
    api: &StripeApi,
    public_url: Option<&url::Url>,
    org: OrgId,
    buyer: Uuid,
    now: DateTime<Utc>,
    delay: Delay,
) -> Result<Invoice, RunError> {
    let buyer: Buyer = resource::get(db, org, buyer).await.map_err(|error| match error {
        crate::network::NetworkError::Database(error) => RunError::Database(error),
        _ => RunError::NotFound,
    })?;
    let base = statements_base(public_url)?;
    let account = connection(db, org).await?.ok_or(RunError::NotConnected)?;
    let stripe = api.client(account.secret_key())?;
    for pending in pending(db, org, buyer.id).await? {
        finish_recorded(db, &stripe, org, &buyer, &pending).await?;
    }
    if !buyer.invoicing.enabled {
        return Err(RunError::Off);
    }
    let zone = crate::calls::query::time_zone(db, org).await?.parse().unwrap_or(chrono_tz::UTC);
    let (start, end) = cycle::last_complete(buyer.invoicing.cycle, zone, now - delay.0);
    let invoice = hold_calls(db, org, &buyer, (start, end), now, &base).await?;
    if invoice.status == "pending" {
        finish_recorded(db, &stripe, org, &buyer, &invoice).await?;
    }
    get(db, org, invoice.id).await?.ok_or(RunError::NotFound)
}

/// [`finish`], keeping its error on the invoice for people to see.
async fn finish_recorded(
    db: &Db,
    stripe: &Stripe,
    org: OrgId,
    buyer: &Buyer,
    invoice: &Invoice,
) -> Result<(), RunError> {
    let result = finish(db, stripe, org, buyer, invoice).await;
    if let Err(error) = &result {
        with_pool!(db, pool => {
            sqlx::query("UPDATE buyer_invoices SET last_error = $2 WHERE id = $1 AND status = 'pending'")
                .bind(invoice.id)
                .bind(error.to_string())
                .execute(pool)
                .await
                .map(drop)
        })?;
    }
    result
}

/// The cycle's invoice row, made with its calls held and its lines fixed on the first run.
async fn hold_calls(
    db: &Db,
    org: OrgId,
    buyer: &Buyer,
    (start, end): (DateTime<Utc>, DateTime<Utc>),
    now: DateTime<Utc>,
    base: &str,
) -> Result<Invoice, RunError> {
    let id = Uuid::now_v7();
    let token = tokens::generate("st_");
    let description = format!(
        "Converted calls that ended before {} UTC (this cycle from {} UTC). The calls: {base}/statements/{token}",
        end.format("%Y-%m-%d %H:%M"),
        start.format("%Y-%m-%d %H:%M"),
    );
    let select = format!(
        "SELECT {COLUMNS} FROM buyer_invoices WHERE buyer_id = $1 AND period_start = $2 AND period_end = $3"
    );
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        let created = sqlx::query(
            "INSERT INTO buyer_invoices (id, organization_id, buyer_id, cycle, period_start, period_end, \
             status, calls, total_cents, statement_token, description, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, 0, $7, $8, $9) \
             ON CONFLICT (buyer_id, period_start, period_end) DO NOTHING",
        )
        .bind(id)
        .bind(org)
        .bind(buyer.id)
        .bind(buyer.invoicing.cycle.as_str())
        .bind(start)
        .bind(end)
        .bind(&token)
        .bind(&description)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected() == 1;
        if created {
            // Revenue as it stands now: postbacks made since the call are in it.
            sqlx::query(
                "INSERT INTO buyer_invoice_calls (call_id, invoice_id, campaign_id, campaign_name, revenue_cents) \
                 SELECT c.id, $1, c.campaign_id, COALESCE(p.name, 'A deleted campaign'), c.revenue_cents \
                 FROM calls c LEFT JOIN campaigns p ON p.id = c.campaign_id \
                 WHERE c.organization_id = $2 AND c.buyer_id = $3 AND c.converted AND c.revenue_cents > 0 \
                 AND c.ended_at < $4 \
                 AND c.ended_at >= (SELECT MIN(period_start) FROM buyer_invoices WHERE buyer_id = $3) \
                 ON CONFLICT (call_id) DO NOTHING",
            )
            .bind(id)
            .bind(org)
            .bind(buyer.id)
            .bind(end)
            .execute(&mut *tx)
            .await?;
            let lines: Vec<(Uuid, String, i64, i64)> = sqlx::query_as(
                "SELECT campaign_id, MIN(campaign_name), COUNT(*), CAST(SUM(revenue_cents) AS BIGINT) \
                 FROM buyer_invoice_calls WHERE invoice_id = $1 GROUP BY campaign_id",
            )
            .bind(id)
            .fetch_all(&mut *tx)
            .await?;
            for (campaign, name, calls, cents) in &lines {
                let plural = if *calls == 1 { "" } else { "s" };
                sqlx::query(
                    "INSERT INTO buyer_invoice_lines (invoice_id, campaign_id, description, calls, amount_cents) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(id)
                .bind(campaign)
                .bind(format!("{name}: {calls} converted call{plural}"))
                .bind(calls)
                .bind(cents)
                .execute(&mut *tx)
                .await?;
            }
            let (calls, total) = lines.iter().fold((0, 0), |(n, sum), line| (n + line.2, sum + line.3));
            let status = if calls == 0 { "empty" } else { "pending" };
            sqlx::query("UPDATE buyer_invoices SET calls = $2, total_cents = $3, status = $4 WHERE id = $1")
                .bind(id)
                .bind(calls)
                .bind(total)
                .bind(status)
                .execute(&mut *tx)
                .await?;
        }
        let invoice: Invoice =
            sqlx::query_as(&select).bind(buyer.id).bind(start).bind(end).fetch_one(&mut *tx).await?;
        tx.commit().await?;
        Ok(invoice)
    })
}

/// Makes the invoice at Stripe, keeping each step's result as soon as it is known; marks
/// it open once Stripe has finalized it.
async fn finish(
    db: &Db,
    stripe: &Stripe,
    org: OrgId,
    buyer: &Buyer,
    invoice: &Invoice,
) -> Result<(), RunError> {
    let customer = buyer_customer(db, stripe, org, buyer).await?;
    let stripe_invoice = match &invoice.stripe_invoice_id {
        Some(id) => {
            // An earlier run may have finalized it and then failed to say so.
            let (status, hosted) = stripe.invoice_state(id).await?;
            if status != "draft" {
                return mark_open(db, invoice.id, hosted).await;
            }
            id.clone()
        }
        None => {
            let id = stripe.create_invoice(invoice.id, &customer, &invoice.description).await?;
            execute(
                db,
                "UPDATE buyer_invoices SET stripe_invoice_id = $2 WHERE id = $1",
                invoice.id,
                &id,
            )
            .await?;
            id
        }
    };
    let lines: Vec<(Uuid, String, i64, Option<String>)> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT campaign_id, description, amount_cents, stripe_item_id FROM buyer_invoice_lines \
             WHERE invoice_id = $1 ORDER BY description",
        )
        .bind(invoice.id)
        .fetch_all(pool)
        .await
    })?;
    for (campaign, description, cents, item) in lines {
        if item.is_some() {
            continue;
        }
        let item = stripe
            .add_invoice_line(invoice.id, campaign, &stripe_invoice, &customer, cents, &description)
            .await?;
        with_pool!(db, pool => {
            sqlx::query(
                "UPDATE buyer_invoice_lines SET stripe_item_id = $3 WHERE invoice_id = $1 AND campaign_id = $2",
            )
            .bind(invoice.id)
            .bind(campaign)
            .bind(&item)
            .execute(pool)
            .await
            .map(drop)
        })?;
    }
    let hosted = stripe.finalize_invoice(invoice.id, &stripe_invoice).await?;
    mark_open(db, invoice.id, hosted).await
}

async fn mark_open(db: &Db, invoice: Uuid, hosted: Option<String>) -> Result<(), RunError> {
    with_pool!(db, pool => {
        sqlx::query(
            "UPDATE buyer_invoices SET status = 'open', hosted_invoice_url = $2, finalized_at = $3, \
             last_error = NULL WHERE id = $1",
        )
        .bind(invoice)
        .bind(hosted)
        .bind(Utc::now())
        .execute(pool)
        .await
        .map(drop)
    })?;
    Ok(())
}

/// Runs `sql` binding an invoice's id and one text.
async fn execute(db: &Db, sql: &str, invoice: Uuid, text: &str) -> Result<(), sqlx::Error> {
    with_pool!(db, pool => {
        sqlx::query(sql).bind(invoice).bind(text).execute(pool).await.map(drop)
    })
}

/// The buyer's customer in the organization's account (made once per account).
async fn buyer_customer(
    db: &Db,
    stripe: &Stripe,
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

async fn pending(db: &Db, org: OrgId, buyer: Uuid) -> Result<Vec<Invoice>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM buyer_invoices WHERE organization_id = $1 AND buyer_id = $2 \
         AND status = 'pending' ORDER BY period_start"
    );
    with_pool!(db, pool => {
        sqlx::query_as(&sql).bind(org).bind(buyer).fetch_all(pool).await
    })
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
         ORDER BY period_start DESC, period_end DESC LIMIT 100"
    );
    with_pool!(db, pool => {
        sqlx::query_as(&sql).bind(org).bind(buyer).fetch_all(pool).await
    })
}

/// Every buyer to visit, in organizations with a connected account: invoicing on, or an
/// invoice still pending.
pub async fn due(db: &Db) -> Result<Vec<(OrgId, Uuid)>, sqlx::Error> {
    with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT b.organization_id, b.id FROM buyers b \
             JOIN org_stripe_accounts a ON a.organization_id = b.organization_id \
             WHERE b.invoicing_enabled \
             OR EXISTS (SELECT 1 FROM buyer_invoices i WHERE i.buyer_id = b.id AND i.status = 'pending')",
        )
        .fetch_all(pool)
        .await
    })
}

/// Visits every due buyer every hour (the first time an hour after start; a finished
/// cycle changes nothing when run again, so every node may).
pub fn spawn(
    db: Db,
    api: StripeApi,
    public_url: Option<url::Url>,
    delay: Delay,
    tasks: &crate::tasks::Tasks,
) {
    tasks.spawn("invoicing", async move {
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
                let url = public_url.as_ref();
                match run(&db, &api, url, org, buyer, Utc::now(), delay).await {
                    Ok(_) | Err(RunError::Off) => {}
                    Err(error) => {
                        tracing::warn!(%error, buyer = %buyer, "could not invoice a buyer's cycle")
                    }
                }
            }
        }
    });
}
