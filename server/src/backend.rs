//! The server's side of the app's [`Backend`]: what the dashboard's server functions
//! call. The same functions serve the HTTP handlers, so the UI and the API never
//! disagree.

use std::{sync::Arc, time::Duration};

use bidline_app::{backend::Backend, status::SystemStatus};
use chrono::{SecondsFormat, Utc};
use futures::future::BoxFuture;

use crate::{
    db::{Db, nodes::NodeInfo},
    http::AppState,
};

/// A health check that takes longer than this is a failed one: a load balancer must
/// hear "unavailable" promptly, not time out.
const DATABASE_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

pub struct ServerBackend {
    db: Db,
    node: Arc<NodeInfo>,
}

impl ServerBackend {
    pub fn new(state: &AppState) -> Self {
        Self { db: state.db.clone(), node: state.node.clone() }
    }
}

impl Backend for ServerBackend {
    fn system_status(&self) -> BoxFuture<'_, SystemStatus> {
        Box::pin(system_status(&self.db, &self.node))
    }
}

pub async fn system_status(db: &Db, node: &NodeInfo) -> SystemStatus {
    let error = match tokio::time::timeout(DATABASE_CHECK_TIMEOUT, db.ping()).await {
        Ok(Ok(())) => None,
        Ok(Err(error)) => Some(error.to_string()),
        Err(_) => Some(format!("no answer within {} s", DATABASE_CHECK_TIMEOUT.as_secs())),
    };
    if let Some(error) = &error {
        tracing::warn!(database = db.backend().name(), %error, "health check: database unavailable");
    }
    SystemStatus {
        status: if error.is_none() { "ok" } else { "unavailable" }.to_owned(),
        database: db.backend().name().to_owned(),
        error,
        version: node.version.clone(),
        node_id: node.id.to_string(),
        checked_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}
