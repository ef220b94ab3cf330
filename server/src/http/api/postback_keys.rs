//! `/api/v1/buyers/{id}/postback-keys`: the keys a buyer reports conversions with
//! (`/postback/v1/{key}`). The key is answered once, when made.

use axum::{
    Json, Router,
    extract::{Path, State},
    http::StatusCode,
    routing::{delete, get},
};
use serde_json::{Value, json};

use super::{
    ApiError,
    extract::ApiCaller,
    openapi::{Op, Spec, Who},
    path_id as id,
};
use crate::{accounts::Permission, http::AppState, postbacks::keys};

pub fn router(spec: &mut Spec) -> Router<AppState> {
    let key = spec.schema::<keys::PostbackKey>();
    spec.add(
        "get",
        "/buyers/{id}/postback-keys",
        Op::new("Buyers", "The buyer's postback keys, revoked ones too", Who::AnyRole)
            .ok(200, Some(Spec::list_of(key.clone()))),
    );
    spec.add(
        "post",
        "/buyers/{id}/postback-keys",
        Op::new("Buyers", "A new postback key; `key` is answered this once", Who::Manager)
            .ok(201, Some(key)),
    );
    spec.add(
        "delete",
        "/buyers/{id}/postback-keys/{key_id}",
        Op::new("Buyers", "Revoke a postback key at once", Who::Manager).ok(204, None),
    );
    Router::new()
        .route("/buyers/{id}/postback-keys", get(list).post(create))
        .route("/buyers/{id}/postback-keys/{key_id}", delete(revoke))
}

async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(buyer): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let items = keys::list(&state.db, caller.org, id(&buyer)?).await?;
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}

async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(buyer): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::EditConfiguration)?;
    let (key, secret) = keys::create(&state.db, caller.org, id(&buyer)?, caller.by()).await?;
    let mut answer = json!(key);
    answer["key"] = json!(secret);
    Ok((StatusCode::CREATED, Json(answer)))
}

async fn revoke(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((buyer, key)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::EditConfiguration)?;
    keys::revoke(&state.db, caller.org, id(&buyer)?, id(&key)?, caller.by()).await?;
    Ok(StatusCode::NO_CONTENT)
}
