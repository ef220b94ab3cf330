//! `GET /api/v1/calls` (the call log, newest first, with filters; `format=csv` streams all
//! of it) and `GET /api/v1/calls/{id}` (one call with its timeline and auction).

use std::collections::HashMap;

use axum::{
    Json, Router,
    body::Body,
    extract::{Path, Query, State},
    http::HeaderMap,
    response::{IntoResponse, Response},
    routing::get,
};
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use serde_json::json;
use uuid::Uuid;

use super::{
    ApiError, Page,
    extract::ApiCaller,
    openapi::{Op, Spec, Who},
};
use crate::{
    accounts::Permission,
    calls::{
        Status,
        query::{self, CallDetail, CallView, Filter},
    },
    e164::E164,
    http::AppState,
    reports::call_log,
};

const FILTERS: &[(&str, &str)] = &[
    ("from", "calls started at or after this time (RFC 3339)"),
    ("to", "calls started before this time (RFC 3339)"),
    ("campaign_id", "one campaign's calls"),
    ("publisher_id", "one publisher's calls"),
    ("buyer_id", "calls connected to one buyer"),
    ("target_id", "calls connected to one target"),
    ("status", "ringing, connected, completed, failed, rejected, abandoned or interrupted"),
    ("converted", "true or false"),
    ("duplicate", "true or false"),
    ("caller", "the caller's number, any common format"),
    ("cursor", "next_cursor of the previous page"),
    ("limit", "1–200, default 50"),
    (
        "format",
        "json (default) or csv (also for Accept: text/csv): every matching call, newest first, streamed (cursor and limit do not apply)",
    ),
];

pub fn router(spec: &mut Spec) -> Router<AppState> {
    let call = spec.schema::<CallView>();
    let detail = spec.schema::<CallDetail>();
    spec.add(
        "get",
        "/calls",
        Op::new("Calls", "The call log, newest first", Who::AnyRole)
            .query(FILTERS)
            .ok(200, Some(Spec::list_of(call))),
    );
    spec.add(
        "get",
        "/calls/{id}",
        Op::new("Calls", "One call with its timeline (events) and auction (bids)", Who::AnyRole)
            .ok(200, Some(detail)),
    );
    Router::new().route("/calls", get(list)).route("/calls/{id}", get(read))
}

/// The filters of a query string; each bad one is a 422 naming it.
fn filter(params: &HashMap<String, String>) -> Result<Filter, ApiError> {
    let text = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let time = |name: &str| -> Result<Option<DateTime<Utc>>, ApiError> {
        text(name)
            .map(|v| {
                DateTime::parse_from_rfc3339(v)
                    .map(|at| at.with_timezone(&Utc))
                    .map_err(|_| ApiError::field(name, "must be a time like 2026-12-01T00:00:00Z"))
            })
            .transpose()
    };
    let id = |name: &str| -> Result<Option<Uuid>, ApiError> {
        text(name)
            .map(|v| v.parse().map_err(|_| ApiError::field(name, "must be an id")))
            .transpose()
    };
    let flag = |name: &str| -> Result<Option<bool>, ApiError> {
        text(name)
            .map(|v| match v {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(ApiError::field(name, "must be true or false")),
            })
            .transpose()
    };
    Ok(Filter {
        from: time("from")?,
        to: time("to")?,
        campaign_id: id("campaign_id")?,
        publisher_id: id("publisher_id")?,
        buyer_id: id("buyer_id")?,
        target_id: id("target_id")?,
        status: text("status")
            .map(|v| {
                Status::parse(v).ok_or_else(|| {
                    ApiError::field(
                        "status",
                        "must be ringing, connected, completed, failed, rejected, abandoned or interrupted",
                    )
                })
            })
            .transpose()?,
        converted: flag("converted")?,
        duplicate: flag("duplicate")?,
        caller: text("caller")
            .map(|v| {
                E164::parse(v)
                    .map(|n| n.as_str().to_owned())
                    .map_err(|why| ApiError::field("caller", why))
            })
            .transpose()?,
    })
}

async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    caller.require(Permission::Read)?;
    if super::wants_csv(&params, &headers)? {
        let filter = filter(&params)?;
        let stream = call_log::csv(state.db.clone(), caller.org, filter).await?;
        let body = Body::from_stream(stream.inspect_err(|error| {
            tracing::error!(%error, "the call log CSV stopped part way: the database failed");
        }));
        return Ok((crate::http::csv_download("calls.csv"), body).into_response());
    }
    let page = Page {
        cursor: params.get("cursor").cloned(),
        limit: params
            .get("limit")
            .map(|v| v.parse().map_err(|_| ApiError::field("limit", "must be a number")))
            .transpose()?,
    };
    let limit = page.limit()?;
    let filter = filter(&params)?;
    let mut items =
        query::list(&state.db, caller.org, &filter, page.cursor_id()?, limit + 1).await?;
    let more = items.len() as i64 > limit;
    items.truncate(limit as usize);
    let next_cursor = more.then(|| items.last().map(|call| call.id.to_string())).flatten();
    Ok(Json(json!({"items": items, "next_cursor": next_cursor})).into_response())
}

async fn read(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(text): Path<String>,
) -> Result<Json<CallDetail>, ApiError> {
    caller.require(Permission::Read)?;
    let id = text.parse().map_err(|_| ApiError::NotFound)?;
    query::get(&state.db, caller.org, id).await?.map(Json).ok_or(ApiError::NotFound)
}
