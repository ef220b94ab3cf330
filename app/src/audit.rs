//! The security audit log as the dashboard shows it.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntryView {
    pub id: String,
    pub at: String,
    /// The member's email, the API key's name, or "command line".
    pub actor: String,
    pub action: String,
    /// The event's details as compact JSON.
    pub detail: String,
    pub ip: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditPage {
    pub items: Vec<AuditEntryView>,
    pub next_cursor: Option<String>,
}

/// A page of the audit log, newest first; `cursor` from the previous page.
#[server(prefix = "/fn", endpoint = "list_audit_events")]
pub async fn list_audit_events(cursor: Option<String>) -> Result<AuditPage, AppError> {
    crate::backend::backend()?.list_audit_events(cursor).await
}
