//! `GET /healthz`: 200 when this node can serve, 503 when its database does not answer.

use axum::{Json, Router, extract::State, http::StatusCode, routing::get};
use bidline_app::status::SystemStatus;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz))
}

async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<SystemStatus>) {
    let status = crate::backend::system_status(&state.db, &state.node).await;
    let code = if status.is_ok() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (code, Json(status))
}
