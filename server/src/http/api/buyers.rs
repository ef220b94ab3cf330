//! `/api/v1/buyers`: list (cursor, `?name=`, `?status=`), create, read, update
//! (`PATCH`, any subset of fields), delete, and `/{id}/history`. Reading takes any role;
//! changing takes manager or above.

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    routing::get,
};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    ApiError, Page,
    extract::{ApiCaller, ApiJson},
};
use crate::{
    accounts::Permission,
    http::AppState,
    network::{
        Status,
        buyers::{self, Buyer, Filter, Input},
    },
    time::rfc3339,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/buyers", get(list).post(create))
        .route("/buyers/{id}", get(read).patch(update).delete(remove))
        .route("/buyers/{id}/history", get(history))
}

/// `Page`'s fields spelled out: serde's `flatten` loses numbers in query strings.
#[derive(Deserialize)]
struct ListQuery {
    cursor: Option<String>,
    limit: Option<i64>,
    name: Option<String>,
    status: Option<String>,
}

/// Ids in paths that do not parse name nothing: 404, like any other unknown id.
fn id(text: &str) -> Result<Uuid, ApiError> {
    text.parse().map_err(|_| ApiError::NotFound)
}

async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let page = Page { cursor: query.cursor, limit: query.limit };
    let limit = page.limit()?;
    let status = match query.status.as_deref() {
        Some(text) => Some(
            Status::parse(text)
                .ok_or_else(|| ApiError::field("status", "must be active or paused"))?,
        ),
        None => None,
    };
    let filter = Filter { name: query.name, status };
    let buyers = buyers::list(&state.db, caller.org, &filter, page.cursor_id()?, limit).await?;
    let next_cursor = (buyers.len() as i64 == limit).then(|| buyers.last().map(|b| b.id)).flatten();
    Ok(Json(json!({ "items": buyers, "next_cursor": next_cursor })))
}

async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<Input>,
) -> Result<(StatusCode, Json<Buyer>), ApiError> {
    caller.require(Permission::EditConfiguration)?;
    let buyer = buyers::create(&state.db, caller.org, input, caller.by()).await?;
    Ok((StatusCode::CREATED, Json(buyer)))
}

async fn read(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(text): Path<String>,
) -> Result<Json<Buyer>, ApiError> {
    caller.require(Permission::Read)?;
    Ok(Json(buyers::get(&state.db, caller.org, id(&text)?).await?))
}

async fn update(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(text): Path<String>,
    ApiJson(input): ApiJson<Input>,
) -> Result<Json<Buyer>, ApiError> {
    caller.require(Permission::EditConfiguration)?;
    Ok(Json(buyers::update(&state.db, caller.org, id(&text)?, input, caller.by()).await?))
}

async fn remove(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(text): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::EditConfiguration)?;
    buyers::delete(&state.db, caller.org, id(&text)?, caller.by()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn history(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(text): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let entries = buyers::history(&state.db, caller.org, id(&text)?).await?;
    let items: Vec<Value> = entries
        .into_iter()
        .map(|entry| {
            json!({
                "at": rfc3339(entry.at),
                "actor": { "email": entry.actor_email, "api_key": entry.actor_api_key },
                "action": entry.action,
                "before": entry.before.map(|json| json.0),
                "after": entry.after.map(|json| json.0),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}
