//! `GET /api/v1/routing`: what this node routes with now — the snapshot's version and
//! the caller's configuration in it. Answers "is my change live here yet?".

use axum::{Json, Router, extract::State, routing::get};
use serde_json::{Value, json};

use super::{ApiError, extract::ApiCaller};
use crate::{accounts::Permission, http::AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/routing", get(status))
}

async fn status(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let snapshot = state.routing.current();
    let (active, paused) = snapshot.buyer_counts(caller.org);
    Ok(Json(json!({
        "version": snapshot.version,
        "node_id": state.node.id,
        "buyers": { "active": active, "paused": paused },
    })))
}
