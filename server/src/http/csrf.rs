//! Cross-site request forgery protection for the dashboard (pages and server
//! functions), which authenticate by cookie.
//!
//! A state-changing request (any method but GET, HEAD, OPTIONS, TRACE) is refused with
//! 403 when the browser says it came from another site: `Sec-Fetch-Site` other than
//! `same-origin` or `none`, or — from browsers that do not send that header — an
//! `Origin` whose host is not this request's `Host`. Requests with neither header are
//! not from a browser and carry no ambient cookie risk, so they pass. The session
//! cookie's `SameSite=Lax` is the second wall. This is the check of Go's
//! `http.CrossOriginProtection`; it needs no token in forms.
//!
//! `/api/v1` is outside this layer: it authenticates by bearer key, never by cookie.

use axum::{
    extract::Request,
    http::{HeaderMap, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};

pub async fn guard(request: Request, next: Next) -> Response {
    if is_safe(request.method()) || same_site(request.headers()) {
        next.run(request).await
    } else {
        tracing::warn!(method = %request.method(), path = request.uri().path(), "cross-site request refused");
        (StatusCode::FORBIDDEN, "cross-site request refused").into_response()
    }
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE)
}

fn same_site(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|value: &header::HeaderValue| value.to_str().ok());
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site")) {
        return matches!(site, "same-origin" | "none");
    }
    match text(header::ORIGIN) {
        None => true,
        Some(origin) => {
            let origin_host = origin.split_once("://").map(|(_, rest)| rest);
            origin_host.is_some() && origin_host == text(header::HOST)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn fetch_metadata_decides_when_present() {
        assert!(same_site(&headers(&[("sec-fetch-site", "same-origin")])));
        assert!(same_site(&headers(&[("sec-fetch-site", "none")])));
        assert!(!same_site(&headers(&[("sec-fetch-site", "cross-site")])));
        assert!(!same_site(&headers(&[
            ("sec-fetch-site", "same-site"),
            ("origin", "https://app.example"),
            ("host", "app.example")
        ])));
    }

    #[test]
    fn origin_must_match_host_without_fetch_metadata() {
        assert!(same_site(&headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000")
        ])));
        assert!(!same_site(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "app.example")
        ])));
        assert!(!same_site(&headers(&[("origin", "null"), ("host", "app.example")])));
        assert!(same_site(&headers(&[("host", "app.example")])));
    }
}
