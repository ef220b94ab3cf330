//! A client of `/api/v1` that speaks as one API key, for tests.

use reqwest::{Method, StatusCode};
use serde_json::Value;

#[derive(Clone)]
pub struct Api {
    base: String,
    key: String,
    http: reqwest::Client,
}

impl Api {
    /// `base` is the server's origin, e.g. `http://127.0.0.1:41234`.
    pub fn new(base: impl Into<String>, key: impl Into<String>) -> Self {
        Self { base: base.into(), key: key.into(), http: reqwest::Client::new() }
    }

    /// Sends a request to `/api/v1{path}`; answers the status and the JSON body (`Null`
    /// when there is none).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> (StatusCode, Value) {
        let mut request =
            self.http.request(method, format!("{}/api/v1{path}", self.base)).bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await.expect("send an API request");
        let status = response.status();
        let text = response.text().await.expect("read the API response");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text}"))
        };
        (status, body)
    }

    /// `GET /api/v1{path}`: the status, the content type and the body as text.
    pub async fn get_text(&self, path: &str) -> (StatusCode, String, String) {
        let url = format!("{}/api/v1{path}", self.base);
        let response = self.http.get(url).bearer_auth(&self.key).send().await.expect("send");
        let status = response.status();
        let kind = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, kind, response.text().await.expect("read the API response"))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }
}
