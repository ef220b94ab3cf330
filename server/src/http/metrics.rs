//! `GET /metrics` in the Prometheus text format, and the middleware that counts and
//! times every HTTP request by method, route and status.
//!
//! Routes are labelled by their pattern (`/api/v1/calls/{id}`), never by the concrete
//! path, so the number of series stays bounded whatever clients send.
//!
//! With `--metrics-token` the scrape needs `Authorization: Bearer <token>` (401
//! otherwise): the figures tell an outsider the traffic and the customers' campaigns.

use std::time::{Duration, Instant};

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    http::{HeaderMap, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::get,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::AppState;

const REQUESTS: &str = "http_requests_total";
const DURATION: &str = "http_request_duration_seconds";
/// From 1 ms to 10 s: pages and API calls live in the low milliseconds; anything past
/// a second is an incident.
const DURATION_BUCKETS: &[f64] =
    &[0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
/// How often histograms are compacted between scrapes.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The process-wide Prometheus registry.
#[derive(Clone)]
pub struct Metrics(PrometheusHandle);

impl Metrics {
    /// Installs the global recorder. Call once per process.
    pub fn install(
        tasks: &crate::tasks::Tasks,
    ) -> Result<Self, metrics_exporter_prometheus::BuildError> {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(DURATION.to_owned()), DURATION_BUCKETS)?
            .install_recorder()?;
        metrics::describe_counter!(
            REQUESTS,
            "HTTP requests answered, by method, route and status."
        );
        metrics::describe_histogram!(
            DURATION,
            metrics::Unit::Seconds,
            "Time to answer an HTTP request, by method and route."
        );
        let upkeep = handle.clone();
        tasks.spawn("metrics upkeep", async move {
            let mut tick = tokio::time::interval(UPKEEP_INTERVAL);
            loop {
                tick.tick().await;
                upkeep.run_upkeep();
            }
        });
        Ok(Self(handle))
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.metrics_token
        && !presents(&headers, token)
    {
        let challenge = [(header::WWW_AUTHENTICATE, "Bearer")];
        return (StatusCode::UNAUTHORIZED, challenge, "a metrics token is required\n")
            .into_response();
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.0.render())
        .into_response()
}

/// Whether the request carries `token` as its bearer token. The digests are compared,
/// so the time taken says nothing about how much of the token was right.
fn presents(headers: &HeaderMap, token: &str) -> bool {
    use sha2::{Digest, Sha256};
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim);
    presented.is_some_and(|given| Sha256::digest(given) == Sha256::digest(token))
}

pub async fn record(request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(REQUESTS, "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!(DURATION, "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
