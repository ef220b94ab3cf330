//! A buyer's RTB endpoint on 127.0.0.1: records each ping it receives (method, headers,
//! body) and answers as scripted — a JSON bid, after a delay, or garbage with any
//! status — as a real buyer's server would.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    http::{HeaderMap, Method, StatusCode},
    response::IntoResponse,
    routing::any,
};
use serde_json::Value;

/// How the buyer answers each ping.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    /// 200 with `json`, at once.
    pub fn json(json: Value) -> Reply {
        Reply { status: 200, body: json.to_string(), delay: Duration::ZERO }
    }

    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

#[derive(Clone, Debug)]
pub struct ReceivedPing {
    pub method: String,
    /// The path and query, as sent.
    pub uri: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

pub struct FakeBuyer {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<ReceivedPing>>>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeBuyer {
    /// Listens on a free port of 127.0.0.1 and answers every request with `answer`.
    pub async fn start(answer: Value) -> Self {
        Self::scripted(Reply::json(answer)).await
    }

    /// Listens on a free port of 127.0.0.1 and answers every request with `reply`.
    pub async fn scripted(reply: Reply) -> Self {
        let received = Arc::new(Mutex::new(Vec::new()));
        let record = received.clone();
        let app = Router::new().route(
            "/{*path}",
            any(move |method: Method, uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                let record = record.clone();
                let reply = reply.clone();
                async move {
                    record.lock().unwrap().push(ReceivedPing {
                        method: method.to_string(),
                        uri: uri.to_string(),
                        headers: headers
                            .iter()
                            .map(|(k, v)| {
                                (k.to_string(), v.to_str().unwrap_or_default().to_owned())
                            })
                            .collect(),
                        body: String::from_utf8_lossy(&body).into_owned(),
                    });
                    tokio::time::sleep(reply.delay).await;
                    let status = StatusCode::from_u16(reply.status).expect("a status");
                    (status, [("content-type", "application/json")], reply.body).into_response()
                }
            }),
        );
        let listener =
            tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind the fake buyer");
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("serve the fake buyer");
        });
        Self { addr, received, task }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn received(&self) -> Vec<ReceivedPing> {
        self.received.lock().unwrap().clone()
    }
}

impl Drop for FakeBuyer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
