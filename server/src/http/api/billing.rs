//! `/api/v1/billing`: the organization's subscription and this period's usage (admins
//! and owners); Checkout and the customer portal (owners).

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, header},
    routing::{get, post},
};
use serde_json::{Value, json};

use super::{
    ApiError,
    extract::ApiCaller,
    openapi::{Op, Spec, Who},
};
use crate::{
    accounts::Permission,
    billing::{
        accounts,
        links::{self, Destination, LinkError},
        stripe::StripeError,
        summary,
    },
    http::AppState,
};

pub fn router(spec: &mut Spec) -> Router<AppState> {
    let usage = json!({"type": "object", "properties": {
        "meter": {"enum": ["call_minutes", "rtb_pings", "number_days"]},
        "quantity": {"type": "integer"}, "reported": {"type": "integer"}}});
    let summary = json!({"type": "object", "properties": {
        "enabled": {"type": "boolean"},
        "status": {"enum": ["none", "active", "past_due", "canceled"]},
        "stripe_status": {"type": ["string", "null"]}, "subscribed": {"type": "boolean"},
        "past_due_since": {"type": ["string", "null"], "format": "date-time"},
        "calls_blocked_from": {"type": ["string", "null"], "format": "date-time"},
        "calls_blocked": {"type": "boolean"},
        "period_start": {"type": "string", "format": "date-time"},
        "period_end": {"type": "string", "format": "date-time"},
        "usage": {"type": "array", "items": usage}}});
    let link = json!({"type": "object", "properties": {"url": {"type": "string"}}});
    spec.add(
        "get",
        "/billing",
        Op::new("Billing", "The subscription's status and this period's usage", Who::Admin)
            .ok(200, Some(summary)),
    );
    spec.add(
        "post",
        "/billing/checkout",
        Op::new("Billing", "A Stripe Checkout page to subscribe on", Who::Owner)
            .ok(200, Some(link.clone())),
    );
    spec.add(
        "post",
        "/billing/portal",
        Op::new("Billing", "A Stripe customer portal session", Who::Owner).ok(200, Some(link)),
    );
    Router::new()
        .route("/billing", get(read))
        .route("/billing/checkout", post(checkout))
        .route("/billing/portal", post(portal))
}

async fn read(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Administer)?;
    let summary = summary::of(&state.db, &state.billing, caller.org, chrono::Utc::now()).await?;
    Ok(Json(json!(summary)))
}

async fn checkout(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    link(&state, &caller, &headers, Destination::Checkout).await
}

async fn portal(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    link(&state, &caller, &headers, Destination::Portal).await
}

async fn link(
    state: &AppState,
    caller: &ApiCaller,
    headers: &HeaderMap,
    destination: Destination,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Own)?;
    let host = headers.get(header::HOST).and_then(|value| value.to_str().ok());
    let base = links::base(&state.billing, host, state.secure_cookies);
    let url = links::open(&state.db, &state.billing, caller.org, &base, destination).await?;
    Ok(Json(json!({ "url": url })))
}

impl From<LinkError> for ApiError {
    fn from(error: LinkError) -> Self {
        match error {
            LinkError::Off => Self::Conflict(error.to_string()),
            LinkError::NotSubscribed | LinkError::AlreadySubscribed => {
                Self::Conflict(error.to_string())
            }
            LinkError::Customer(accounts::CustomerError::Database(error)) => error.into(),
            LinkError::Customer(accounts::CustomerError::Stripe(error))
            | LinkError::Stripe(error) => stripe_error(error),
            LinkError::Database(error) => error.into(),
        }
    }
}

fn stripe_error(error: StripeError) -> ApiError {
    tracing::warn!(%error, "a request to Stripe failed");
    ApiError::Unavailable("Stripe could not be reached or refused the request; try again".into())
}
