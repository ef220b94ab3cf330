//! The signed-in user's own settings.

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
