//! Sign-up, sign-in, sign-out, and switching organizations.

use bidline_app::{
    auth::{OrgChoice, Viewer},
    errors::AppError,
};
use serde_json::json;
use uuid::Uuid;

use super::{Caller, caller, internal, waited};
use crate::{
    accounts::{OrgId, Permission, audit, members, orgs, sign_in},
    http::{AppState, session},
};

pub async fn viewer(state: &AppState) -> Result<Option<Viewer>, AppError> {
    let caller = caller().await?;
    let Some(member) = session::member(&caller.session, &state.db).await.map_err(internal)? else {
        return Ok(None);
    };
    let orgs = members::organizations(&state.db, member.user).await.map_err(internal)?;
    let billing_alert =
        super::billing::alert(state, member.org, member.role.allows(Permission::Own)).await?;
    Ok(Some(Viewer {
        email: member.email,
        org_id: member.org.to_string(),
        org_name: member.org_name,
        role: member.role,
        orgs: orgs
            .into_iter()
            .map(|m| OrgChoice { id: m.org.to_string(), name: m.org_name, role: m.role })
            .collect(),
        billing_alert,
    }))
}

pub async fn signup(
    state: &AppState,
    org_name: String,
    email: String,
    password: String,
) -> Result<(), AppError> {
    let caller = caller().await?;
    state.throttle.attempt(caller.ip, Some(&email)).map_err(waited)?;
    let creator = orgs::Creator::Owner { ip: caller.ip };
    let created = orgs::create_with_owner(&state.db, &org_name, &email, &password, creator).await?;
    start_session(state, &caller, created.owner, created.org).await
}

pub async fn login(state: &AppState, email: String, password: String) -> Result<(), AppError> {
    let caller = caller().await?;
    state.throttle.attempt(caller.ip, Some(&email)).map_err(waited)?;
    let user = sign_in::verify(&state.db, &email, &password, caller.ip)
        .await?
        .ok_or(AppError::BadCredentials)?;
    let first = members::organizations(&state.db, user).await.map_err(internal)?.into_iter().next();
    let Some(first) = first else {
        // A user whose every membership was removed has nothing to sign in to.
        return Err(AppError::BadCredentials);
    };
    start_session(state, &caller, user, first.org).await?;
    let by = caller.by(user);
    audit::record(&state.db, &audit::Event::new(first.org, by, "user.login", json!({})))
        .await
        .map_err(internal)?;
    Ok(())
}

pub(super) async fn start_session(
    state: &AppState,
    caller: &Caller,
    user: crate::accounts::UserId,
    org: OrgId,
) -> Result<(), AppError> {
    let password_changed_at = members::password_changed_at(&state.db, user)
        .await
        .map_err(internal)?
        .ok_or(AppError::SignedOut)?;
    session::sign_in(&caller.session, user, org, password_changed_at).await.map_err(internal)
}

pub async fn logout(_state: &AppState) -> Result<(), AppError> {
    let caller = caller().await?;
    session::sign_out(&caller.session).await.map_err(internal)
}

pub async fn switch_org(state: &AppState, org_id: String) -> Result<(), AppError> {
    let caller = caller().await?;
    let member = session::member(&caller.session, &state.db)
        .await
        .map_err(internal)?
        .ok_or(AppError::SignedOut)?;
    let org = OrgId(org_id.parse::<Uuid>().map_err(|_| AppError::NotFound)?);
    // Only an organization the user belongs to; any other id is simply not found.
    members::member(&state.db, member.user, org)
        .await
        .map_err(internal)?
        .ok_or(AppError::NotFound)?;
    session::switch_org(&caller.session, org).await.map_err(internal)
}
