//! Members and invitations as the dashboard shows them, and their server functions.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{errors::AppError, roles::Role};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub user_id: String,
    pub email: String,
    pub role: Role,
    /// RFC 3339 UTC.
    pub joined_at: String,
    /// Whether this is the signed-in user.
    pub is_you: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub id: String,
    pub role: Role,
    pub created_at: String,
    pub expires_at: String,
    pub created_by: Option<String>,
}

/// An invitation just made: the only time its link is shown.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedInvitation {
    pub invitation: InvitationView,
    /// `/invite/inv_…`, to be put after the site's origin.
    pub path: String,
}

/// What someone who opens an invite link is invited to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InviteView {
    pub org_name: String,
    pub role: Role,
    pub expires_at: String,
}

#[server(prefix = "/fn", endpoint = "list_members")]
pub async fn list_members() -> Result<Vec<MemberView>, AppError> {
    crate::backend::backend()?.list_members().await
}

#[server(prefix = "/fn", endpoint = "change_member_role")]
pub async fn change_member_role(user_id: String, role: Role) -> Result<(), AppError> {
    crate::backend::backend()?.change_member_role(user_id, role).await
}

#[server(prefix = "/fn", endpoint = "remove_member")]
pub async fn remove_member(user_id: String) -> Result<(), AppError> {
    crate::backend::backend()?.remove_member(user_id).await
}

#[server(prefix = "/fn", endpoint = "list_invitations")]
pub async fn list_invitations() -> Result<Vec<InvitationView>, AppError> {
    crate::backend::backend()?.list_invitations().await
}

#[server(prefix = "/fn", endpoint = "create_invitation")]
pub async fn create_invitation(role: Role) -> Result<CreatedInvitation, AppError> {
    crate::backend::backend()?.create_invitation(role).await
}

#[server(prefix = "/fn", endpoint = "revoke_invitation")]
pub async fn revoke_invitation(id: String) -> Result<(), AppError> {
    crate::backend::backend()?.revoke_invitation(id).await
}

/// The invitation behind a link, or `None` when it is unknown, used, revoked or expired.
#[server(prefix = "/fn", endpoint = "open_invitation")]
pub async fn open_invitation(token: String) -> Result<Option<InviteView>, AppError> {
    crate::backend::backend()?.open_invitation(token).await
}

/// Accepts an invitation: as the signed-in user when `email` is empty, else by signing
/// in (`new_account` false) or creating an account (`new_account` true) with `email`.
#[server(prefix = "/fn", endpoint = "accept_invitation")]
pub async fn accept_invitation(
    token: String,
    email: String,
    password: String,
    new_account: bool,
) -> Result<(), AppError> {
    crate::backend::backend()?.accept_invitation(token, email, password, new_account).await
}
