//! The organization's bill as the Billing page shows it (owners only), and the server
//! functions that open Stripe's Checkout and customer portal.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillingView {
    /// Whether this server bills through Stripe at all.
    pub enabled: bool,
    /// none | active | past_due | canceled.
    pub status: String,
    pub subscribed: bool,
    /// RFC 3339 UTC.
    pub past_due_since: Option<String>,
    /// When new calls are (or will be) turned away, while past due.
    pub calls_blocked_from: Option<String>,
    pub calls_blocked: bool,
    pub period_start: String,
    pub period_end: String,
    pub usage: Vec<UsageRow>,
    pub invoices: Vec<InvoiceRow>,
    /// Why the invoices could not be read from Stripe just now.
    pub invoices_error: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRow {
    /// call_minutes | rtb_pings | number_days.
    pub meter: String,
    pub quantity: i64,
    /// Of `quantity`, what Stripe has accepted.
    pub reported: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceRow {
    pub id: String,
    pub number: Option<String>,
    pub status: Option<String>,
    /// RFC 3339 UTC.
    pub created: String,
    pub total_cents: i64,
    pub currency: String,
    pub url: Option<String>,
}

#[server(prefix = "/fn", endpoint = "billing_overview")]
pub async fn billing_overview() -> Result<BillingView, AppError> {
    crate::backend::backend()?.billing_overview().await
}

/// A Stripe Checkout page to subscribe on; answers its address.
#[server(prefix = "/fn", endpoint = "billing_checkout")]
pub async fn billing_checkout() -> Result<String, AppError> {
    crate::backend::backend()?.billing_checkout().await
}

/// A Stripe customer portal session; answers its address.
#[server(prefix = "/fn", endpoint = "billing_portal")]
pub async fn billing_portal() -> Result<String, AppError> {
    crate::backend::backend()?.billing_portal().await
}
