//! `POST /api/v1/targets/{id}/test-ping`: a sample ping to an RTB target, sent from the
//! server, answered with the request, the response, the latency and the parsed bid.

use axum::{
    Json, Router,
    extract::{Path, State},
    routing::post,
};
use bidline_model::ping::PingReport;
use serde_json::json;

use super::{
    ApiError,
    extract::ApiCaller,
    openapi::{Op, Spec, Who},
};
use crate::{accounts::Permission, http::AppState, ping};

pub fn router(spec: &mut Spec) -> Router<AppState> {
    let report = json!({"type": "object", "description": "request {method,url,headers,body}, response {status,body} (null when none came), latency_ms, bid {accepted,bid_cents,destination,min_duration_seconds} (null when unreadable), error", "required": ["request", "latency_ms"]});
    spec.add(
        "post",
        "/targets/{id}/test-ping",
        Op::new("Targets", "Send a sample ping to an RTB target (loopback and private addresses are refused unless the operator allows them)", Who::Manager)
            .ok(200, Some(report)),
    );
    spec.webhook("buyerPing", buyer_ping());
    Router::new().route("/targets/{id}/test-ping", post(test_ping))
}

/// Bidline's own ping protocol, as an RTB target without a body template receives it.
fn buyer_ping() -> serde_json::Value {
    let text = json!({"type": "string"});
    let request = json!({
        "type": "object",
        "required": ["ping_id", "campaign_id", "publisher_id", "caller", "dialed", "tags", "time", "expires_in_ms"],
        "properties": {
            "ping_id": {"type": "string", "description": "The call's id (also in its record and webhooks)."},
            "campaign_id": text, "publisher_id": {"type": "string", "description": "Empty when the number has no publisher."},
            "caller": {"type": "object", "properties": {
                "number": {"type": ["string", "null"], "description": "E.164; null when withheld or when the target is set to learn it only on winning (hide_caller)."},
                "area_code": text, "state": text}},
            "dialed": {"type": "string", "description": "The tracking number, E.164."},
            "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            "time": {"type": "string", "format": "date-time"},
            "expires_in_ms": {"type": "integer", "description": "How long the buyer has to answer (the target's timeout)."}
        }
    });
    let answer = json!({
        "type": "object",
        "description": "Read with the target's JSONPaths; these are the defaults.",
        "properties": {
            "accept": {"type": "boolean", "description": "Absent: a positive bid accepts."},
            "bid": {"type": "number", "description": "Integer cents (bid_unit cents), or dollars with bid_unit dollars."},
            "destination": {"type": "string", "description": "E.164 (dialed through the target's outbound trunk) or a sip: URI; replaces the target's."},
            "min_duration": {"type": "integer", "description": "Seconds of talk the bid pays for; replaces the target's buffer."},
            "bid_id": {"type": "string", "description": "The buyer's own id for the bid, kept in the call's auction."},
            "expires_in": {"type": "integer", "description": "Seconds the bid stands: an identical ping for the same caller until then reuses it instead of asking again."}
        }
    });
    json!({"post": {
        "summary": "A ping to an RTB buyer (sent by Bidline to the target's ping_url)",
        "description": "Sent for every call the target is eligible for, all targets at once; an answer after the target's timeout, not 2xx, not JSON or over 64 KiB is a lost bid. Targets with a body template, another method or other paths speak the buyer's own format instead.",
        "requestBody": {"required": true, "content": {"application/json": {"schema": request}}},
        "responses": {"200": {"description": "The bid", "content": {"application/json": {"schema": answer}}}}
    }})
}

async fn test_ping(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(text): Path<String>,
) -> Result<Json<PingReport>, ApiError> {
    caller.require(Permission::EditConfiguration)?;
    let id = text.parse().map_err(|_| ApiError::NotFound)?;
    let reveal = crate::network::resource::reveals_secrets(caller.role);
    Ok(Json(ping::test(&state.db, caller.org, id, &state.pinger, reveal).await?))
}
