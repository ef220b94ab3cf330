//! `/api/v1/webhooks`: endpoints and pixels (the common routes of every configuration
//! object), each one's delivery log, resending a delivery, and rotating the signing
//! secret. The requests Bidline sends are documented as OpenAPI webhooks.

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    ApiError, Page,
    extract::ApiCaller,
    openapi::{Op, Spec, Who},
    path_id as id, resources,
};
use crate::{
    accounts::Permission,
    http::AppState,
    network::resource,
    time::rfc3339,
    webhooks::{endpoint::Webhook, log},
};

const DEFAULT_OVERLAP_HOURS: i64 = 24;
const MAX_OVERLAP_HOURS: i64 = 168;

pub fn router(spec: &mut Spec) -> Router<AppState> {
    let deliveries = Spec::list_of(spec.schema::<log::DeliveryView>());
    spec.add(
        "get",
        "/webhooks/{id}/deliveries",
        Op::new(
            "Webhooks",
            "The endpoint's deliveries, newest first, with the last attempt's request and answer",
            Who::AnyRole,
        )
        .query(&[("cursor", "next_cursor of the previous page"), ("limit", "1–200, default 50")])
        .ok(200, Some(deliveries)),
    );
    spec.add(
        "post",
        "/webhooks/{id}/deliveries/{delivery_id}/resend",
        Op::new(
            "Webhooks",
            "Send a delivery again now (same id; a new day of retries)",
            Who::Manager,
        )
        .ok(202, None),
    );
    spec.add(
        "post",
        "/webhooks/{id}/rotate-secret",
        Op::new("Webhooks", "A new signing secret, answered once; the old one keeps signing beside it for overlap_hours (default 24, at most 168)", Who::Manager)
            .body(json!({"type": "object", "properties": {"overlap_hours": {"type": "integer", "minimum": 0, "maximum": MAX_OVERLAP_HOURS}}}))
            .ok(200, Some(json!({"type": "object", "properties": {"secret": {"type": "string"}, "previous_secret_until": {"type": "string", "format": "date-time"}}}))),
    );
    spec.webhook("callEvent", call_event());
    Router::new()
        .merge(resources::routes::<Webhook>("webhooks", "Webhooks", spec))
        .route("/webhooks/{id}/deliveries", get(deliveries_of))
        .route("/webhooks/{id}/deliveries/{delivery}/resend", post(resend))
        .route("/webhooks/{id}/rotate-secret", post(rotate))
}

/// Bidline's own webhook body, as an endpoint without a body template receives it.
fn call_event() -> Value {
    json!({"post": {
        "summary": "An event about a call (sent by Bidline to a webhook endpoint)",
        "description": "Headers: Bidline-Signature (t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<raw body>\"> keyed with the endpoint's secret; a second v1 while a rotated-out secret still signs), Bidline-Delivery (the delivery's id, the same on every attempt: dedupe on it), Bidline-Event. Any 2xx delivers; anything else is retried with backoff for up to a day. A call's events reach an endpoint in the order they happened.",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {
            "type": "object",
            "required": ["id", "event", "event_id", "occurred_at", "call"],
            "properties": {
                "id": {"type": "string", "description": "The delivery's id (Bidline-Delivery)."},
                "event": {"type": "string", "enum": crate::webhooks::Event::ALL.map(crate::webhooks::Event::as_str)},
                "event_id": {"type": "string", "description": "The event's id: the same for every endpoint it goes to."},
                "occurred_at": {"type": "string", "format": "date-time"},
                "call": {"type": "object", "description": "The call as GET /api/v1/calls/{id} shows it, at the event."},
                "bid": {"type": "object", "description": "bid.won only: the winning row of the call's auction."}
            }
        }}}},
        "responses": {"200": {"description": "Any 2xx: delivered."}}
    }})
}

async fn deliveries_of(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(webhook): Path<String>,
    Query(page): Query<Page>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let webhook: Webhook = resource::get(&state.db, caller.org, id(&webhook)?).await?;
    let limit = page.limit()?;
    let mut items = log::list(&state.db, caller.org, webhook.id, page.cursor_id()?, limit).await?;
    let next_cursor = (items.len() as i64 == limit).then(|| items.last().map(|d| d.id)).flatten();
    // Every header a delivery carried is the endpoint's own (Bidline's are not kept):
    // write-only below admin, like the endpoint's configuration.
    if !resource::reveals_secrets(caller.role) {
        for delivery in &mut items {
            for (_, value) in &mut delivery.request.headers {
                *value = resource::MASK.to_owned();
            }
        }
    }
    Ok(Json(json!({ "items": items, "next_cursor": next_cursor })))
}

async fn resend(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((webhook, delivery)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::EditConfiguration)?;
    if !log::resend(&state.db, caller.org, id(&webhook)?, id(&delivery)?).await? {
        return Err(ApiError::NotFound);
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "status": "pending" }))))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rotation {
    overlap_hours: Option<i64>,
}

async fn rotate(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(webhook): Path<String>,
    body: axum::body::Bytes,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::EditConfiguration)?;
    // The body is optional: none keeps the default overlap.
    let rotation: Rotation = if body.iter().all(u8::is_ascii_whitespace) {
        Rotation::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|error| ApiError::BadRequest(format!("the body is not a rotation: {error}")))?
    };
    let hours = rotation.overlap_hours.unwrap_or(DEFAULT_OVERLAP_HOURS);
    if !(0..=MAX_OVERLAP_HOURS).contains(&hours) {
        return Err(ApiError::field("overlap_hours", format!("must be 0 to {MAX_OVERLAP_HOURS}")));
    }
    let rotated = crate::webhooks::endpoint::rotate(
        &state.db,
        caller.org,
        id(&webhook)?,
        chrono::Duration::hours(hours),
        caller.by(),
    )
    .await?;
    Ok(Json(json!({
        "secret": rotated.new_secret,
        "previous_secret_until": rotated.previous_secret_until.map(rfc3339),
    })))
}
