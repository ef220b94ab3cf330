//! API keys from the dashboard: owners and admins list, create and revoke them.

use bidline_app::{
    api_keys::{ApiKeyView, CreatedApiKey},
    errors::AppError,
    roles::Role,
};
use uuid::Uuid;

use super::{caller, internal, member};
use crate::{
    accounts::{Permission, api_keys},
    http::AppState,
};

pub async fn list(state: &AppState) -> Result<Vec<ApiKeyView>, AppError> {
    let caller = caller().await?;
    let member = member(state, &caller, Permission::Administer).await?;
    Ok(api_keys::list(&state.db, member.org)
        .await
        .map_err(internal)?
        .iter()
        .map(ApiKeyView::from)
        .collect())
}

pub async fn create(state: &AppState, name: String, role: Role) -> Result<CreatedApiKey, AppError> {
    let caller = caller().await?;
    let member = member(state, &caller, Permission::Administer).await?;
    if !member.role.may_grant(role) {
        return Err(AppError::field(
            "role",
            format!("is above what you may grant ({})", member.role),
        ));
    }
    let by = caller.by(member.user);
    let (key, secret) = api_keys::create(&state.db, member.org, &name, role, by).await?;
    Ok(CreatedApiKey { key: ApiKeyView::from(&key), secret })
}

pub async fn revoke(state: &AppState, id: String) -> Result<(), AppError> {
    let caller = caller().await?;
    let member = member(state, &caller, Permission::Administer).await?;
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let by = caller.by(member.user);
    if api_keys::revoke(&state.db, member.org, id, by).await.map_err(internal)? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}
