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
};
use crate::{
    accounts::{Permission, Role, api_keys},
    http::AppState,
};

pub fn router() -> Router<AppState> {
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
