//! The delivery log people read: an endpoint's deliveries, newest first, with the last
//! attempt's request and answer; and resending one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::types::Json;
use uuid::Uuid;

use crate::{
    accounts::OrgId,
    db::{Db, with_pool},
};

/// A delivery as the API shows it.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(rename = "WebhookDelivery")]
pub struct DeliveryView {
    /// Also the `Bidline-Delivery` header: the same on every attempt.
    pub id: Uuid,
    pub event: String,
    pub call_id: Uuid,
    /// `pending` (to be sent or sent again), `delivered` or `failed` (gave up).
    pub status: String,
    pub attempts: i64,
    pub last_status_code: Option<i64>,
    pub last_error: Option<String>,
    pub last_latency_ms: Option<i64>,
    #[serde(serialize_with = "crate::time::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize_optional")]
    #[schemars(with = "Option<String>")]
    pub last_attempt_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::time::serialize_optional")]
    #[schemars(with = "Option<String>")]
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub request: RequestView,
    /// The start of the last answer (2 KiB at most).
    pub response: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[schemars(rename = "WebhookRequest")]
pub struct RequestView {
    pub method: String,
    pub url: String,
    /// As configured; Bidline adds `Bidline-Signature`, `Bidline-Delivery`, `Bidline-Event`.
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    event: String,
    call_id: Uuid,
    status: String,
    attempts: i64,
    last_status_code: Option<i64>,
    last_error: Option<String>,
    last_latency_ms: Option<i64>,
    created_at: DateTime<Utc>,
    last_attempt_at: Option<DateTime<Utc>>,
    next_attempt_at: Option<DateTime<Utc>>,
    method: String,
    url: String,
    headers: Json<Vec<(String, String)>>,
    body: Option<String>,
    last_response: Option<String>,
}

/// Up to `limit` of the endpoint's deliveries before the cursor `before`, newest first.
pub async fn list(
    db: &Db,
    org: OrgId,
    webhook: Uuid,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<DeliveryView>, sqlx::Error> {
    let rows: Vec<Row> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT id, event, call_id, status, attempts, last_status_code, last_error, last_latency_ms, \
             created_at, last_attempt_at, next_attempt_at, method, url, headers, body, last_response \
             FROM webhook_deliveries WHERE organization_id = $1 AND webhook_id = $2 \
             AND ($3 IS NULL OR id < $3) ORDER BY id DESC LIMIT $4",
        )
        .bind(org)
        .bind(webhook)
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .map(|r| DeliveryView {
            id: r.id,
            event: r.event,
            call_id: r.call_id,
            status: r.status,
            attempts: r.attempts,
            last_status_code: r.last_status_code,
            last_error: r.last_error,
            last_latency_ms: r.last_latency_ms,
            created_at: r.created_at,
            last_attempt_at: r.last_attempt_at,
            next_attempt_at: r.next_attempt_at,
            request: RequestView {
                method: r.method,
                url: r.url,
                headers: r.headers.0,
                body: r.body,
            },
            response: r.last_response,
        })
        .collect())
}

/// Sends the delivery again now, with the same id, and a new day of retries if it fails;
/// false when the endpoint has no such delivery.
pub async fn resend(
    db: &Db,
    org: OrgId,
    webhook: Uuid,
    delivery: Uuid,
) -> Result<bool, sqlx::Error> {
    let now = Utc::now();
    let done = with_pool!(db, pool => {
        sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = $1, first_attempt_at = NULL \
             WHERE organization_id = $2 AND webhook_id = $3 AND id = $4",
        )
        .bind(now)
        .bind(org)
        .bind(webhook)
        .bind(delivery)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
    })?;
    Ok(done == 1)
}
