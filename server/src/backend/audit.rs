//! The audit log page: owners and admins read their organization's log.

use bidline_app::{
    audit::{AuditEntryView, AuditPage},
    errors::AppError,
};
use uuid::Uuid;

use super::{caller, internal, member};
use crate::{
    accounts::{Permission, audit},
    http::AppState,
    time::rfc3339,
};

const PAGE: i64 = 50;

pub async fn list(state: &AppState, cursor: Option<String>) -> Result<AuditPage, AppError> {
    let caller = caller().await?;
    let member = member(state, &caller, Permission::Administer).await?;
    let before = match cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(cursor) => {
            Some(cursor.parse::<Uuid>().map_err(|_| AppError::field("cursor", "is not valid"))?)
        }
        None => None,
    };
    let entries = audit::page(&state.db, member.org, before, PAGE).await.map_err(internal)?;
    let next_cursor =
        (entries.len() as i64 == PAGE).then(|| entries.last().map(|e| e.id.to_string())).flatten();
    let items = entries
        .into_iter()
        .map(|entry| AuditEntryView {
            id: entry.id.to_string(),
            at: rfc3339(entry.at),
            actor: entry
                .actor_email
                .or(entry.actor_api_key.map(|name| format!("API key “{name}”")))
                .unwrap_or_else(|| "command line".to_owned()),
            action: entry.action,
            detail: entry.detail.0.to_string(),
            ip: entry.ip,
        })
        .collect();
    Ok(AuditPage { items, next_cursor })
}
