//! Links that take an owner to Stripe: Checkout to subscribe, the customer portal to
//! manage payment methods and invoices. Each is made on request and lives minutes.

use super::{
    Billing,
    accounts::{self, CustomerError},
    stripe::{Invoice, StripeError},
};
use crate::{accounts::OrgId, db::Db};

#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("billing is not configured on this server")]
    Off,
    #[error("the organization has no subscription yet: subscribe first")]
    NotSubscribed,
    #[error("the organization is already subscribed: manage it in the customer portal")]
    AlreadySubscribed,
    #[error(transparent)]
    Customer(#[from] CustomerError),
    #[error(transparent)]
    Stripe(#[from] StripeError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// The address Stripe sends people back to: `--public-url`, else the host they used
/// (https when the session cookie is Secure, which means the site is served over TLS).
pub fn base(billing: &Billing, host: Option<&str>, secure: bool) -> String {
    match (&billing.public_url, host) {
        (Some(url), _) => url.as_str().trim_end_matches('/').to_owned(),
        (None, Some(host)) => format!("{}://{host}", if secure { "https" } else { "http" }),
        (None, None) => "http://localhost".to_owned(),
    }
}

/// Where an owner is sent at Stripe.
#[derive(Clone, Copy, Debug)]
pub enum Destination {
    /// Checkout, subscribing the organization to the configured prices.
    Checkout,
    /// The customer portal; only once the organization has a customer.
    Portal,
}

/// A link to `destination` for the organization; Stripe sends the owner back to `base`.
pub async fn open(
    db: &Db,
    billing: &Billing,
    org: OrgId,
    base: &str,
    destination: Destination,
) -> Result<String, LinkError> {
    let (Some(stripe), Some(settings)) = (billing.stripe(), billing.settings()) else {
        return Err(LinkError::Off);
    };
    let back = format!("{base}/app/billing");
    match destination {
        Destination::Checkout => {
            let account = accounts::get(db, org).await?;
            let live =
                matches!(account.status, accounts::Status::Active | accounts::Status::PastDue);
            if live && account.subscription_id.is_some() {
                // A second subscription would bill every meter event twice.
                return Err(LinkError::AlreadySubscribed);
            }
            let customer = accounts::customer(db, stripe, org).await?;
            let prices = (&settings.metered_prices[..], settings.base_price.as_deref());
            let success = format!("{back}?checkout=done");
            Ok(stripe.checkout(&customer, prices.0, prices.1, &success, &back).await?)
        }
        Destination::Portal => {
            let Some(customer) = accounts::get(db, org).await?.stripe_customer_id else {
                return Err(LinkError::NotSubscribed);
            };
            Ok(stripe.portal(&customer, &back).await?)
        }
    }
}

/// The organization's latest invoices at Stripe (none before it has a customer).
pub async fn invoices(db: &Db, billing: &Billing, org: OrgId) -> Result<Vec<Invoice>, LinkError> {
    let Some(stripe) = billing.stripe() else { return Err(LinkError::Off) };
    match accounts::get(db, org).await?.stripe_customer_id {
        Some(customer) => Ok(stripe.invoices(&customer, 12).await?),
        None => Ok(Vec::new()),
    }
}
