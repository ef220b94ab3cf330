//! The Billing page (owners) and the alert owners see above every page.

use axum::http::{header, request::Parts};
use bidline_app::{
    billing::{BillingView, InvoiceRow, UsageRow},
    errors::AppError,
    roles::Permission,
};
use chrono::{DateTime, Utc};
use leptos::prelude::use_context;

use super::{caller, internal, member};
use crate::{
    accounts::OrgId,
    billing::{
        links::{self, Destination, LinkError},
        summary::{self, Summary},
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
    let summary: Summary =
        summary::of(&state.db, &state.billing, org, Utc::now()).await.map_err(internal)?;
    let day = |at: DateTime<Utc>| at.format("%Y-%m-%d %H:%M UTC").to_string();
    Ok(match (summary.calls_blocked_from, summary.calls_blocked) {
        (Some(from), true) => Some(format!(
            "Your bill is past due: new calls to your numbers are being turned away since {}.",
            day(from)
        )),
        (Some(from), false) => Some(format!(
            "Your bill is past due: new calls will be turned away from {} unless it is paid.",
            day(from)
        )),
        (None, _) => None,
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
        LinkError::Off | LinkError::NotSubscribed => AppError::Conflict(error.to_string()),
        LinkError::Database(error) => internal(error),
        other => {
            tracing::warn!(error = %other, "a request to Stripe failed");
            AppError::Internal(
                "Stripe could not be reached or refused the request; try again".into(),
            )
        }
    }
}
