//! A webhook's delivery log for its page and resending from it; a buyer's postback keys.

use bidline_app::{
    errors::AppError,
    roles::Permission,
    webhooks::{CreatedPostbackKey, DeliveryRow, PostbackKeyRow},
};

use super::{caller, internal, member, network::id};
use crate::{
    http::AppState,
    network::resource,
    postbacks::keys::{self, PostbackKey},
    time::rfc3339,
    webhooks::{endpoint::Webhook, log},
};

/// As many as the page shows; the API pages through the rest.
const SHOWN: i64 = 50;

pub async fn deliveries(state: &AppState, webhook: String) -> Result<Vec<DeliveryRow>, AppError> {
    let member = member(state, &caller().await?, Permission::Read).await?;
    let webhook: Webhook = resource::get(&state.db, member.org, id(&webhook)?).await?;
    let deliveries =
        log::list(&state.db, member.org, webhook.id, None, SHOWN).await.map_err(internal)?;
    Ok(deliveries
        .into_iter()
        .map(|d| DeliveryRow {
            id: d.id.to_string(),
            event: d.event,
            call_id: d.call_id.to_string(),
            status: d.status,
            attempts: d.attempts,
            last_status_code: d.last_status_code,
            last_error: d.last_error,
            last_latency_ms: d.last_latency_ms,
            created_at: rfc3339(d.created_at),
            next_attempt_at: d.next_attempt_at.map(rfc3339),
            request_method: d.request.method,
            request_url: d.request.url,
            request_body: d.request.body,
            response: d.response,
        })
        .collect())
}

pub async fn resend(state: &AppState, webhook: String, delivery: String) -> Result<(), AppError> {
    let member = member(state, &caller().await?, Permission::EditConfiguration).await?;
    if log::resend(&state.db, member.org, id(&webhook)?, id(&delivery)?).await.map_err(internal)? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// How long the old secret keeps signing after a rotation from the dashboard.
const OVERLAP: chrono::Duration = chrono::Duration::hours(24);

pub async fn rotate(state: &AppState, webhook: String) -> Result<String, AppError> {
    let caller = caller().await?;
    let member = member(state, &caller, Permission::EditConfiguration).await?;
    let by = caller.by(member.user);
    let rotated =
        crate::webhooks::endpoint::rotate(&state.db, member.org, id(&webhook)?, OVERLAP, by)
            .await?;
    rotated.new_secret.ok_or_else(|| AppError::Internal("a rotation made no secret".into()))
}

fn key_row(key: PostbackKey) -> PostbackKeyRow {
    PostbackKeyRow {
        id: key.id.to_string(),
        key_prefix: key.key_prefix,
        created_at: rfc3339(key.created_at),
        revoked_at: key.revoked_at.map(rfc3339),
    }
}

pub async fn postback_keys(
    state: &AppState,
    buyer: String,
) -> Result<Vec<PostbackKeyRow>, AppError> {
    let member = member(state, &caller().await?, Permission::Read).await?;
    let found = keys::list(&state.db, member.org, id(&buyer)?).await?;
    Ok(found.into_iter().map(key_row).collect())
}

pub async fn create_postback_key(
    state: &AppState,
    buyer: String,
) -> Result<CreatedPostbackKey, AppError> {
    let caller = caller().await?;
    let member = member(state, &caller, Permission::EditConfiguration).await?;
    let (key, secret) =
        keys::create(&state.db, member.org, id(&buyer)?, caller.by(member.user)).await?;
    Ok(CreatedPostbackKey { key: key_row(key), secret })
}

pub async fn revoke_postback_key(
    state: &AppState,
    buyer: String,
    key: String,
) -> Result<(), AppError> {
    let caller = caller().await?;
    let member = member(state, &caller, Permission::EditConfiguration).await?;
    Ok(keys::revoke(&state.db, member.org, id(&buyer)?, id(&key)?, caller.by(member.user)).await?)
}
