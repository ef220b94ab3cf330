//! The Billing page (owners) and the alert owners see above every page.

use axum::http::{header, request::Parts};
use bidline_app::{
    billing::{BillingView, BuyerInvoiceRow, InvoiceRow, InvoicingView, UsageRow},
    errors::AppError,
    roles::Permission,
};
use chrono::{DateTime, Utc};
use leptos::prelude::use_context;

use super::{caller, internal, member, network::id};
use crate::{
    accounts::OrgId,
    billing::{
        accounts,
        links::{self, Destination, LinkError},
        summary,
    },
    http::AppState,
    time::rfc3339,
};

pub async fn overview(state: &AppState) -> Result<BillingView, AppError> {
    let member = member(state, &caller().await?, Permission::Own).await?;
    let summary =
        summary::of(&state.db, &state.billing, member.org, Utc::now()).await.map_err(internal)?;
    let (invoices, invoices_error) = if summary.enabled {
        match links::invoices(&state.db, &state.billing, member.org).await {
            Ok(invoices) => (invoices, None),
            Err(error) => {
                tracing::warn!(%error, "could not list invoices from Stripe");
                (Vec::new(), Some("Stripe could not be reached for invoices just now.".to_owned()))
            }
        }
    } else {
        (Vec::new(), None)
    };
    Ok(BillingView {
        enabled: summary.enabled,
        status: summary.status.as_str().to_owned(),
        subscribed: summary.subscribed,
        past_due_since: summary.past_due_since.map(rfc3339),
        calls_blocked_from: summary.calls_blocked_from.map(rfc3339),
        calls_blocked: summary.calls_blocked,
        period_start: rfc3339(summary.period_start),
        period_end: rfc3339(summary.period_end),
        usage: summary
            .usage
            .into_iter()
            .map(|u| UsageRow {
                meter: u.meter.as_str().to_owned(),
                quantity: u.quantity,
                reported: u.reported,
            })
            .collect(),
        invoices: invoices
            .into_iter()
            .map(|invoice| InvoiceRow {
                id: invoice.id,
                number: invoice.number,
                status: invoice.status,
                created: DateTime::from_timestamp(invoice.created, 0)
                    .map(rfc3339)
                    .unwrap_or_default(),
                total_cents: invoice.total,
                currency: invoice.currency,
                url: invoice.hosted_invoice_url,
            })
            .collect(),
        invoices_error,
    })
}

/// A link to Checkout or the customer portal.
pub async fn link(state: &AppState, destination: Destination) -> Result<String, AppError> {
    let member = member(state, &caller().await?, Permission::Own).await?;
    let base = return_base(state);
    links::open(&state.db, &state.billing, member.org, &base, destination).await.map_err(failed)
}

/// What an owner must know about the bill, in a sentence; nothing for other roles.
pub async fn alert(
    state: &AppState,
    org: OrgId,
    permission_to_see: bool,
) -> Result<Option<String>, AppError> {
    if !permission_to_see || !state.billing.enabled() {
        return Ok(None);
    }
    // The account alone: this runs on every page, and the period's usage is not needed.
    let account = accounts::get(&state.db, org).await.map_err(internal)?;
    let now = Utc::now();
    let blocked_from = account.calls_blocked_from(state.billing.grace);
    let day = |at: DateTime<Utc>| at.format("%Y-%m-%d %H:%M UTC").to_string();
    Ok(match blocked_from.map(|from| (from, from <= now)) {
        Some((from, true)) => Some(format!(
            "Your bill is past due: new calls to your numbers are being turned away since {}.",
            day(from)
        )),
        Some((from, false)) => Some(format!(
            "Your bill is past due: new calls will be turned away from {} unless it is paid.",
            day(from)
        )),
        None => None,
    })
}

fn return_base(state: &AppState) -> String {
    let parts = use_context::<Parts>();
    let host = parts
        .as_ref()
        .and_then(|parts| parts.headers.get(header::HOST))
        .and_then(|value| value.to_str().ok());
    links::base(&state.billing, host, state.secure_cookies)
}

