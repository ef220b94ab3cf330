//! Each organization's side at Stripe (`billing_accounts`): its customer, and its
//! subscription's status as Stripe's events last told it.

use chrono::{DateTime, Utc};

use super::stripe::{Stripe, StripeError};
use crate::{
    accounts::OrgId,
    db::{Db, with_pool},
};

/// Where an organization stands with its subscription.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Never subscribed.
    None,
    /// Paid up (or trialing).
    Active,
    /// A payment failed and is being retried by Stripe (or the subscription is unpaid).
    PastDue,
    Canceled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Active => "active",
            Self::PastDue => "past_due",
            Self::Canceled => "canceled",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        [Self::None, Self::Active, Self::PastDue, Self::Canceled]
            .into_iter()
            .find(|status| status.as_str() == text)
    }

    /// Bidline's status for a subscription's Stripe status.
    pub fn of_subscription(stripe_status: &str) -> Status {
        match stripe_status {
            "active" | "trialing" => Status::Active,
            "past_due" | "unpaid" => Status::PastDue,
            "canceled" | "incomplete_expired" => Status::Canceled,
            // "incomplete" (the first payment is pending) and "paused" bill nothing yet.
            _ => Status::None,
        }
    }
}

/// An organization's billing account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub stripe_customer_id: Option<String>,
    pub subscription_id: Option<String>,
    pub status: Status,
    pub stripe_status: Option<String>,
    pub past_due_since: Option<DateTime<Utc>>,
    pub period_start: Option<DateTime<Utc>>,
    pub period_end: Option<DateTime<Utc>>,
}

impl Account {
    const NONE: Account = Account {
        stripe_customer_id: None,
        subscription_id: None,
        status: Status::None,
        stripe_status: None,
        past_due_since: None,
        period_start: None,
        period_end: None,
    };

    /// When new calls are turned away: once past due (or canceled while past due) for
    /// longer than `grace`.
    pub fn calls_blocked_from(&self, grace: chrono::Duration) -> Option<DateTime<Utc>> {
        match self.status {
            Status::PastDue | Status::Canceled => self.past_due_since.map(|since| since + grace),
            Status::None | Status::Active => None,
        }
    }
}

type AccountRow = (
    Option<String>,
    Option<String>,
    String,
    Option<String>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
    Option<DateTime<Utc>>,
);

/// The organization's account; one that never dealt with Stripe has none of it.
pub async fn get(db: &Db, org: OrgId) -> Result<Account, sqlx::Error> {
    let row: Option<AccountRow> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT stripe_customer_id, subscription_id, status, stripe_status, past_due_since, \
             period_start, period_end FROM billing_accounts WHERE organization_id = $1",
        )
        .bind(org)
        .fetch_optional(pool)
        .await
    })?;
    Ok(row.map_or(Account::NONE, |row| Account {
        stripe_customer_id: row.0,
        subscription_id: row.1,
        status: Status::parse(&row.2).unwrap_or(Status::None),
        stripe_status: row.3,
        past_due_since: row.4,
        period_start: row.5,
        period_end: row.6,
    }))
}

/// Why a customer could not be had.
#[derive(Debug, thiserror::Error)]
pub enum CustomerError {
    #[error(transparent)]
    Stripe(#[from] StripeError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// The organization's Stripe customer, created at Stripe on first need. Nodes racing to
/// create it send the same idempotency key, so Stripe makes one; the first stored wins.
pub async fn customer(db: &Db, stripe: &Stripe, org: OrgId) -> Result<String, CustomerError> {
    if let Some(id) = get(db, org).await?.stripe_customer_id {
        return Ok(id);
    }
    let name: String = with_pool!(db, pool => {
        sqlx::query_scalar("SELECT name FROM organizations WHERE id = $1").bind(org).fetch_one(pool).await
    })?;
    let id = stripe.create_customer(org, &name).await?;
    let now = Utc::now();
    with_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO billing_accounts (organization_id, stripe_customer_id, status, updated_at) \
             VALUES ($1, $2, 'none', $3) ON CONFLICT (organization_id) DO UPDATE SET \
             stripe_customer_id = COALESCE(billing_accounts.stripe_customer_id, excluded.stripe_customer_id)",
        )
        .bind(org)
        .bind(&id)
        .bind(now)
        .execute(pool)
        .await
        .map(drop)
    })?;
    get(db, org)
        .await?
        .stripe_customer_id
        .ok_or_else(|| CustomerError::Database(sqlx::Error::RowNotFound))
}

/// Every organization whose new calls are (or will be) turned away, and from when.
pub async fn blocked(
    db: &Db,
    grace: chrono::Duration,
) -> Result<Vec<(OrgId, DateTime<Utc>)>, sqlx::Error> {
    let rows: Vec<(OrgId, DateTime<Utc>)> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT organization_id, past_due_since FROM billing_accounts \
             WHERE status IN ('past_due', 'canceled') AND past_due_since IS NOT NULL",
        )
        .fetch_all(pool)
        .await
    })?;
    Ok(rows.into_iter().map(|(org, since)| (org, since + grace)).collect())
}
