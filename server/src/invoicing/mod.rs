//! A network invoices its buyers for converted calls, through its own Stripe account —
//! what Ringba leaves to its users ("does not collect payments").
//!
//! The organization connects its Stripe account with a secret key (sealed at rest, never
//! shown again: only its [hint](Connection::key_hint)). A buyer with invoicing on gets a
//! customer in that account and, for each finished cycle ([`cycle`]), one invoice: a line
//! per campaign (its converted calls and their revenue, after any postback adjustment made
//! before the run), and a link to a statement page listing the calls ([`statement`]). A
//! call is invoiced at most once, ever; running a cycle again finishes what an earlier run
//! left, never starts a second invoice ([`run`]).

pub mod cycle;
pub mod run;
pub mod statement;

use chrono::{DateTime, Utc};

use crate::{
    accounts::OrgId,
    billing::stripe::StripeError,
    db::{Db, with_pool},
    secrets,
};

/// The organization's connected Stripe account.
#[derive(Clone)]
pub struct Connection {
    secret_key: String,
    pub key_hint: String,
    pub connected_at: DateTime<Utc>,
}

impl Connection {
    pub fn secret_key(&self) -> &str {
        &self.secret_key
    }
}

/// Never prints the key.
impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection").field("key_hint", &self.key_hint).finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("a Stripe secret key starts with sk_ or rk_ and has no spaces")]
    Malformed,
    #[error("Stripe refused the key: {0}")]
    Refused(String),
    #[error(transparent)]
    Stripe(StripeError),
    #[error(transparent)]
    Secret(#[from] secrets::SecretError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// What the sealed key belongs to: another row's sealed key does not open here.
fn context(org: OrgId) -> Vec<u8> {
    format!("org_stripe_accounts.secret_key_sealed:{}", org.0).into_bytes()
}

/// `sk_live_…x4Qa`: enough to tell keys apart, too little to use.
fn hint(key: &str) -> String {
    let prefix: String = key.chars().take(8).collect();
    let suffix: String = key.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("{prefix}…{suffix}")
}

/// Checks the key with Stripe, then keeps it (replacing any earlier one). The account may
/// be another: buyers' customers are made again in it, and pending invoices start their
/// Stripe side over (keyed as before, so the same account answers with what it has).
pub async fn connect(
    db: &Db,
    api: &crate::billing::StripeApi,
    org: OrgId,
    secret_key: &str,
    now: DateTime<Utc>,
) -> Result<Connection, ConnectError> {
    let key = secret_key.trim();
    let well_formed = (key.starts_with("sk_") || key.starts_with("rk_"))
        && key.len() > 10
        && !key.chars().any(char::is_whitespace);
    if !well_formed {
        return Err(ConnectError::Malformed);
    }
    let stripe = api.client(key).map_err(ConnectError::Stripe)?;
    match stripe.check_key().await {
        Ok(()) => {}
        Err(StripeError::Unauthorized { message, .. } | StripeError::Refused { message, .. }) => {
            return Err(ConnectError::Refused(message));
        }
        Err(error) => return Err(ConnectError::Stripe(error)),
    }
    let sealed = secrets::key()?.seal(key, &context(org));
    let key_hint = hint(key);
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO org_stripe_accounts (organization_id, secret_key_sealed, key_hint, connected_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (organization_id) DO UPDATE SET \
             secret_key_sealed = excluded.secret_key_sealed, key_hint = excluded.key_hint, \
             connected_at = excluded.connected_at",
        )
        .bind(org)
        .bind(&sealed)
        .bind(&key_hint)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM buyer_customers WHERE organization_id = $1")
            .bind(org)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE buyer_invoice_lines SET stripe_item_id = NULL WHERE invoice_id IN \
             (SELECT id FROM buyer_invoices WHERE organization_id = $1 AND status = 'pending')",
        )
        .bind(org)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE buyer_invoices SET stripe_invoice_id = NULL WHERE organization_id = $1 AND status = 'pending'",
        )
        .bind(org)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    })?;
    Ok(Connection { secret_key: key.to_owned(), key_hint, connected_at: now })
}

/// The organization's connection, if it has one.
pub async fn connection(db: &Db, org: OrgId) -> Result<Option<Connection>, ConnectError> {
    let row: Option<(String, String, DateTime<Utc>)> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT secret_key_sealed, key_hint, connected_at FROM org_stripe_accounts WHERE organization_id = $1",
        )
        .bind(org)
        .fetch_optional(pool)
        .await
    })?;
    let Some((sealed, key_hint, connected_at)) = row else { return Ok(None) };
    let secret_key = secrets::key()?.open(&sealed, &context(org))?;
    Ok(Some(Connection { secret_key, key_hint, connected_at }))
}

/// Forgets the key; answers whether there was one.
pub async fn disconnect(db: &Db, org: OrgId) -> Result<bool, sqlx::Error> {
    with_pool!(db, pool => {
        sqlx::query("DELETE FROM org_stripe_accounts WHERE organization_id = $1")
            .bind(org)
            .execute(pool)
            .await
            .map(|done| done.rows_affected() == 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_tells_keys_apart_without_giving_them_away() {
        assert_eq!(hint("sk_live_51Habcdefghijklmnopx4Qa"), "sk_live_…x4Qa");
    }
}
