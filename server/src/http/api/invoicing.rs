//! `/api/v1/invoicing`: the organization's own Stripe account, for invoicing buyers
//! (owners); `/api/v1/buyers/{id}/invoices`: a buyer's invoices, and running its last
//! cycle now (admins).

use axum::{
    Json, Router,
    extract::{Path, State},
    http::{HeaderMap, StatusCode, header},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    ApiError,
    extract::ApiCaller,
    openapi::{Op, Spec, Who},
    path_id,
};
use crate::{
    accounts::Permission,
    billing::links,
    http::AppState,
    invoicing::{
        self, ConnectError,
        run::{self, Invoice, RunError},
    },
    time::rfc3339,
};

pub fn router(spec: &mut Spec) -> Router<AppState> {
    let connection = json!({"type": "object", "properties": {
        "connected": {"type": "boolean"}, "key_hint": {"type": ["string", "null"]},
        "connected_at": {"type": ["string", "null"], "format": "date-time"}}});
    let invoice = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "buyer_id": {"type": "string"}, "cycle": {"enum": ["weekly", "monthly"]},
        "period_start": {"type": "string"}, "period_end": {"type": "string"},
        "status": {"enum": ["pending", "open", "empty"]}, "calls": {"type": "integer"},
        "total_cents": {"type": "integer"}, "stripe_invoice_id": {"type": ["string", "null"]},
        "hosted_invoice_url": {"type": ["string", "null"]}, "statement_url": {"type": "string"},
        "last_error": {"type": ["string", "null"]}, "created_at": {"type": "string"}}});
    spec.add(
        "get",
        "/invoicing",
        Op::new(
            "Invoicing",
            "Whether a Stripe account is connected for invoicing buyers",
            Who::Owner,
        )
        .ok(200, Some(connection.clone())),
    );
    spec.add(
        "put",
        "/invoicing",
        Op::new("Invoicing", "Connects the organization's Stripe account (the key is checked, sealed, never shown again)", Who::Owner)
            .body(json!({"type": "object", "required": ["stripe_secret_key"], "properties": {"stripe_secret_key": {"type": "string"}}}))
            .ok(200, Some(connection)),
    );
    spec.add(
        "delete",
        "/invoicing",
        Op::new("Invoicing", "Forgets the Stripe account", Who::Owner).ok(204, None),
    );
    spec.add(
        "get",
        "/buyers/{id}/invoices",
        Op::new("Invoicing", "The buyer's invoices, newest cycle first", Who::Admin)
            .ok(200, Some(Spec::list_of(invoice.clone()))),
    );
    spec.add(
        "post",
        "/buyers/{id}/invoices/run",
        Op::new(
            "Invoicing",
            "Invoices the buyer's last finished cycle now (or finishes its invoice)",
            Who::Admin,
        )
        .ok(200, Some(invoice)),
    );
    Router::new()
        .route("/invoicing", get(read).put(connect).delete(disconnect))
        .route("/buyers/{id}/invoices", get(list))
        .route("/buyers/{id}/invoices/run", post(run_now))
}

fn connection_json(connection: Option<&invoicing::Connection>) -> Value {
    json!({
        "connected": connection.is_some(),
        "key_hint": connection.map(|c| c.key_hint.clone()),
        "connected_at": connection.map(|c| rfc3339(c.connected_at)),
    })
}

async fn read(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Own)?;
    let connection = invoicing::connection(&state.db, caller.org).await?;
    Ok(Json(connection_json(connection.as_ref())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Connect {
    stripe_secret_key: String,
}

async fn connect(
    State(state): State<AppState>,
    caller: ApiCaller,
    body: Result<Json<Connect>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Own)?;
    let Json(body) = body.map_err(|_| ApiError::field("stripe_secret_key", "is required"))?;
    let now = chrono::Utc::now();
    let connection =
        invoicing::connect(&state.db, &state.billing.api, caller.org, &body.stripe_secret_key, now)
            .await?;
    Ok(Json(connection_json(Some(&connection))))
}

async fn disconnect(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::Own)?;
    invoicing::disconnect(&state.db, caller.org).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An invoice with its statement's address.
pub fn invoice_json(invoice: &Invoice, base: &str) -> Value {
    let mut value = json!(invoice);
    value["statement_url"] = json!(format!("{base}/statements/{}", invoice.statement_token));
    value
}

fn base(state: &AppState, headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|value| value.to_str().ok());
    links::base(&state.billing, host, state.secure_cookies)
}

async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Administer)?;
    let buyer = path_id(&id)?;
    let _: crate::network::buyers::Buyer =
        crate::network::resource::get(&state.db, caller.org, buyer).await?;
    let base = base(&state, &headers);
    let invoices = run::list(&state.db, caller.org, buyer).await?;
    let items: Vec<Value> = invoices.iter().map(|invoice| invoice_json(invoice, &base)).collect();
    Ok(Json(json!({"items": items, "next_cursor": null})))
}

async fn run_now(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Administer)?;
    let buyer = path_id(&id)?;
    let now = chrono::Utc::now();
    let delay = run::Delay(state.billing.invoice_delay);
    let public_url = state.billing.public_url.as_ref();
    let invoice =
        run::run(&state.db, &state.billing.api, public_url, caller.org, buyer, now, delay).await?;
    Ok(Json(invoice_json(&invoice, &base(&state, &headers))))
}

impl From<ConnectError> for ApiError {
    fn from(error: ConnectError) -> Self {
        match error {
            ConnectError::Malformed | ConnectError::Refused(_) => {
                ApiError::field("stripe_secret_key", error.to_string())
            }
            ConnectError::Stripe(error) => {
                tracing::warn!(%error, "Stripe could not check a key");
                ApiError::Unavailable("Stripe could not be reached; try again".into())
            }
            ConnectError::Secret(error) => ApiError::Internal(Box::new(error)),
            ConnectError::Database(error) => error.into(),
        }
    }
}

impl From<RunError> for ApiError {
    fn from(error: RunError) -> Self {
        match error {
            RunError::NotFound => ApiError::NotFound,
            RunError::Off | RunError::NotConnected | RunError::NoPublicUrl => {
                ApiError::Conflict(error.to_string())
            }
            RunError::Connect(error) => error.into(),
            RunError::Stripe(error) => {
                tracing::warn!(%error, "a buyer's invoice could not be finished at Stripe");
                ApiError::Unavailable(format!(
                    "Stripe did not take the invoice ({error}); running again finishes it"
                ))
            }
            RunError::Database(error) => error.into(),
        }
    }
}
