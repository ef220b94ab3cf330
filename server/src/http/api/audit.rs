//! `GET /api/v1/audit-events`: the organization's security audit log, newest first.
//! Owners and admins only.

use axum::{
    Json, Router,
    extract::{Query, State},
    routing::get,
};
use serde_json::{Value, json};

use super::{
    ApiError, Page,
    extract::ApiCaller,
    openapi::{Op, Spec, Who},
};
use crate::{
    accounts::{Permission, audit},
    http::AppState,
    time::rfc3339,
};

pub fn router(spec: &mut Spec) -> Router<AppState> {
    let event = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "at": {"type": "string", "format": "date-time"},
        "actor": {"type": "object", "properties": {"email": {"type": ["string", "null"]}, "api_key": {"type": ["string", "null"]}}},
        "action": {"type": "string"}, "detail": {}, "ip": {"type": ["string", "null"]}}});
    spec.add(
        "get",
        "/audit-events",
        Op::new("Audit", "The security audit log, newest first", Who::Admin)
            .query(&[
                ("cursor", "next_cursor of the previous page"),
                ("limit", "1–200, default 50"),
            ])
            .ok(200, Some(Spec::list_of(event))),
    );
    Router::new().route("/audit-events", get(list))
}

async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(page): Query<Page>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Administer)?;
    let limit = page.limit()?;
    let entries = audit::page(&state.db, caller.org, page.cursor_id()?, limit).await?;
    let next_cursor =
        (entries.len() as i64 == limit).then(|| entries.last().map(|e| e.id)).flatten();
    let items: Vec<Value> = entries
        .into_iter()
        .map(|entry| {
            json!({
                "id": entry.id,
                "at": rfc3339(entry.at),
                "actor": { "email": entry.actor_email, "api_key": entry.actor_api_key },
                "action": entry.action,
                "detail": entry.detail.0,
                "ip": entry.ip,
            })
        })
        .collect();
    Ok(Json(json!({ "items": items, "next_cursor": next_cursor })))
}
