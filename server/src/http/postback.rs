//! `GET`/`POST /postback/v1/{key}`: a buyer reports on a call it took (see
//! [`crate::postbacks`]). The key in the path is the credential; fields come as a JSON
//! body or, for systems that can only fire a URL, as query parameters. Limited per client
//! address like every public endpoint.

use std::net::SocketAddr;

use axum::{
    Json, Router,
    body::Bytes,
    extract::{ConnectInfo, Path, Query, State},
    http::HeaderMap,
    routing::get,
};

use super::{AppState, api::ApiError};
use crate::postbacks::{
    keys,
    report::{self, Report, Reported},
};

/// A report is a few hundred bytes; anything past this is not one.
const MAX_BODY: usize = 8 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/postback/v1/{key}", get(by_query).post(by_body))
}

async fn by_query(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(key): Path<String>,
    query: Result<Query<Report>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Reported>, ApiError> {
    let Query(report) = query.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
    handle(&state, peer, &headers, &key, report).await
}

async fn by_body(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(key): Path<String>,
    query: Result<Query<Report>, axum::extract::rejection::QueryRejection>,
    body: Bytes,
) -> Result<Json<Reported>, ApiError> {
    let report = if body.iter().all(u8::is_ascii_whitespace) {
        let Query(report) =
            query.map_err(|rejection| ApiError::BadRequest(rejection.body_text()))?;
        report
    } else if body.len() > MAX_BODY {
        return Err(ApiError::BadRequest(format!("the body is over {} KiB", MAX_BODY / 1024)));
    } else {
        serde_json::from_slice(&body)
            .map_err(|error| ApiError::BadRequest(format!("the body is not a postback: {error}")))?
    };
    handle(&state, peer, &headers, &key, report).await
}

async fn handle(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    key: &str,
    report: Report,
) -> Result<Json<Reported>, ApiError> {
    let ip = state.postback_limits.client_ip(peer, headers);
    state.postback_limits.throttle(ip).map_err(ApiError::too_many)?;
    let holder = keys::holder(&state.db, key).await?.ok_or(ApiError::UnknownPostbackKey)?;
    Ok(Json(report::apply(&state.db, &holder, report).await?))
}
