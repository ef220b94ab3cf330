//! `/api/v1`: the REST API, authenticated by API keys, scoped to the key's organization.
//!
//! One module per resource, each with its `router()`. Lists answer
//! `{"items": […], "next_cursor": …}`; errors `{"error": …}` (see [`error`]).

mod api_keys;
mod audit;
mod billing;
mod calls;
mod error;
mod extract;
mod invoicing;
mod me;
mod numbers;
mod openapi;
mod ping;
mod postback_keys;
mod reports;
mod resources;
mod ring_tree;
mod routing;
mod webhooks;

use axum::Router;

pub use self::error::ApiError;
use super::AppState;
use crate::network::{
    blocked_callers::BlockedCaller, buyers::Buyer, campaigns::Campaign, dni_pools::DniPool,
    numbers::Number, publishers::Publisher, targets::Target, trunks::Trunk,
};

/// Every route of `/api/v1`, each documented as it is added; the OpenAPI document is
/// what they describe.
pub fn router() -> Router<AppState> {
    let spec = &mut openapi::Spec::default();
    let v1 = Router::new()
        .merge(me::router(spec))
        .merge(api_keys::router(spec))
        .merge(audit::router(spec))
        .merge(billing::router(spec))
        .merge(resources::routes::<Campaign>("campaigns", "Campaigns", spec))
        .merge(ring_tree::router(spec))
        .merge(resources::routes::<Publisher>("publishers", "Publishers", spec))
        .merge(resources::routes::<Buyer>("buyers", "Buyers", spec))
        .merge(resources::routes::<Target>("targets", "Targets", spec))
        .merge(ping::router(spec))
        .merge(resources::routes::<Number>("numbers", "Numbers", spec))
        .merge(numbers::router(spec))
        .merge(resources::routes::<DniPool>("dni-pools", "DNI pools", spec))
        .merge(resources::routes::<Trunk>("trunks", "Trunks", spec))
        .merge(resources::routes::<BlockedCaller>("blocked-callers", "Blocked callers", spec))
        .merge(routing::router(spec))
        .merge(calls::router(spec))
        .merge(reports::router(spec))
        .merge(webhooks::router(spec))
        .merge(postback_keys::router(spec))
        .merge(invoicing::router(spec));
    openapi::describe(spec);
    let document = std::mem::take(spec).document();
    let v1 = v1.merge(openapi::serve(document)).fallback(|| async { ApiError::NotFound });
    Router::new().nest("/api/v1", v1)
}

/// Ids in paths that do not parse name nothing: 404, like any other unknown id.
fn path_id(text: &str) -> Result<uuid::Uuid, ApiError> {
    text.parse().map_err(|_| ApiError::NotFound)
}

/// `?cursor=&limit=` of list endpoints.
#[derive(Debug, serde::Deserialize)]
pub struct Page {
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

impl Page {
    pub const DEFAULT_LIMIT: i64 = 50;
    pub const MAX_LIMIT: i64 = 200;

    pub fn limit(&self) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(Self::DEFAULT_LIMIT),
            Some(limit) if (1..=Self::MAX_LIMIT).contains(&limit) => Ok(limit),
            Some(_) => {
                Err(ApiError::field("limit", format!("must be between 1 and {}", Self::MAX_LIMIT)))
            }
        }
    }

    /// The cursor as the id it encodes.
    pub fn cursor_id(&self) -> Result<Option<uuid::Uuid>, ApiError> {
        self.cursor
            .as_deref()
            .map(|cursor| {
                cursor
                    .parse()
                    .map_err(|_| ApiError::field("cursor", "is not a cursor from this API"))
            })
            .transpose()
    }
}

/// Whether a read answers CSV: `?format=csv`, or `Accept: text/csv` without `format`.
fn wants_csv(
    params: &std::collections::HashMap<String, String>,
    headers: &axum::http::HeaderMap,
) -> Result<bool, ApiError> {
    match params.get("format").map(String::as_str) {
        Some("csv") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => Err(ApiError::field("format", "must be json or csv")),
        None => Ok(headers
            .get(axum::http::header::ACCEPT)
            .and_then(|accept| accept.to_str().ok())
            .is_some_and(|accept| accept.contains("text/csv"))),
    }
}
