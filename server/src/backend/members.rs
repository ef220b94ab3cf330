//! Members and invitations from the dashboard, and joining by an invite link.

use bidline_app::{
    errors::AppError,
    members::{CreatedInvitation, InvitationView, InviteView, MemberView},
    roles::Role,
};
use uuid::Uuid;

use super::{caller, internal, member, waited};
use crate::{
    accounts::{
        Permission, UserId, invitations,
        members::{self, Change},
        sign_in, users,
    },
    http::{AppState, session},
    time::rfc3339,
};

pub async fn list(state: &AppState) -> Result<Vec<MemberView>, AppError> {
    let caller = caller().await?;
    let member = member(state, &caller, Permission::Administer).await?;
    let listed = members::list(&state.db, member.org).await.map_err(internal)?;
    Ok(listed
        .into_iter()
        .map(|m| MemberView {
            user_id: m.user.to_string(),
            email: m.email,
            role: m.role,
            joined_at: rfc3339(m.joined_at),
            is_you: m.user == member.user,
        })
        .collect())
}

pub async fn change(state: &AppState, user_id: String, change: Change) -> Result<(), AppError> {
    let caller = caller().await?;
    let member = member(state, &caller, Permission::Administer).await?;
    let target = UserId(user_id.parse::<Uuid>().map_err(|_| AppError::NotFound)?);
    let by = caller.by(member.user);
    members::change(&state.db, &member, target, change, by).await?;
    Ok(())
}

fn invitation_view(invitation: invitations::Invitation) -> Option<InvitationView> {
    Some(InvitationView {
        id: invitation.id.to_string(),
        role: Role::parse(&invitation.role)?,
        created_at: rfc3339(invitation.created_at),
        expires_at: rfc3339(invitation.expires_at),
        created_by: invitation.created_by_email,
    })
}

pub async fn list_invitations(state: &AppState) -> Result<Vec<InvitationView>, AppError> {
    let caller = caller().await?;
    let member = member(state, &caller, Permission::Administer).await?;
    let pending = invitations::pending(&state.db, member.org).await.map_err(internal)?;
    Ok(pending.into_iter().filter_map(invitation_view).collect())
}

pub async fn create_invitation(
    state: &AppState,
    role: Role,
) -> Result<CreatedInvitation, AppError> {
    let caller = caller().await?;
    let member = member(state, &caller, Permission::Administer).await?;
    if !member.role.may_grant(role) {
        return Err(AppError::field(
            "role",
            format!("is above what you may grant ({})", member.role),
        ));
    }
    let by = caller.by(member.user);
    let (id, token) =
        invitations::create(&state.db, member.org, role, by).await.map_err(internal)?;
    let now = chrono::Utc::now();
    Ok(CreatedInvitation {
        invitation: InvitationView {
            id: id.to_string(),
            role,
            created_at: rfc3339(now),
            expires_at: rfc3339(now + invitations::LIFETIME),
            created_by: Some(member.email),
        },
        path: format!("/invite/{token}"),
    })
}

pub async fn revoke_invitation(state: &AppState, id: String) -> Result<(), AppError> {
    let caller = caller().await?;
    let member = member(state, &caller, Permission::Administer).await?;
    let id: Uuid = id.parse().map_err(|_| AppError::NotFound)?;
    let by = caller.by(member.user);
    if invitations::revoke(&state.db, member.org, id, by).await.map_err(internal)? {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

pub async fn open_invitation(
    state: &AppState,
    token: String,
) -> Result<Option<InviteView>, AppError> {
    let open = invitations::open(&state.db, &token).await.map_err(internal)?;
    Ok(open.map(|open| InviteView {
        org_name: open.org_name,
        role: open.role,
        expires_at: rfc3339(open.expires_at),
    }))
}

pub async fn accept_invitation(
    state: &AppState,
    token: String,
    email: String,
    password: String,
    new_account: bool,
) -> Result<(), AppError> {
    let caller = caller().await?;
    let user = if email.trim().is_empty() {
        let signed_in = session::member(&caller.session, &state.db).await.map_err(internal)?;
        signed_in.ok_or(AppError::SignedOut)?.user
    } else {
        state.throttle.attempt(caller.ip, Some(&email)).map_err(waited)?;
        // Nothing is created for a link that no longer works.
        invitations::open(&state.db, &token).await.map_err(internal)?.ok_or(AppError::NotFound)?;
        if new_account {
            users::create(&state.db, &email, &password).await?
        } else {
            sign_in::verify(&state.db, &email, &password, caller.ip)
                .await?
                .ok_or(AppError::BadCredentials)?
        }
    };
    let by = caller.by(user);
    let org = invitations::accept(&state.db, &token, user, by).await?.ok_or(AppError::NotFound)?;
    super::auth::start_session(state, &caller, user, org).await
}
