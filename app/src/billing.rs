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

/// The organization's own Stripe account, for invoicing its buyers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoicingView {
    pub connected: bool,
    /// The key's start and end (`sk_live_…x4Qa`); the key itself is never shown again.
    pub key_hint: Option<String>,
    pub connected_at: Option<String>,
}

/// One of a buyer's invoices.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuyerInvoiceRow {
    pub id: String,
    /// RFC 3339 UTC.
    pub period_start: String,
    pub period_end: String,
    /// pending | open | empty.
    pub status: String,
    pub calls: i64,
    pub total_cents: i64,
    pub hosted_invoice_url: Option<String>,
    pub statement_url: String,
    pub last_error: Option<String>,
}

#[server(prefix = "/fn", endpoint = "invoicing_connection")]
pub async fn invoicing_connection() -> Result<InvoicingView, AppError> {
    crate::backend::backend()?.invoicing_connection().await
}

/// Connects the organization's Stripe account (owners); the key is checked with Stripe.
#[server(prefix = "/fn", endpoint = "connect_invoicing")]
pub async fn connect_invoicing(stripe_secret_key: String) -> Result<InvoicingView, AppError> {
    crate::backend::backend()?.connect_invoicing(stripe_secret_key).await
}

#[server(prefix = "/fn", endpoint = "disconnect_invoicing")]
pub async fn disconnect_invoicing() -> Result<(), AppError> {
    crate::backend::backend()?.disconnect_invoicing().await
}

#[server(prefix = "/fn", endpoint = "list_buyer_invoices")]
pub async fn list_buyer_invoices(buyer_id: String) -> Result<Vec<BuyerInvoiceRow>, AppError> {
    crate::backend::backend()?.list_buyer_invoices(buyer_id).await
}

/// Invoices the buyer's last finished cycle now (or finishes its invoice).
#[server(prefix = "/fn", endpoint = "run_buyer_invoice")]
pub async fn run_buyer_invoice(buyer_id: String) -> Result<BuyerInvoiceRow, AppError> {
    crate::backend::backend()?.run_buyer_invoice(buyer_id).await
}
