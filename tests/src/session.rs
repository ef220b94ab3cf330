//! A signed-in dashboard session over plain HTTP: calls server functions (`/fn/…`) with
//! the session cookie, as the app in the browser does.

use reqwest::{Client, StatusCode};
use serde_json::Value;

pub struct SessionClient {
    base: String,
    http: Client,
}

impl SessionClient {
    /// A client without a session yet.
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: base.into(),
            http: Client::builder().cookie_store(true).build().expect("an HTTP client"),
        }
    }

    /// A client without a session yet, behind a proxy that reports it as `address` in
    /// `X-Forwarded-For` (the server must trust the proxy: `--trusted-proxy 127.0.0.1`).
    pub fn from_address(base: impl Into<String>, address: &str) -> Self {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert("x-forwarded-for", address.parse().expect("an address"));
        let http = Client::builder()
            .cookie_store(true)
            .default_headers(headers)
            .build()
            .expect("an HTTP client");
        Self { base: base.into(), http }
    }

    /// Signs in; panics unless the server accepts.
    pub async fn signed_in(base: impl Into<String>, email: &str, password: &str) -> Self {
        let client = Self::new(base);
        let (status, body) =
            client.call("login", &[("email", email), ("password", password)]).await;
        assert_eq!(status, 200, "sign-in of {email}: {body}");
        client
    }

    /// Calls the server function `name` with form arguments; answers the status and the
    /// JSON body (`Null` when empty).
    pub async fn call(&self, name: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        let response = self
            .http
            .post(format!("{}/fn/{name}", self.base))
            .form(form)
            .send()
            .await
            .expect("call a server function");
        let status = response.status();
        let text = response.text().await.expect("read the answer");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        (status, body)
    }
}
