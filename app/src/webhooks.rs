//! A webhook's delivery log as its page shows it, resending a delivery, and the
//! postback keys a buyer reports sales with.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::errors::AppError;

/// One delivery and its last attempt.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRow {
    pub id: String,
    pub event: String,
    pub call_id: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub last_latency_ms: Option<i64>,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub next_attempt_at: Option<String>,
    pub request_method: String,
    pub request_url: String,
    pub request_body: Option<String>,
    pub response: Option<String>,
}

/// The webhook's latest deliveries, newest first.
#[server(prefix = "/fn", endpoint = "webhook_deliveries")]
pub async fn webhook_deliveries(webhook_id: String) -> Result<Vec<DeliveryRow>, AppError> {
    crate::backend::backend()?.webhook_deliveries(webhook_id).await
}

/// Sends the delivery again now, with the same id.
#[server(prefix = "/fn", endpoint = "resend_delivery")]
pub async fn resend_delivery(webhook_id: String, delivery_id: String) -> Result<(), AppError> {
    crate::backend::backend()?.resend_delivery(webhook_id, delivery_id).await
}

/// One of a buyer's postback keys.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostbackKeyRow {
    pub id: String,
    pub key_prefix: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// A key just made: the only time it is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedPostbackKey {
    pub key: PostbackKeyRow,
    pub secret: String,
}

#[server(prefix = "/fn", endpoint = "list_postback_keys")]
pub async fn list_postback_keys(buyer_id: String) -> Result<Vec<PostbackKeyRow>, AppError> {
    crate::backend::backend()?.list_postback_keys(buyer_id).await
}

#[server(prefix = "/fn", endpoint = "create_postback_key")]
pub async fn create_postback_key(buyer_id: String) -> Result<CreatedPostbackKey, AppError> {
    crate::backend::backend()?.create_postback_key(buyer_id).await
}

#[server(prefix = "/fn", endpoint = "revoke_postback_key")]
pub async fn revoke_postback_key(buyer_id: String, key_id: String) -> Result<(), AppError> {
    crate::backend::backend()?.revoke_postback_key(buyer_id, key_id).await
}

/// A new signing secret for the webhook (shown this once); the old one keeps signing
/// beside it for a day.
#[server(prefix = "/fn", endpoint = "rotate_webhook_secret")]
pub async fn rotate_webhook_secret(webhook_id: String) -> Result<String, AppError> {
    crate::backend::backend()?.rotate_webhook_secret(webhook_id).await
}
