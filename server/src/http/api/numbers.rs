//! `POST /api/v1/numbers/import`: many numbers at once, with an error for each bad line.
//! 201 with `{"imported","errors"}` when stored; 422 with the same shape (and nothing
//! stored) when a line is wrong and `import_valid_lines` is not set — 409 instead when a
//! line's number is held by another organization.

use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use serde_json::{Value, json};

use super::{
    ApiError,
    extract::{ApiCaller, ApiJson},
    openapi::{Op, Spec, Who},
};
use crate::{
    accounts::Permission,
    http::AppState,
    network::import::{self, ImportInput, Report},
};

pub fn router(spec: &mut Spec) -> Router<AppState> {
    let (body, report) = (spec.schema::<ImportInput>(), spec.schema::<Report>());
    spec.add(
        "post",
        "/numbers/import",
        Op::new(
            "Numbers",
            "Import numbers from pasted text or CSV: all or nothing, unless import_valid_lines (422 answers the same report, nothing stored; 409 when a number is held by another organization)",
            Who::Manager,
        )
        .body(body)
        .ok(201, Some(report)),
    );
    Router::new().route("/numbers/import", post(import_numbers))
}

async fn import_numbers(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<ImportInput>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::EditConfiguration)?;
    let (stores_valid_lines, preview) = (input.import_valid_lines, input.preview);
    let report = import::import(&state.db, caller.org, input, caller.by()).await?;
    if preview {
        return Ok((
            StatusCode::OK,
            Json(json!({ "imported": report.imported, "errors": report.errors })),
        ));
    }
    if !report.errors.is_empty() && !stores_valid_lines {
        let error = format!("{} lines have errors; nothing was imported", report.errors.len());
        let status = if import::held_elsewhere(&report) {
            StatusCode::CONFLICT
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        return Ok((
            status,
            Json(json!({ "error": error, "imported": [], "errors": report.errors })),
        ));
    }
    Ok((StatusCode::CREATED, Json(json!({ "imported": report.imported, "errors": report.errors }))))
}
