//! The signed-in user's own settings, and the organization's (admins).

use leptos::prelude::*;

use crate::errors::AppError;

/// Sets a new password; every other session of the user ends.
#[server(prefix = "/fn", endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    crate::backend::backend()?.change_password(current_password, new_password).await
}

/// The zone the organization's dates (call log, reports) are read in.
#[server(prefix = "/fn", endpoint = "organization_time_zone")]
pub async fn organization_time_zone() -> Result<String, AppError> {
    crate::backend::backend()?.organization_time_zone().await
}

/// Sets the organization's time zone (admins and owners).
#[server(prefix = "/fn", endpoint = "set_organization_time_zone")]
pub async fn set_organization_time_zone(time_zone: String) -> Result<(), AppError> {
    crate::backend::backend()?.set_organization_time_zone(time_zone).await
}
