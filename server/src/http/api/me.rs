//! `GET /api/v1/me`: the organization and role of the calling key.

use axum::{Json, Router, routing::get};
use serde_json::{Value, json};

use super::{
    extract::ApiCaller,
    openapi::{Op, Spec, Who},
};
use crate::http::AppState;

pub fn router(spec: &mut Spec) -> Router<AppState> {
    let answer = json!({"type": "object", "properties": {
        "org_id": {"type": "string"}, "org_name": {"type": "string"},
        "role": {"enum": ["owner", "admin", "manager", "analyst"]}, "api_key_id": {"type": "string"}}});
    spec.add(
        "get",
        "/me",
        Op::new("Account", "The organization and role of the calling key", Who::AnyRole)
            .ok(200, Some(answer)),
    );
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
