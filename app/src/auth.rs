//! Who is signed in, and the server functions that sign people up, in and out.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{errors::AppError, roles::Role};

/// The signed-in user, in their current organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    pub email: String,
    pub org_id: String,
    pub org_name: String,
    pub role: Role,
    /// Every organization the user belongs to, for the switcher.
    pub orgs: Vec<OrgChoice>,
    /// What owners must know about the bill (past due; calls turned away), if anything.
    pub billing_alert: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgChoice {
    pub id: String,
    pub name: String,
    pub role: Role,
}

/// The signed-in user, or `None`.
#[server(prefix = "/fn", endpoint = "current_viewer")]
pub async fn current_viewer() -> Result<Option<Viewer>, AppError> {
    crate::backend::backend()?.viewer().await
}

/// Creates an organization and its owner, and signs the owner in.
#[server(prefix = "/fn", endpoint = "signup")]
pub async fn signup(org_name: String, email: String, password: String) -> Result<(), AppError> {
    crate::backend::backend()?.signup(org_name, email, password).await
}

#[server(prefix = "/fn", endpoint = "login")]
pub async fn login(email: String, password: String) -> Result<(), AppError> {
    crate::backend::backend()?.login(email, password).await
}

#[server(prefix = "/fn", endpoint = "logout")]
pub async fn logout() -> Result<(), AppError> {
    crate::backend::backend()?.logout().await
}

/// Makes another of the user's organizations the current one.
#[server(prefix = "/fn", endpoint = "switch_org")]
pub async fn switch_org(org_id: String) -> Result<(), AppError> {
    crate::backend::backend()?.switch_org(org_id).await
}
