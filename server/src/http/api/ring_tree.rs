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
    openapi::{Op, Spec, Who},
};
use crate::{
    accounts::Permission,
    http::AppState,
    network::ring_tree::{self, Entry, EntryInput},
};

pub fn router(spec: &mut Spec) -> Router<AppState> {
    let entries = serde_json::json!({"type": "array", "items": spec.schema::<Entry>()});
    let inputs = serde_json::json!({"type": "array", "items": spec.schema::<EntryInput>()});
    let path = "/campaigns/{id}/ring-tree";
    spec.add(
        "get",
        path,
        Op::new("Campaigns", "The campaign's ring tree, in the order written", Who::AnyRole)
            .ok(200, Some(entries.clone())),
    );
    spec.add(
        "put",
        path,
        Op::new("Campaigns", "Replace the campaign's ring tree (the whole list)", Who::Manager)
            .body(inputs)
            .ok(200, Some(entries)),
    );
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
