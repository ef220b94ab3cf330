//! The Stripe API, through `async-stripe` (1.0: the only line with Billing meter events).
//!
//! Requests are async-stripe's typed builders, so they are encoded as Stripe expects.
//! Answers are read into the few fields Bidline uses (async-stripe decodes with
//! miniserde, which ignores the rest), so a newer field or a changed one Bidline does
//! not read never fails a payment flow. Retrying is the caller's: every request that
//! creates something carries an idempotency key that names what it creates, so a retry
//! after a timeout or a crash is answered with the first result instead of a second one.

use std::{collections::HashMap, time::Duration};

use ::stripe::{IdempotencyKey, RequestStrategy, StripeRequest};
use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::Meter;
use crate::accounts::OrgId;

#[derive(Clone)]
pub struct Stripe {
    client: ::stripe::Client,
}

/// Why a request to Stripe did not succeed, in the terms that decide what to do next.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// 429: too many requests; slow down, then try again.
    #[error("Stripe is rate limiting requests (429)")]
    RateLimited,
    /// No answer in time, no connection, a 5xx or 409 (a request with the same key is
    /// still being processed), or an answer that could not be read: try again later.
    #[error("Stripe is unavailable: {0}")]
    Unavailable(String),
    /// 401/403: the secret key is wrong or lacks permission; an operator must act, and
    /// the request may then succeed.
    #[error("Stripe refused the secret key ({status}): {message}")]
    Unauthorized { status: u16, message: String },
    /// Any other 4xx: this request will never succeed as it is.
    #[error("Stripe refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    #[error("invalid Stripe configuration: {0}")]
    Config(String),
}

impl StripeError {
    fn of(error: ::stripe::StripeError) -> StripeError {
        match error {
            ::stripe::StripeError::Stripe(api, status) => {
                let message = api.message.clone().unwrap_or_else(|| format!("{:?}", api.type_));
                match status {
                    429 => StripeError::RateLimited,
                    401 | 403 => StripeError::Unauthorized { status, message },
                    409 | 500.. => StripeError::Unavailable(format!("{status}: {message}")),
                    _ => StripeError::Refused { status, message },
                }
            }
            ::stripe::StripeError::Timeout => StripeError::Unavailable("no answer in time".into()),
            ::stripe::StripeError::ClientError(text)
            | ::stripe::StripeError::JSONDeserialize(text) => StripeError::Unavailable(text),
            ::stripe::StripeError::ConfigError(text) => StripeError::Config(text),
        }
    }
}

/// A created object: its id, and the page people go to, when it has one.
#[derive(Debug, miniserde::Deserialize)]
pub struct Created {
    pub id: Option<String>,
    pub url: Option<String>,
}

/// A meter event as Stripe acknowledges it.
#[derive(Debug, miniserde::Deserialize)]
struct MeterEventAck {
    identifier: String,
}

/// An invoice, as the Billing page lists it.
#[derive(Clone, Debug, miniserde::Deserialize)]
pub struct Invoice {
    pub id: String,
    pub number: Option<String>,
    pub status: Option<String>,
    pub currency: String,
    pub total: i64,
    pub created: i64,
    pub hosted_invoice_url: Option<String>,
}

#[derive(Debug, miniserde::Deserialize)]
struct InvoiceList {
    data: Vec<Invoice>,
}

impl Stripe {
    /// A client of the Stripe account `secret_key` opens, at `api_base`.
    pub fn new(secret_key: &str, api_base: &str, timeout: Duration) -> Result<Stripe, StripeError> {
        let client = ::stripe::ClientBuilder::new(secret_key)
            .url(api_base)
            .timeout(timeout)
            .app_info("Bidline", Some(env!("CARGO_PKG_VERSION").to_owned()), None)
            .build()
            .map_err(StripeError::of)?;
        Ok(Stripe { client })
    }

    async fn send<T: miniserde::Deserialize>(
        &self,
        request: impl StripeRequest,
        key: Option<String>,
    ) -> Result<T, StripeError> {
        let strategy = match key {
            Some(key) => RequestStrategy::Idempotent(
                IdempotencyKey::new(key).map_err(|e| StripeError::Config(e.to_string()))?,
            ),
            None => RequestStrategy::Once,
        };
        request
            .build()
            .customize::<T>()
            .request_strategy(strategy)
            .send(&self.client)
            .await
            .map_err(StripeError::of)
    }

