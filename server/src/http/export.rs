//! CSV downloads for members signed in to the dashboard: a report with every row
//! ([`REPORT_CSV_PATH`]) and the call log ([`CALLS_CSV_PATH`], streamed). The same files
//! as the API's `format=csv`, for a session rather than an API key; the report takes the
//! API's parameters, the call log the dashboard's filters (dates in the organization's
//! zone).

use std::collections::HashMap;

use axum::{
    body::Body,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use bidline_app::{
    calls::{CALLS_CSV_PATH, CallFilter},
    errors::AppError,
    reports::REPORT_CSV_PATH,
};
use chrono_tz::Tz;
use futures::TryStreamExt;
use tower_sessions::Session;

use super::{AppState, session};
use crate::{
    accounts::{Permission, members::Member},
    calls::query,
    reports::{self, call_log, request::Request},
};

pub fn router() -> axum::Router<AppState> {
    axum::Router::new()
        .route(REPORT_CSV_PATH, axum::routing::get(report))
        .route(CALLS_CSV_PATH, axum::routing::get(calls))
}

async fn report(
    State(state): State<AppState>,
    session: Session,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, Response> {
    let member = reader(&state, &session).await?;
    let zone = query::time_zone(&state.db, member.org).await.map_err(failed)?;
    let mut request = Request::parse(&params, &zone, chrono::Utc::now()).map_err(
        |reports::request::Invalid(name, why)| {
            (StatusCode::UNPROCESSABLE_ENTITY, format!("{name}: {why}\n")).into_response()
        },
    )?;
    if !params.contains_key("limit") {
        request.limit = usize::MAX;
    }
    let as_of = state.records_as_of();
    let report = reports::run(&state.db, member.org, &request, as_of).await.map_err(failed)?;
    Ok((super::csv_download("report.csv"), report.csv(&request.groups)).into_response())
}

async fn calls(
    State(state): State<AppState>,
    session: Session,
    Query(form): Query<CallFilter>,
) -> Result<Response, Response> {
    let member = reader(&state, &session).await?;
    let zone: Tz =
        query::time_zone(&state.db, member.org).await.map_err(failed)?.parse().unwrap_or(Tz::UTC);
    let filter = crate::backend::calls::filter(&form, zone).map_err(|error| match error {
        AppError::Invalid(fields) => {
            let text: String = fields.iter().map(|(f, why)| format!("{f}: {why}\n")).collect();
            (StatusCode::UNPROCESSABLE_ENTITY, text).into_response()
        }
        _ => StatusCode::UNPROCESSABLE_ENTITY.into_response(),
    })?;
    let stream = call_log::csv(state.db.clone(), member.org, filter).await.map_err(failed)?;
    let body = Body::from_stream(stream.inspect_err(|error| {
        tracing::error!(%error, "the call log CSV stopped part way: the database failed");
    }));
    Ok((super::csv_download("calls.csv"), body).into_response())
}

/// The signed-in member, if their role reads calls.
async fn reader(state: &AppState, session: &Session) -> Result<Member, Response> {
    let member = session::member(session, &state.db)
        .await
        .map_err(|error| {
            tracing::error!(%error, "cannot read the session of a CSV download");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        })?
        .ok_or_else(|| StatusCode::UNAUTHORIZED.into_response())?;
    if !member.role.allows(Permission::Read) {
        return Err(StatusCode::FORBIDDEN.into_response());
    }
    Ok(member)
}

fn failed(error: sqlx::Error) -> Response {
    tracing::error!(%error, "a CSV download failed");
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}
