//! The public DNI surface websites talk to: `GET /dni.js` (the snippet) and
//! `POST /dni/v1/lease` with `/dni/v1/lease/{lease_id}/renew` and `/release`.
//!
//! Visitors' browsers call these from other sites, so every answer that carries a
//! number names the one origin allowed to read it (the campaign's allowed domains, by
//! host). Bodies are read as JSON whatever their content type: the snippet sends
//! `text/plain` so that browsers skip the CORS preflight.
//!
//! A lease answer also sets the visitor's id in a cookie of the campaign's
//! (`bidline_visitor_<key>`: `HttpOnly`, `Secure`, `SameSite=None` and `Partitioned`, so
//! browsers that keep third-party cookies keep it per site, never as a cross-site id).
//! A request without a `visitor_id` that carries it is the same visitor again: a page
//! whose storage was cleared, or a client that leases in a loop, gets its own lease
//! back instead of another number.

use std::net::{IpAddr, SocketAddr};
use std::sync::LazyLock;

use axum::{
    Router,
    body::Bytes,
    extract::{ConnectInfo, Path, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use chrono::Utc;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{AppState, api::ApiError};
use crate::{
    dni::{
        book::{Lease, Visit},
        tags,
    },
    limits::client_key,
};

/// The snippet as served: `public/dni.js` without its comments and indentation.
static SCRIPT: LazyLock<Script> =
    LazyLock::new(|| Script::compact(include_str!("../../../public/dni.js")));

/// A lease request is a few hundred bytes; anything past this is not one.
const MAX_BODY: usize = 8 * 1024;

/// How long a visitor's id cookie lasts: as long as the snippet's own storage.
const VISITOR_COOKIE_SECONDS: u32 = 365 * 24 * 3600;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/dni.js", get(script))
        .route("/dni/v1/lease", post(lease).options(preflight))
        .route("/dni/v1/lease/{lease_id}/renew", post(renew).options(preflight))
        .route("/dni/v1/lease/{lease_id}/release", post(release).options(preflight))
}

struct Script {
    body: String,
    etag: HeaderValue,
}

impl Script {
    fn compact(source: &str) -> Script {
        let mut body = String::with_capacity(source.len());
        let mut in_header = false;
        for line in source.lines().map(str::trim) {
            if line.starts_with("/*") {
                in_header = !line.ends_with("*/");
                continue;
            }
            if in_header {
                in_header = !line.ends_with("*/");
                continue;
            }
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            body.push_str(line);
            body.push('\n');
        }
        let digest = <sha2::Sha256 as sha2::Digest>::digest(body.as_bytes());
        let etag = format!(
            "\"{}\"",
            base64::Engine::encode(
                &base64::engine::general_purpose::URL_SAFE_NO_PAD,
                &digest[..12]
            )
        );
        Script { body, etag: HeaderValue::from_str(&etag).expect("hex is a header value") }
    }
}

/// Served for five minutes before browsers check again (cheaply, by ETag), so a new
/// version reaches every site within minutes without a versioned URL to update.
async fn script(headers: HeaderMap) -> Response {
    let script = &*SCRIPT;
    let cache = [
        (header::ETAG, script.etag.clone()),
        (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")),
        (
            header::HeaderName::from_static("cross-origin-resource-policy"),
            HeaderValue::from_static("cross-origin"),
        ),
    ];
    if headers.get(header::IF_NONE_MATCH) == Some(&script.etag) {
        return (StatusCode::NOT_MODIFIED, cache).into_response();
    }
    let content_type =
        (header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    (cache, [content_type], script.body.as_str()).into_response()
}

async fn preflight(headers: HeaderMap) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    if let Some(origin) = headers.get(header::ORIGIN) {
        let out = response.headers_mut();
        out.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        out.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("POST"));
        out.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("content-type"));
        out.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
        out.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        out.insert(header::VARY, HeaderValue::from_static("origin"));
    }
    response
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LeaseRequest {
    campaign: String,
    #[serde(default)]
    visitor_id: Option<String>,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    referrer: Option<String>,
    #[serde(default)]
    params: std::collections::BTreeMap<String, String>,
    /// The page the visitor is on now (the landing page is `url`).
    #[serde(default)]
    page: Option<String>,
}

/// What the snippet gets back; `lease_id` is null when the visitor is shown the
/// campaign's default number (no pool number was free, or the campaign has no pool).
#[derive(Serialize)]
struct LeaseAnswer {
    number: Option<String>,
    default_number: Option<String>,
    lease_id: Option<Uuid>,
    visitor_id: Uuid,
    expires_at: String,
}

/// The request's `Origin` host, when the campaign lists it (or a parent domain of it).
fn allowed_origin(headers: &HeaderMap, domains: &[String]) -> Result<HeaderValue, ApiError> {
    let origin = headers
        .get(header::ORIGIN)
        .ok_or_else(|| ApiError::Forbidden("the request has no Origin".into()))?;
    let host = origin
        .to_str()
        .ok()
        .and_then(|text| url::Url::parse(text).ok())
        .and_then(|url| url.host_str().map(str::to_ascii_lowercase))
        .ok_or_else(|| ApiError::Forbidden("the Origin is not a web origin".into()))?;
    let listed = domains.iter().any(|domain| {
        host == *domain
            || host.strip_suffix(domain.as_str()).is_some_and(|rest| rest.ends_with('.'))
    });
    if !listed {
        return Err(ApiError::Forbidden(format!(
            "{host} is not one of the campaign's allowed domains"
        )));
    }
    Ok(origin.clone())
}

/// The answer, readable by `origin`'s pages (a request without one is not a browser's),
/// and never cached: it is one visitor's.
fn with_origin(origin: Option<HeaderValue>, response: impl IntoResponse) -> Response {
    let mut response = response.into_response();
    let headers = response.headers_mut();
    if let Some(origin) = origin {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        // The snippet sends the visitor's cookie; without this its page may not read the
        // answer.
        headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
    }
    headers.insert(header::VARY, HeaderValue::from_static("origin"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn answer(lease: &Lease, default_number: Option<String>) -> LeaseAnswer {
    let number = lease.held.as_ref().map(|held| held.number.as_str().to_owned());
    LeaseAnswer {
        lease_id: lease.held.as_ref().map(|_| lease.id),
        number: number.or_else(|| default_number.clone()),
        default_number,
        visitor_id: lease.visitor_id,
        expires_at: crate::time::rfc3339(lease.expires_at),
    }
}

/// The campaign's visitor-id cookie (the key is a campaign's public key: letters,
/// digits and `_`, all allowed in a cookie name).
fn visitor_cookie(campaign_key: &str) -> String {
    format!("bidline_visitor_{campaign_key}")
}

/// The visitor id the request's cookie for the campaign carries, if it is one.
fn visitor_from_cookie(headers: &HeaderMap, campaign_key: &str) -> Option<Uuid> {
    let name = visitor_cookie(campaign_key);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .and_then(|(_, value)| Uuid::parse_str(value.trim()).ok())
}

fn set_visitor_cookie(response: &mut Response, campaign_key: &str, visitor: Uuid) {
    let cookie = format!(
        "{}={visitor}; Max-Age={VISITOR_COOKIE_SECONDS}; Path=/dni/v1/lease; Secure; HttpOnly; SameSite=None; Partitioned",
        visitor_cookie(campaign_key)
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

fn throttle(state: &AppState, ip: IpAddr) -> Result<(), ApiError> {
    state.dni.limits.throttle(ip).map_err(ApiError::too_many)
}

fn parse<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, ApiError> {
    if body.len() > MAX_BODY {
        return Err(ApiError::BadRequest(format!("the body is over {} KiB", MAX_BODY / 1024)));
    }
    serde_json::from_slice(body).map_err(|error| ApiError::BadRequest(format!("bad JSON: {error}")))
}

async fn lease(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let ip = state.dni.limits.client_ip(peer, &headers);
    throttle(&state, ip)?;
    let request: LeaseRequest = parse(&body)?;
    let snapshot = state.routing.current();
    let campaign = snapshot.campaign_by_key(&request.campaign).ok_or(ApiError::NotFound)?;
    let origin = allowed_origin(&headers, &campaign.object.dni_allowed_domains)?;
    let key = &campaign.object.dni_public_key;
    let visitor_id = match request.visitor_id.as_deref() {
        None | Some("") => visitor_from_cookie(&headers, key),
        Some(text) => Some(
            Uuid::parse_str(text)
                .map_err(|_| ApiError::BadRequest("visitor_id is not one Bidline gave".into()))?,
        ),
    };
    let mut captured = tags::capture(
        &campaign.object.dni_params,
        &request.params,
        request.url.as_deref(),
        request.referrer.as_deref(),
        request.page.as_deref(),
    )
    .map_err(ApiError::BadRequest)?;
    if let Some(geo) = &state.dni.geo {
        captured.extend(geo.locate(ip));
    }
    let visit = Visit {
        visitor_id,
        tags: captured,
        ip: state.dni.keep_ip.then(|| ip.to_string()),
        client: Some(client_key(ip)),
    };
    let lease = state.dni.book.lease(&snapshot, campaign.org, &campaign.object, visit, Utc::now());
    let default_number = campaign.object.default_number.as_ref().map(|n| n.as_str().to_owned());
    let mut response = with_origin(Some(origin), axum::Json(answer(&lease, default_number)));
    set_visitor_cookie(&mut response, key, lease.visitor_id);
    Ok(response)
}

/// A renewal or release: counted against the visitor's address, for a lease id (the
/// credential: unguessable) and, from a browser, an origin the lease's campaign allows.
fn lease_request(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    lease_id: &str,
) -> Result<(Uuid, Option<HeaderValue>), ApiError> {
    throttle(state, state.dni.limits.client_ip(peer, headers))?;
    let id = Uuid::parse_str(lease_id).map_err(|_| ApiError::NotFound)?;
    if headers.get(header::ORIGIN).is_none() {
        return Ok((id, None));
    }
    let campaign = state.dni.book.campaign_of(id).ok_or(ApiError::NotFound)?;
    let snapshot = state.routing.current();
    let campaign = snapshot.campaigns.get(&campaign).ok_or(ApiError::NotFound)?;
    Ok((id, Some(allowed_origin(headers, &campaign.object.dni_allowed_domains)?)))
}

async fn renew(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(lease_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (id, origin) = lease_request(&state, peer, &headers, &lease_id)?;
    let lease = state.dni.book.renew(id, Utc::now()).ok_or(ApiError::NotFound)?;
    let snapshot = state.routing.current();
    let default_number = snapshot
        .campaigns
        .get(&lease.campaign_id)
        .and_then(|c| c.object.default_number.as_ref())
        .map(|n| n.as_str().to_owned());
    Ok(with_origin(origin, axum::Json(answer(&lease, default_number))))
}

async fn release(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(lease_id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (id, origin) = lease_request(&state, peer, &headers, &lease_id)?;
    if !state.dni.book.release(id, Utc::now()) {
        return Err(ApiError::NotFound);
    }
    Ok(with_origin(origin, StatusCode::NO_CONTENT))
}