    /// The organization's customer (created once, whoever asks and however often).
    pub async fn create_customer(&self, org: OrgId, name: &str) -> Result<String, StripeError> {
        let request = stripe_core::customer::CreateCustomer::new()
            .name(name)
            .metadata(HashMap::from([("bidline_organization_id".to_owned(), org.0.to_string())]));
        let created: Created =
            self.send(request, Some(format!("bidline-customer-{}", org.0))).await?;
        created.id.ok_or_else(|| StripeError::Unavailable("a customer without an id".into()))
    }

    /// Reports one usage record. Its id is the event's identifier and idempotency key:
    /// sent again (after a timeout, a crash), it is answered, not counted, again.
    pub async fn meter_event(
        &self,
        record: Uuid,
        meter: Meter,
        customer: &str,
        quantity: i64,
        at: DateTime<Utc>,
    ) -> Result<(), StripeError> {
        let request = stripe_billing::billing_meter_event::CreateBillingMeterEvent::new(
            meter.event_name(),
            HashMap::from([
                ("stripe_customer_id".to_owned(), customer.to_owned()),
                ("value".to_owned(), quantity.to_string()),
            ]),
        )
        .identifier(record.to_string())
        .timestamp(at.timestamp());
        let ack: MeterEventAck =
            self.send(request, Some(format!("bidline-usage-{record}"))).await?;
        if ack.identifier != record.to_string() {
            return Err(StripeError::Unavailable(format!(
                "Stripe acknowledged meter event {} for {record}",
                ack.identifier
            )));
        }
        Ok(())
    }

    /// A Checkout page where the customer subscribes to `prices`; answers its URL.
    pub async fn checkout(
        &self,
        customer: &str,
        metered: &[String],
        base: Option<&str>,
        success_url: &str,
        cancel_url: &str,
    ) -> Result<String, StripeError> {
        use stripe_checkout::checkout_session::{
            CreateCheckoutSession, CreateCheckoutSessionLineItems,
        };
        let mut items: Vec<CreateCheckoutSessionLineItems> = metered
            .iter()
            .map(|price| CreateCheckoutSessionLineItems {
                price: Some(price.clone()),
                ..CreateCheckoutSessionLineItems::new()
            })
            .collect();
        if let Some(price) = base {
            items.push(CreateCheckoutSessionLineItems {
                price: Some(price.to_owned()),
                quantity: Some(1),
                ..CreateCheckoutSessionLineItems::new()
            });
        }
        let request = CreateCheckoutSession::new()
            .customer(customer)
            .mode(stripe_checkout::CheckoutSessionMode::Subscription)
            .line_items(items)
            .success_url(success_url)
            .cancel_url(cancel_url);
        let created: Created = self.send(request, None).await?;
        created
            .url
            .ok_or_else(|| StripeError::Unavailable("a Checkout session without a URL".into()))
    }

    /// A customer portal session (payment methods, invoices, cancelling); answers its URL.
    pub async fn portal(&self, customer: &str, return_url: &str) -> Result<String, StripeError> {
        let request = stripe_billing::billing_portal_session::CreateBillingPortalSession::new()
            .customer(customer)
            .return_url(return_url);
        let created: Created = self.send(request, None).await?;
        created.url.ok_or_else(|| StripeError::Unavailable("a portal session without a URL".into()))
    }

    /// The customer's latest invoices, newest first.
    pub async fn invoices(&self, customer: &str, limit: i64) -> Result<Vec<Invoice>, StripeError> {
        let request = stripe_billing::invoice::ListInvoice::new().customer(customer).limit(limit);
        let list: InvoiceList = self.send(request, None).await?;
        Ok(list.data)
    }

    /// Checks that the key opens an account (listing one customer needs only read access
    /// to customers, which invoicing needs anyway).
    pub async fn check_key(&self) -> Result<(), StripeError> {
        let request = stripe_core::customer::ListCustomer::new().limit(1);
        let listed: Listed = self.send(request, None).await?;
        if listed.object == "list" {
            Ok(())
        } else {
            Err(StripeError::Unavailable(format!("a {} where a list was expected", listed.object)))
        }
    }

