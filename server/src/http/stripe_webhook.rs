//! `POST /stripe/webhook`: Stripe's events about subscriptions and invoices (see
//! [`crate::billing::events`]). Public, like every webhook receiver: the signature is
//! checked before anything else, and a bad one costs one HMAC. 400 for a missing or wrong
//! signature (Stripe shows it in the endpoint's log); 500 when the event could not be
//! stored, so Stripe sends it again.

use axum::{
    Json, Router,
    body::Bytes,
    extract::{DefaultBodyLimit, State},
    http::HeaderMap,
    routing::post,
};
use serde_json::{Value, json};

use super::{AppState, api::ApiError};
use crate::billing::events::{self, EventError, Handled};

/// Stripe's events are a few KiB; its largest (invoices with many lines) stay well under.
const MAX_BODY: usize = 512 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/stripe/webhook", post(webhook)).layer(DefaultBodyLimit::max(MAX_BODY))
}

async fn webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let Some(settings) = state.billing.settings() else {
        return Err(ApiError::BadRequest("billing is not configured on this server".into()));
    };
    let signature = headers.get("stripe-signature").and_then(|value| value.to_str().ok());
    let now = chrono::Utc::now();
    let handled = events::handle(&state.db, &settings.webhook_secret, signature, &body, now)
        .await
        .map_err(|error| match error {
            EventError::Database(error) => ApiError::from(error),
            refused => ApiError::BadRequest(refused.to_string()),
        })?;
    if handled == Handled::Applied {
        // This node turns calls away (or takes them again) at once; others within seconds.
        state.billing.gate.refresh(&state.db, state.billing.grace).await?;
    }
    let handled = match handled {
        Handled::Applied => "applied",
        Handled::Duplicate => "duplicate",
        Handled::Ignored => "ignored",
    };
    Ok(Json(json!({"received": true, "handled": handled})))
}
