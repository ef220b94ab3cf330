//! Invitations: an owner or admin makes a link (random token, role, 7-day expiry); whoever
//! opens it signs up or signs in and becomes a member with that role. A link works
//! once. Only the token's SHA-256 is stored.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{
    AccountError, OrgId, Role, UserId,
    audit::{self, By, insert_event},
    tokens,
};
use crate::db::{Db, with_pool};

pub const TOKEN_PREFIX: &str = "inv_";
pub const LIFETIME: Duration = Duration::days(7);

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Invitation {
    pub id: Uuid,
    pub role: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub created_by_email: Option<String>,
}

/// What the invitee sees before accepting.
#[derive(Clone, Debug)]
pub struct Open {
    pub id: Uuid,
    pub org: OrgId,
    pub org_name: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

/// Creates an invitation and returns it with its token, which is never available again.
pub async fn create(
    db: &Db,
    org: OrgId,
    role: Role,
    by: By,
) -> Result<(Uuid, String), sqlx::Error> {
    let id = Uuid::now_v7();
    let token = tokens::generate(TOKEN_PREFIX);
    let now = Utc::now();
    let event = audit::Event::new(
        org,
        by,
        "invitation.created",
        json!({ "invitation_id": id, "role": role }),
    );
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO invitations (id, organization_id, role, token_hash, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(id)
        .bind(org)
        .bind(role.as_str())
        .bind(tokens::digest(&token))
        .bind(by.user())
        .bind(now)
        .bind(now + LIFETIME)
        .execute(&mut *tx)
        .await?;
        insert_event!(&mut *tx, &event)?;
        tx.commit().await
    })?;
    Ok((id, token))
}

/// The organization's invitations that can still be accepted, newest first.
pub async fn pending(db: &Db, org: OrgId) -> Result<Vec<Invitation>, sqlx::Error> {
    with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT i.id, i.role, i.created_at, i.expires_at, u.email AS created_by_email \
             FROM invitations i LEFT JOIN users u ON u.id = i.created_by \
             WHERE i.organization_id = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL \
               AND i.expires_at > $2 \
             ORDER BY i.id DESC",
        )
        .bind(org)
        .bind(Utc::now())
        .fetch_all(pool)
        .await
    })
}

pub async fn revoke(db: &Db, org: OrgId, id: Uuid, by: By) -> Result<bool, sqlx::Error> {
    let event = audit::Event::new(org, by, "invitation.revoked", json!({ "invitation_id": id }));
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        let revoked = sqlx::query(
            "UPDATE invitations SET revoked_at = $1 \
             WHERE id = $2 AND organization_id = $3 AND accepted_at IS NULL AND revoked_at IS NULL",
        )
        .bind(event.at)
        .bind(id)
        .bind(org)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if revoked {
            insert_event!(&mut *tx, &event)?;
        }
        tx.commit().await?;
        Ok(revoked)
    })
}

/// The invitation behind a token, if it can still be accepted.
pub async fn open(db: &Db, token: &str) -> Result<Option<Open>, sqlx::Error> {
    if !token.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let row: Option<(Uuid, OrgId, String, String, DateTime<Utc>)> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT i.id, i.organization_id, o.name, i.role, i.expires_at \
             FROM invitations i JOIN organizations o ON o.id = i.organization_id \
             WHERE i.token_hash = $1 AND i.accepted_at IS NULL AND i.revoked_at IS NULL \
               AND i.expires_at > $2",
        )
        .bind(tokens::digest(token))
        .bind(Utc::now())
        .fetch_optional(pool)
        .await
    })?;
    Ok(row.and_then(|(id, org, org_name, role, expires_at)| {
        Some(Open { id, org, org_name, role: Role::parse(&role)?, expires_at })
    }))
}

/// Makes `user` a member by the invitation behind `token`, once. A user who is already
/// a member keeps their role; the link is used up either way.
pub async fn accept(
    db: &Db,
    token: &str,
    user: UserId,
    by: By,
) -> Result<Option<OrgId>, AccountError> {
    let Some(invitation) = open(db, token).await? else { return Ok(None) };
    let now = Utc::now();
    let event = audit::Event::new(
        invitation.org,
        by,
        "member.joined",
        json!({ "invitation_id": invitation.id, "user_id": user, "role": invitation.role }),
    );
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        // Claim the link first: of two concurrent acceptances only one updates a row.
        let claimed = sqlx::query(
            "UPDATE invitations SET accepted_at = $1, accepted_by = $2 \
             WHERE id = $3 AND accepted_at IS NULL AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(user)
        .bind(invitation.id)
        .execute(&mut *tx)
        .await?
        .rows_affected()
            == 1;
        if !claimed {
            return Ok(None);
        }
        let member: Option<(String,)> =
            sqlx::query_as("SELECT role FROM memberships WHERE organization_id = $1 AND user_id = $2")
                .bind(invitation.org)
                .bind(user)
                .fetch_optional(&mut *tx)
                .await?;
        if member.is_none() {
            sqlx::query(
                "INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(invitation.org)
            .bind(user)
            .bind(invitation.role.as_str())
            .bind(now)
            .execute(&mut *tx)
            .await?;
            insert_event!(&mut *tx, &event)?;
        }
        tx.commit().await?;
        Ok(Some(invitation.org))
    })
}