fn failed(error: LinkError) -> AppError {
    match error {
        LinkError::Off | LinkError::NotSubscribed | LinkError::AlreadySubscribed => {
            AppError::Conflict(error.to_string())
        }
        LinkError::Database(error) => internal(error),
        other => {
            tracing::warn!(error = %other, "a request to Stripe failed");
            AppError::Internal(
                "Stripe could not be reached or refused the request; try again".into(),
            )
        }
    }
}

fn invoicing_view(connection: Option<&crate::invoicing::Connection>) -> InvoicingView {
    InvoicingView {
        connected: connection.is_some(),
        key_hint: connection.map(|c| c.key_hint.clone()),
        connected_at: connection.map(|c| rfc3339(c.connected_at)),
    }
}

pub async fn invoicing_connection(state: &AppState) -> Result<InvoicingView, AppError> {
    let member = member(state, &caller().await?, Permission::Own).await?;
    let connection = crate::invoicing::connection(&state.db, member.org).await.map_err(internal)?;
    Ok(invoicing_view(connection.as_ref()))
}

pub async fn connect_invoicing(state: &AppState, key: String) -> Result<InvoicingView, AppError> {
    use crate::invoicing::ConnectError;
    let member = member(state, &caller().await?, Permission::Own).await?;
    let connected =
        crate::invoicing::connect(&state.db, &state.billing.api, member.org, &key, Utc::now())
            .await
            .map_err(|error| match error {
                ConnectError::Malformed | ConnectError::Refused(_) => {
                    AppError::field("stripe_secret_key", error.to_string())
                }
                other => internal(other),
            })?;
    Ok(invoicing_view(Some(&connected)))
}

pub async fn disconnect_invoicing(state: &AppState) -> Result<(), AppError> {
    let member = member(state, &caller().await?, Permission::Own).await?;
    crate::invoicing::disconnect(&state.db, member.org).await.map_err(internal)?;
    Ok(())
}

fn invoice_row(invoice: crate::invoicing::run::Invoice, base: &str) -> BuyerInvoiceRow {
    BuyerInvoiceRow {
        id: invoice.id.to_string(),
        period_start: rfc3339(invoice.period_start),
        period_end: rfc3339(invoice.period_end),
        status: invoice.status,
        calls: invoice.calls,
        total_cents: invoice.total_cents,
        hosted_invoice_url: invoice.hosted_invoice_url,
        statement_url: format!("{base}/statements/{}", invoice.statement_token),
        last_error: invoice.last_error,
    }
}

pub async fn list_buyer_invoices(
    state: &AppState,
    buyer: String,
) -> Result<Vec<BuyerInvoiceRow>, AppError> {
    let member = member(state, &caller().await?, Permission::Administer).await?;
    let buyer: crate::network::buyers::Buyer =
        crate::network::resource::get(&state.db, member.org, id(&buyer)?).await?;
    let base = return_base(state);
    let invoices =
        crate::invoicing::run::list(&state.db, member.org, buyer.id).await.map_err(internal)?;
    Ok(invoices.into_iter().map(|invoice| invoice_row(invoice, &base)).collect())
}

pub async fn run_buyer_invoice(
    state: &AppState,
    buyer: String,
) -> Result<BuyerInvoiceRow, AppError> {
    use crate::invoicing::run::{self, Delay, RunError};
    let member = member(state, &caller().await?, Permission::Administer).await?;
    let delay = Delay(state.billing.invoice_delay);
    let public_url = state.billing.public_url.as_ref();
    let buyer = id(&buyer)?;
    let invoice =
        run::run(&state.db, &state.billing.api, public_url, member.org, buyer, Utc::now(), delay)
            .await
            .map_err(|error| match error {
                RunError::NotFound => AppError::NotFound,
                RunError::Off | RunError::NotConnected | RunError::NoPublicUrl => {
                    AppError::Conflict(error.to_string())
                }
                RunError::Stripe(error) => {
                    tracing::warn!(%error, "a buyer's invoice could not be finished at Stripe");
                    AppError::Internal(
                        "Stripe did not take the invoice; invoicing again finishes it".into(),
                    )
                }
                other => internal(other),
            })?;
    Ok(invoice_row(invoice, &return_base(state)))
}
