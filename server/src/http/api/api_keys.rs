//! `/api/v1/api-keys`: list, create (the key is in the answer, once), revoke.
//! Owners and admins only; a key never gets a role above its creator's.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{delete, get},
};
use bidline_app::api_keys::ApiKeyView;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    ApiError,
    extract::{ApiCaller, ApiJson},
    openapi::{Op, Spec, Who},
};
use crate::{
    accounts::{Permission, Role, api_keys},
    http::AppState,
};

pub fn router(spec: &mut Spec) -> Router<AppState> {
    let key = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"},
        "role": {"enum": ["owner", "admin", "manager", "analyst"]},
        "key_prefix": {"type": "string"}, "created_at": {"type": "string", "format": "date-time"},
        "last_used_at": {"type": ["string", "null"], "format": "date-time"},
        "revoked_at": {"type": ["string", "null"], "format": "date-time"}}});
    let mut created = key.clone();
    created["properties"]["key"] =
        json!({"type": "string", "description": "The secret, shown this once."});
    let new = json!({"type": "object", "required": ["name", "role"], "properties": {
        "name": {"type": "string"}, "role": {"enum": ["owner", "admin", "manager", "analyst"]}}});
    spec.add(
        "get",
        "/api-keys",
        Op::new("API keys", "The organization's keys, revoked ones included", Who::Admin)
            .ok(200, Some(Spec::list_of(key))),
    );
    spec.add(
        "post",
        "/api-keys",
        Op::new("API keys", "Create a key (its role at most the creator's)", Who::Admin)
            .body(new)
            .ok(201, Some(created)),
    );
    spec.add(
        "delete",
        "/api-keys/{id}",
        Op::new("API keys", "Revoke a key, at once", Who::Admin).ok(204, None),
    );
    Router::new().route("/api-keys", get(list).post(create)).route("/api-keys/{id}", delete(revoke))
}

fn to_json(key: &api_keys::ApiKey) -> Value {
    serde_json::to_value(ApiKeyView::from(key)).expect("an API key serialises")
}

async fn list(State(state): State<AppState>, caller: ApiCaller) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Administer)?;
    let keys = api_keys::list(&state.db, caller.org).await?;
    Ok(Json(json!({ "items": keys.iter().map(to_json).collect::<Vec<_>>(), "next_cursor": null })))
}

#[derive(Deserialize)]
struct NewKey {
    name: String,
    role: String,
}

async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(new): ApiJson<NewKey>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::Administer)?;
    let role = Role::parse(&new.role)
        .ok_or_else(|| ApiError::field("role", "must be owner, admin, manager or analyst"))?;
    if !caller.role.may_grant(role) {
        return Err(ApiError::field(
            "role",
            format!("a key with role {} may not create {role} keys", caller.role),
        ));
    }
    let (key, secret) =
        api_keys::create(&state.db, caller.org, &new.name, role, caller.by()).await?;
    let mut body = to_json(&key);
    body["key"] = Value::String(secret);
    Ok((StatusCode::CREATED, Json(body)))
}

async fn revoke(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::Administer)?;
    let id: Uuid = id.parse().map_err(|_| ApiError::NotFound)?;
    if api_keys::revoke(&state.db, caller.org, id, caller.by()).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}
