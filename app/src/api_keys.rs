//! API keys as the dashboard shows them, and the server functions that manage them.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{errors::AppError, roles::Role};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub key_prefix: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
}

/// A key just created: the only time its secret is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedApiKey {
    pub key: ApiKeyView,
    pub secret: String,
}

#[server(prefix = "/fn", endpoint = "list_api_keys")]
pub async fn list_api_keys() -> Result<Vec<ApiKeyView>, AppError> {
    crate::backend::backend()?.list_api_keys().await
}

#[server(prefix = "/fn", endpoint = "create_api_key")]
pub async fn create_api_key(name: String, role: Role) -> Result<CreatedApiKey, AppError> {
    crate::backend::backend()?.create_api_key(name, role).await
}

#[server(prefix = "/fn", endpoint = "revoke_api_key")]
pub async fn revoke_api_key(id: String) -> Result<(), AppError> {
    crate::backend::backend()?.revoke_api_key(id).await
}
