//! The HTTP surface: operations endpoints, the Leptos app (pages, server functions,
//! static site files), and the layers every request passes through.
//!
//! One module per area; each exposes a `router()` merged here.

mod api;
pub mod assets;
mod csrf;
mod dni;
mod export;
mod health;
mod live;
mod metrics;
mod postback;
pub mod session;
mod statement;
mod stripe_webhook;

use std::{net::SocketAddr, sync::Arc};

use axum::{
    Router,
    extract::{ConnectInfo, FromRef},
    http::HeaderName,
};
use bidline_app::backend::Backend as AppBackend;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, file_and_error_handler_with_context, generate_route_list};
use tower::ServiceBuilder;
use tower_http::{
    compression::CompressionLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    trace::{DefaultOnResponse, TraceLayer},
};
use tracing::Level;

use crate::{
    accounts::throttle::Throttle, backend::ServerBackend, db::Db, db::nodes::NodeInfo,
    limits::ClientIp, routing::snapshot::Routing,
};

pub use self::metrics::Metrics;

/// What every handler may reach.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub node: Arc<NodeInfo>,
    pub leptos: LeptosOptions,
    pub metrics: Metrics,
    /// The bearer token `/metrics` requires, if any (`--metrics-token`).
    pub metrics_token: Option<Arc<str>>,
    pub throttle: Arc<Throttle>,
    pub routing: Routing,
    pub sessions: session::Store,
    /// Whether the session cookie is `Secure` (the site is served over TLS).
    pub secure_cookies: bool,
    /// Sends RTB pings (one pooled client; private addresses only if the operator allows).
    pub pinger: crate::ping::Pinger,
    /// Every change to a call this node handles, for the live views.
    pub live: crate::calls::LiveFeed,
    pub dni: crate::dni::Dni,
    /// Buyer postbacks per client address.
    pub postback_limits: crate::limits::Limits,
    /// Proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`).
    pub trusted_proxies: crate::limits::TrustedProxies,
    pub billing: crate::billing::Billing,
    /// What waits to be written of this node's call records: how fresh reports are.
    pub records: Arc<crate::db::batch::Backlog>,
    /// Bidline's own phone line into the SIP edge (test calls).
    pub line: crate::routing::loopback::Line,
}

impl AppState {
    /// What reports count up to: every change to a call this node recorded before now,
    /// less how long the oldest change still waiting for the writer has waited.
    pub fn records_as_of(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() - chrono::TimeDelta::from_std(self.records.lag()).unwrap_or_default()
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::router())
        .merge(dni::router())
        .merge(postback::router())
        .merge(stripe_webhook::router())
        .merge(statement::router())
        .merge(health::router())
        .merge(metrics::router())
        .merge(dashboard(&state))
        .layer(axum::middleware::from_fn_with_state(state.clone(), client_address))
        .layer(axum::middleware::from_fn(metrics::record))
        // gzip for clients that ask, for what has no compressed copy (the built assets
        // have theirs: see `assets`).
        .layer(CompressionLayer::new())
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(DefaultOnResponse::new().level(Level::INFO)),
                )
                .layer(PropagateRequestIdLayer::new(REQUEST_ID)),
        )
        .with_state(state)
}

/// Puts the client's address, as found behind the trusted proxies, in the request's
/// extensions ([`ClientIp`]): sign-in limits, the audit log and API callers read it there.
async fn client_address(
    axum::extract::State(state): axum::extract::State<AppState>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(peer)| *peer);
    if let Some(peer) = peer {
        let ip = state.trusted_proxies.client_ip(peer, request.headers());
        request.extensions_mut().insert(ClientIp(ip));
    }
    next.run(request).await
}

/// Headers of a CSV download named `file`.
pub(crate) fn csv_download(file: &str) -> [(HeaderName, String); 2] {
    use axum::http::header;
    [
        (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
        (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{file}\"")),
    ]
}

/// The Leptos app: pages, server functions and the site's files, behind the session
/// and cross-site request layers (the only part of Bidline that uses cookies).
fn dashboard(state: &AppState) -> Router<AppState> {
    let routes = generate_route_list(bidline_app::App);
    let backend: Arc<dyn AppBackend> = Arc::new(ServerBackend::new(state));
    let provide_backend = move || provide_context(backend.clone());
    let leptos_options = state.leptos.clone();
    let site_root = std::path::Path::new(state.leptos.site_root.as_ref());

    Router::new()
        .merge(assets::router(site_root))
        .route(bidline_app::calls::LIVE_PATH, axum::routing::get(live::calls))
        .merge(export::router())
        .leptos_routes_with_context(state, routes, provide_backend.clone(), move || {
            bidline_app::shell(leptos_options.clone())
        })
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            provide_backend,
            bidline_app::shell,
        ))
        .layer(axum::middleware::from_fn(csrf::guard))
        .layer(session::layer(state.sessions.clone(), state.secure_cookies))
        .layer(axum::middleware::from_fn(assets::revalidate_by_default))
}

/// The span around a request: its id, method and path (never the query, which may
/// carry secrets, and never a postback key or statement token, which are in the path).
fn request_span(request: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let request_id =
        request.headers().get(REQUEST_ID).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let path = request.uri().path();
    let path = if path.starts_with(POSTBACK_PREFIX) {
        "/postback/v1/{key}"
    } else if path.starts_with(STATEMENT_PREFIX) {
        "/statements/{token}"
    } else {
        path
    };
    tracing::info_span!("request", request_id, method = %request.method(), path)
}

const POSTBACK_PREFIX: &str = "/postback/v1/";
const STATEMENT_PREFIX: &str = "/statements/";

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use bidline_tests::isolation::{ID_FREE_FUNCTIONS, ID_TAKING_FUNCTIONS};

    /// Every server function is classified for the tenant-isolation matrix: one that
    /// takes an object's id must be probed with another organization's ids.
    #[test]
    fn every_server_function_is_classified_for_the_isolation_matrix() {
        let registered: BTreeSet<String> = leptos::server_fn::axum::server_fn_paths()
            .map(|(path, _)| path.trim_start_matches("/fn/").to_owned())
            .collect();
        let classified: BTreeSet<String> = ID_TAKING_FUNCTIONS
            .iter()
            .chain(ID_FREE_FUNCTIONS)
            .map(|name| (*name).to_owned())
            .collect();
        assert_eq!(
            registered, classified,
            "classify new server functions in tests/src/isolation.rs"
        );
    }
}
