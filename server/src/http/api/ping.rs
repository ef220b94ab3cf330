//! `POST /api/v1/targets/{id}/test-ping`: a sample ping to an RTB target, sent from the
//! server, answered with the request, the response, the latency and the parsed bid.

use axum::{
    Json, Router,
    extract::{Path, State},
    routing::post,
};
use bidline_app::network::PingReport;
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
    Router::new().route("/targets/{id}/test-ping", post(test_ping))
}

async fn test_ping(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(text): Path<String>,
) -> Result<Json<PingReport>, ApiError> {
    caller.require(Permission::EditConfiguration)?;
    let id = text.parse().map_err(|_| ApiError::NotFound)?;
    Ok(Json(ping::test(&state.db, caller.org, id, &state.pinger).await?))
}
