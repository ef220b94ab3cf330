//! `GET` and `PUT /api/v1/campaigns/{id}/ring-tree`: the whole list of
//! `{"target_id","priority","weight","enabled"}`, in the order it was written.

use axum::{
    Json, Router,
    extract::{Path, State},
    routing::get,
};

use super::{
    ApiError,
    extract::{ApiCaller, ApiJson},
};
use crate::{
    accounts::Permission,
    http::AppState,
    network::ring_tree::{self, Entry, EntryInput},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/campaigns/{id}/ring-tree", get(read).put(replace))
}

async fn read(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(text): Path<String>,
) -> Result<Json<Vec<Entry>>, ApiError> {
    caller.require(Permission::Read)?;
    let campaign = text.parse().map_err(|_| ApiError::NotFound)?;
    Ok(Json(ring_tree::get(&state.db, caller.org, campaign).await?))
}

async fn replace(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(text): Path<String>,
    ApiJson(entries): ApiJson<Vec<EntryInput>>,
) -> Result<Json<Vec<Entry>>, ApiError> {
    caller.require(Permission::EditConfiguration)?;
    let campaign = text.parse().map_err(|_| ApiError::NotFound)?;
    Ok(Json(ring_tree::put(&state.db, caller.org, campaign, entries, caller.by()).await?))
}
