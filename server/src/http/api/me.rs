//! `GET /api/v1/me`: the organization and role of the calling key.

use axum::{Json, Router, routing::get};
use serde_json::{Value, json};

use super::extract::ApiCaller;
use crate::http::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/me", get(me))
}

async fn me(caller: ApiCaller) -> Json<Value> {
    Json(json!({
        "org_id": caller.org,
        "org_name": caller.org_name,
        "role": caller.role,
        "api_key_id": caller.key_id,
    }))
}
