//! The system status shown on the landing page and returned by `GET /healthz`.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Whether this Bidline node can serve: its version and its database's state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SystemStatus {
    /// `"ok"` or `"unavailable"`.
    pub status: String,
    /// `"sqlite"` or `"postgres"`.
    pub database: String,
    /// Why the database is unavailable; absent when it answers.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub error: Option<String>,
    pub version: String,
    /// This process's id in the `nodes` table.
    pub node_id: String,
    /// RFC 3339 UTC time of the check.
    pub checked_at: String,
}

impl SystemStatus {
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }
}

#[server(prefix = "/fn", endpoint = "check_status")]
pub async fn check_status() -> Result<SystemStatus, crate::errors::AppError> {
    Ok(crate::backend::backend()?.system_status().await)
}
