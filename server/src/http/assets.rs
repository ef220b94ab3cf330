//! The dashboard's built assets (wasm, JS glue, stylesheet) and how long browsers keep
//! them.
//!
//! `cargo xtask build` puts them in `pkg/<hash of their contents>/` under the site root
//! and names that folder in `site/pkg-dir`; pages name it in their links. A folder's
//! files never change, so they are served `immutable` for a year, from the brotli or
//! gzip copies the build made when the browser accepts one. Everything else the
//! dashboard serves (pages above all) is revalidated on every use, so a new build
//! reaches browsers at their next page load.

use std::path::Path;

use axum::{
    Router,
    extract::Request,
    http::{HeaderValue, header},
    middleware::Next,
    response::Response,
};
use tower_http::services::ServeDir;

/// The URL path of the asset folders, under the site root.
const PKG: &str = "pkg";

const IMMUTABLE: HeaderValue = HeaderValue::from_static("public, max-age=31536000, immutable");
const REVALIDATE: HeaderValue = HeaderValue::from_static("no-cache");

/// The asset folder the built site names (`pkg/<hash>`), relative to the site root. Pages
/// render without it but never hydrate: say so, once, at start.
pub fn pkg_dir(site_root: &Path) -> String {
    let named = site_root.join("pkg-dir");
    match std::fs::read_to_string(&named) {
        Ok(dir)
            if site_root
                .join(dir.trim())
                .join(format!("{}.js", bidline_app::OUTPUT_NAME))
                .is_file() =>
        {
            dir.trim().to_owned()
        }
        _ => {
            tracing::warn!(
                site_root = %site_root.display(),
                "no built assets in the site root: pages will render but not come alive; build the site with `cargo xtask build`"
            );
            PKG.to_owned()
        }
    }
}

/// Serves `/pkg/…` from the site root's asset folders, precompressed where the browser
/// accepts it.
pub fn router<S: Clone + Send + Sync + 'static>(site_root: &Path) -> Router<S> {
    let files = ServeDir::new(site_root.join(PKG)).precompressed_br().precompressed_gzip();
    Router::new()
        .nest_service(&format!("/{PKG}"), files)
        .layer(axum::middleware::from_fn(keep_for_a_year))
}

/// A found asset may be kept for a year; a missing one is not remembered at all. Either
/// way the body depends on the request's `Accept-Encoding` (brotli, gzip or plain), which
/// a shared cache must know so as not to hand brotli to a browser that did not ask for it.
async fn keep_for_a_year(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let value = if response.status().is_success() { IMMUTABLE } else { REVALIDATE };
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, value);
    headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    response
}

/// Every response that says nothing of caching is revalidated before reuse: a page names
/// the current asset folder, so a stale page would load an old build.
pub async fn revalidate_by_default(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    response.headers_mut().entry(header::CACHE_CONTROL).or_insert(REVALIDATE);
    response
}
