//! `GET /api/v1/reports`: calls summed by one or two dimensions (see `crate::reports`).

use std::collections::HashMap;

use axum::{
    Json, Router,
    extract::{Query, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::get,
};

use super::{
    ApiError,
    extract::ApiCaller,
    openapi::{Op, Spec, Who},
};
use crate::{
    accounts::Permission,
    http::AppState,
    reports::{self, Report, request::Request},
};

const PARAMS: &[(&str, &str)] = &[
    (
        "group_by",
        "one or two of campaign, publisher, buyer, target, number, caller_state, tag.NAME, hour, day, week, month (e.g. campaign,day)",
    ),
    (
        "from",
        "a date (2026-12-01, the start of that day in time_zone) or an RFC 3339 time; default 29 days before today",
    ),
    ("to", "a date (included) or an RFC 3339 time (excluded); default the end of today"),
    ("time_zone", "IANA zone days and hours are read in; default the organization's"),
    ("campaign_id", "one campaign's calls"),
    ("publisher_id", "one publisher's calls"),
    ("buyer_id", "calls connected to one buyer (and that buyer's bids)"),
    ("target_id", "calls connected to one target (and that target's bids)"),
    ("number", "calls to one tracking number"),
    ("status", "ringing, connected, completed, failed, rejected, abandoned or interrupted"),
    ("converted", "true or false"),
    ("duplicate", "true or false"),
    ("tag.NAME", "calls whose tag NAME has this value"),
    (
        "sort",
        "a metric or a group_by dimension, - first for descending; default time, then most calls",
    ),
    ("limit", "rows, 1–10000, default 1000 (totals always cover every row); CSV: every row"),
    (
        "format",
        "json (default) or csv (also for Accept: text/csv): the rows, key fields then metrics",
    ),
];

pub fn router(spec: &mut Spec) -> Router<AppState> {
    let schema = spec.schema::<Report>();
    spec.add(
        "get",
        "/reports",
        Op::new("Reports", "Calls summed by one or two dimensions over a range", Who::AnyRole)
            .query(PARAMS)
            .ok(200, Some(schema)),
    );
    Router::new().route("/reports", get(report))
}

async fn report(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read)?;
    let zone = crate::calls::query::time_zone(&state.db, caller.org).await?;
    let mut request = Request::parse(&params, &zone, chrono::Utc::now())
        .map_err(|reports::request::Invalid(name, why)| ApiError::field(name, why))?;
    let csv = super::wants_csv(&params, &headers)?;
    if csv && !params.contains_key("limit") {
        // A file holds every row.
        request.limit = usize::MAX;
    }
    let as_of = state.records_as_of();
    let report: Report = reports::run(&state.db, caller.org, &request, as_of).await?;
    if !csv {
        return Ok(Json(report).into_response());
    }
    Ok((crate::http::csv_download("report.csv"), report.csv(&request.groups)).into_response())
}
