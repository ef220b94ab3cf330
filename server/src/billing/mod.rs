//! Billing organizations for what they use, through Stripe.
//!
//! Usage goes into an append-only ledger ([`ledger`]) in the same transactions as what it
//! records: a call's minutes and pings with the call's final row, number-days by a count
//! each hour. When Stripe is configured, the [`reporter`] sends every record as a Stripe
//! Billing meter event (the record's id is the event's identifier and idempotency key,
//! so a record is billed once however often it is sent), Stripe's webhooks
//! ([`events`]) keep each organization's subscription status ([`accounts`]), and the
//! [`gate`] turns away new calls of organizations past due for longer than the grace
//! period. Without Stripe the ledger is still kept, and nothing is gated.

pub mod accounts;
pub mod events;
pub mod gate;
pub mod ledger;
pub mod links;
pub mod reporter;
pub mod stripe;
pub mod summary;

use std::{sync::Arc, time::Duration};

use crate::db::Db;

pub use gate::Gate;

/// What is metered: each is a Stripe meter whose event name is [`Meter::event_name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Meter {
    /// Answered minutes of a call, rounded up to the whole minute.
    CallMinutes,
    /// Pings sent to buyers in a call's auction (standing bids reused are not pings).
    RtbPings,
    /// Each active tracking number, once per day (UTC).
    NumberDays,
}

impl Meter {
    pub const ALL: [Meter; 3] = [Meter::CallMinutes, Meter::RtbPings, Meter::NumberDays];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CallMinutes => "call_minutes",
            Self::RtbPings => "rtb_pings",
            Self::NumberDays => "number_days",
        }
    }

    pub fn parse(text: &str) -> Option<Meter> {
        Self::ALL.into_iter().find(|meter| meter.as_str() == text)
    }

    /// The `event_name` of the Stripe meter that counts it.
    pub fn event_name(self) -> &'static str {
        match self {
            Self::CallMinutes => "bidline_call_minutes",
            Self::RtbPings => "bidline_rtb_pings",
            Self::NumberDays => "bidline_number_days",
        }
    }
}

/// How Bidline talks to Stripe (from the command line; see `config`).
#[derive(Clone)]
pub struct StripeSettings {
    pub secret_key: String,
    pub webhook_secret: String,
    /// Prices the subscription is made of: metered ones (no quantity) and a flat one.
    pub metered_prices: Vec<String>,
    pub base_price: Option<String>,
    /// The pause after a meter event's first failed attempt; it doubles after each.
    pub retry_base: Duration,
}

/// Never prints the keys.
impl std::fmt::Debug for StripeSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeSettings")
            .field("metered_prices", &self.metered_prices)
            .field("base_price", &self.base_price)
            .finish_non_exhaustive()
    }
}

/// Billing as this node runs it: off (no Stripe), or on with its client.
#[derive(Clone)]
pub struct Billing {
    stripe: Option<Arc<Enabled>>,
    pub gate: Arc<Gate>,
    /// How long an organization may stay past due before its calls are turned away.
    pub grace: chrono::Duration,
    /// Where people reach Bidline (for Stripe's return links); else the request's host.
    pub public_url: Option<url::Url>,
    /// Stripe's API for organizations' own accounts (invoicing buyers), billing on or off.
    pub api: StripeApi,
    /// How long after a buyer's cycle ends it is invoiced (time for postbacks to land).
    pub invoice_delay: chrono::Duration,
}

/// Where Stripe's API is, and how long a request to it may take.
#[derive(Clone, Debug)]
pub struct StripeApi {
    /// `https://api.stripe.com/` in production; a local fake in tests.
    pub base: String,
    pub timeout: Duration,
}

impl StripeApi {
    /// A client of the account `secret_key` opens.
    pub fn client(&self, secret_key: &str) -> Result<stripe::Stripe, stripe::StripeError> {
        stripe::Stripe::new(secret_key, &self.base, self.timeout)
    }
}

struct Enabled {
    client: stripe::Stripe,
    settings: StripeSettings,
}

impl Billing {
    pub fn new(
        settings: Option<StripeSettings>,
        grace: chrono::Duration,
        public_url: Option<url::Url>,
        api: StripeApi,
        invoice_delay: chrono::Duration,
    ) -> Result<Billing, stripe::StripeError> {
        let stripe = match settings {
            Some(settings) => {
                let client = api.client(&settings.secret_key)?;
                Some(Arc::new(Enabled { client, settings }))
            }
            None => None,
        };
        Ok(Billing {
            stripe,
            gate: Arc::new(Gate::default()),
            grace,
            public_url,
            api,
            invoice_delay,
        })
    }

    pub fn enabled(&self) -> bool {
        self.stripe.is_some()
    }

    pub fn stripe(&self) -> Option<&stripe::Stripe> {
        self.stripe.as_ref().map(|enabled| &enabled.client)
    }

    pub fn settings(&self) -> Option<&StripeSettings> {
        self.stripe.as_ref().map(|enabled| &enabled.settings)
    }

    /// Starts the work billing does in the background: the hourly number-days count
    /// always; with Stripe, the reporter and the gate's refresh.
    pub fn spawn(&self, db: &Db, node: uuid::Uuid, tasks: &crate::tasks::Tasks) {
        ledger::spawn_number_days(db.clone(), tasks);
        if let Some(enabled) = &self.stripe {
            let settings = &enabled.settings;
            reporter::spawn(
                db.clone(),
                node,
                enabled.client.clone(),
                settings.retry_base,
                self.api.timeout,
                tasks,
            );
            gate::spawn_refresh(db.clone(), self.gate.clone(), self.grace, tasks);
        }
    }
}