    /// The buyer's customer in this account (created once).
    pub async fn create_buyer_customer(
        &self,
        buyer: Uuid,
        name: &str,
        email: Option<&str>,
    ) -> Result<String, StripeError> {
        let mut request = stripe_core::customer::CreateCustomer::new()
            .name(name)
            .metadata(HashMap::from([("bidline_buyer_id".to_owned(), buyer.to_string())]));
        if let Some(email) = email {
            request = request.email(email);
        }
        let created: Created =
            self.send(request, Some(format!("bidline-buyer-customer-{buyer}"))).await?;
        created.id.ok_or_else(|| StripeError::Unavailable("a customer without an id".into()))
    }

    /// A draft invoice for Bidline's invoice `invoice` (one per invoice, however often
    /// asked), emailed to the customer once finalized, due in 30 days.
    pub async fn create_invoice(
        &self,
        invoice: Uuid,
        customer: &str,
        description: &str,
    ) -> Result<String, StripeError> {
        use stripe_billing::invoice::{CreateInvoice, CreateInvoicePendingInvoiceItemsBehavior};
        let request = CreateInvoice::new()
            .customer(customer)
            .collection_method(stripe_billing::InvoiceCollectionMethod::SendInvoice)
            .days_until_due(30u32)
            .auto_advance(false)
            .pending_invoice_items_behavior(CreateInvoicePendingInvoiceItemsBehavior::Exclude)
            .description(description)
            .metadata(HashMap::from([("bidline_invoice_id".to_owned(), invoice.to_string())]));
        let created: Created =
            self.send(request, Some(format!("bidline-invoice-{invoice}"))).await?;
        created.id.ok_or_else(|| StripeError::Unavailable("an invoice without an id".into()))
    }

    /// One line of the invoice: `amount_cents` (USD) for what `description` says. `line`
    /// names it within Bidline's invoice, so it is added once; answers the item's id.
    pub async fn add_invoice_line(
        &self,
        invoice: Uuid,
        line: Uuid,
        stripe_invoice: &str,
        customer: &str,
        amount_cents: i64,
        description: &str,
    ) -> Result<String, StripeError> {
        let request = stripe_billing::invoice_item::CreateInvoiceItem::new()
            .customer(customer)
            .invoice(stripe_invoice)
            .amount(amount_cents)
            .currency(stripe_types::Currency::USD)
            .description(description);
        let created: Created =
            self.send(request, Some(format!("bidline-invoice-{invoice}-{line}"))).await?;
        created.id.ok_or_else(|| StripeError::Unavailable("an invoice item without an id".into()))
    }

    /// The invoice's status (draft, open, paid, …) and its page for the customer.
    pub async fn invoice_state(
        &self,
        stripe_invoice: &str,
    ) -> Result<(String, Option<String>), StripeError> {
        let request = stripe_billing::invoice::RetrieveInvoice::new(stripe_invoice);
        let state: InvoiceState = self.send(request, None).await?;
        Ok((state.status.unwrap_or_default(), state.hosted_invoice_url))
    }

    /// Finalizes the invoice and lets Stripe send it; answers its page for the customer.
    pub async fn finalize_invoice(
        &self,
        invoice: Uuid,
        stripe_invoice: &str,
    ) -> Result<Option<String>, StripeError> {
        let request =
            stripe_billing::invoice::FinalizeInvoiceInvoice::new(stripe_invoice).auto_advance(true);
        let finalized: Finalized =
            self.send(request, Some(format!("bidline-invoice-{invoice}-finalize"))).await?;
        Ok(finalized.hosted_invoice_url)
    }
}

#[derive(Debug, miniserde::Deserialize)]
struct Listed {
    object: String,
}

#[derive(Debug, miniserde::Deserialize)]
struct Finalized {
    hosted_invoice_url: Option<String>,
}

#[derive(Debug, miniserde::Deserialize)]
struct InvoiceState {
    status: Option<String>,
    hosted_invoice_url: Option<String>,
}
