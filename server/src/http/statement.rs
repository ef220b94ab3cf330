//! `GET /statements/{token}`: the calls on a buyer's invoice (`?format=csv` for a file).
//! Linked from the invoice; the token (`st_` and 40 random characters) is the credential.

use axum::{
    Router,
    extract::{Path, Query, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

use super::AppState;
use crate::invoicing::statement;

pub fn router() -> Router<AppState> {
    Router::new().route("/statements/{token}", get(show))
}

#[derive(Deserialize)]
struct Format {
    format: Option<String>,
}

async fn show(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Query(format): Query<Format>,
) -> Response {
    let found = match statement::find(&state.db, &token).await {
        Ok(found) => found,
        Err(error) => {
            tracing::error!(%error, "could not read a statement");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let Some(statement) = found else {
        return (StatusCode::NOT_FOUND, "no such statement").into_response();
    };
    let private = [(header::CACHE_CONTROL, "private, no-store")];
    if format.format.as_deref() == Some("csv") {
        let disposition = "attachment; filename=\"statement.csv\"";
        let headers = [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (header::CONTENT_DISPOSITION, disposition),
        ];
        return (private, headers, statement.csv()).into_response();
    }
    let csv = format!("/statements/{token}?format=csv");
    (private, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], statement.html(&csv))
        .into_response()
}
