//! The signed-in user's own settings.

use bidline_app::errors::AppError;

use super::{caller, internal, member};
use crate::{
    accounts::{Permission, audit, users},
    db::with_pool,
    http::{AppState, session},
};

/// Changes the password and keeps this session (under a new id); all others end.
pub async fn change_password(
    state: &AppState,
    current: String,
    new: String,
) -> Result<(), AppError> {
    let caller = caller().await?;
    let member = member(state, &caller, Permission::Read).await?;
    let by = caller.by(member.user);
    let changed_at = users::change_password(&state.db, member.user, &current, &new, by).await?;
    session::sign_in(&caller.session, member.user, member.org, changed_at).await.map_err(internal)
}

/// The zone the organization's dates are read in.
pub async fn organization_time_zone(state: &AppState) -> Result<String, AppError> {
    let member = member(state, &caller().await?, Permission::Read).await?;
    crate::calls::query::time_zone(&state.db, member.org).await.map_err(internal)
}

/// Sets the organization's zone (admins), in the audit log.
pub async fn set_organization_time_zone(state: &AppState, zone: String) -> Result<(), AppError> {
    let caller = caller().await?;
    let member = member(state, &caller, Permission::Administer).await?;
    let mut invalid = crate::network::Invalid::default();
    let zone = crate::network::time_zone("time_zone", &zone, &mut invalid);
    if let Err(invalid) = invalid.into_result() {
        return Err(AppError::Invalid(invalid.0));
    }
    with_pool!(&state.db, pool => {
        sqlx::query("UPDATE organizations SET time_zone = $1 WHERE id = $2")
            .bind(&zone)
            .bind(member.org)
            .execute(pool)
            .await
            .map(drop)
    })
    .map_err(internal)?;
    let event = audit::Event::new(
        member.org,
        caller.by(member.user),
        "organization.time_zone_changed",
        serde_json::json!({"time_zone": zone}),
    );
    audit::record(&state.db, &event).await.map_err(internal)
}
