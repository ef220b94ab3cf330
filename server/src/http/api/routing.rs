//! `GET /api/v1/routing`: what this node routes with now — the snapshot's version and
//! the caller's configuration in it. Answers "is my change live here yet?".
//! `GET /api/v1/routing/numbers/{number}`: the number as this node would route it.

use axum::{
    Json, Router,
    extract::{Path, State},
    routing::get,
};
use serde_json::{Value, json};

use super::{
    ApiError,
    extract::ApiCaller,
    openapi::{Op, Spec, Who},
};
use crate::{accounts::Permission, e164::E164, http::AppState, network::numbers::Number};

pub fn router(spec: &mut Spec) -> Router<AppState> {
    let counts = json!({"type": "object", "properties": {"active": {"type": "integer"}, "paused": {"type": "integer"}}});
    let mut snapshot = json!({"type": "object", "properties": {"version": {"type": "integer"}, "node_id": {"type": "string"}}});
    for kind in [
        "campaigns",
        "publishers",
        "buyers",
        "targets",
        "trunks",
        "numbers",
        "blocked_callers",
        "webhooks",
    ] {
        snapshot["properties"][kind] = counts.clone();
    }
    spec.add(
        "get",
        "/routing",
        Op::new(
            "Routing",
            "This node's routing snapshot: its version and the organization's live objects",
            Who::AnyRole,
        )
        .ok(200, Some(snapshot)),
    );
    let routed = json!({"type": "object", "properties": {"version": {"type": "integer"}, "number": spec.schema::<Number>()}});
    spec.add(
        "get",
        "/routing/numbers/{number}",
        Op::new(
            "Routing",
            "The number as this node routes it now (404 until it is in the snapshot)",
            Who::AnyRole,
        )
        .ok(200, Some(routed)),
    );
    Router::new().route("/routing", get(status)).route("/routing/numbers/{number}", get(number))
}

async fn status(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let snapshot = state.routing.current();
    let mut answer = json!({ "version": snapshot.version, "node_id": state.node.id });
    for (kind, (active, paused)) in snapshot.counts(caller.org) {
        answer[kind] = json!({ "active": active, "paused": paused });
    }
    Ok(Json(answer))
}

async fn number(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(text): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let number = E164::parse(&text).map_err(|why| ApiError::field("number", why))?;
    let snapshot = state.routing.current();
    let owned = snapshot
        .number(&number)
        .filter(|owned| owned.org == caller.org)
        .ok_or(ApiError::NotFound)?;
    Ok(Json(json!({ "version": snapshot.version, "number": owned.object })))
}
