//! The signed-in user's own settings.

use bidline_app::errors::AppError;

use super::{caller, internal, member};
use crate::{
    accounts::{Permission, users},
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
