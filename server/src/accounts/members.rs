//! Members: a user in an organization, with a role.

use chrono::{DateTime, Utc};

use super::{OrgId, Role, UserId};
use crate::db::{Db, with_pool};

#[derive(Clone, Debug)]
pub struct Member {
    pub user: UserId,
    pub email: String,
    pub org: OrgId,
    pub org_name: String,
    pub role: Role,
}

/// One of a user's organizations.
#[derive(Clone, Debug)]
pub struct Membership {
    pub org: OrgId,
    pub org_name: String,
    pub role: Role,
}

#[derive(sqlx::FromRow)]
struct MemberRow {
    email: String,
    org_name: String,
    role: String,
}

pub async fn member(db: &Db, user: UserId, org: OrgId) -> Result<Option<Member>, sqlx::Error> {
    let row: Option<MemberRow> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT u.email, o.name AS org_name, m.role \
             FROM memberships m \
             JOIN users u ON u.id = m.user_id \
             JOIN organizations o ON o.id = m.organization_id \
             WHERE m.user_id = $1 AND m.organization_id = $2",
        )
        .bind(user)
        .bind(org)
        .fetch_optional(pool)
        .await
    })?;
    Ok(row.and_then(|row| {
        Some(Member {
            user,
            email: row.email,
            org,
            org_name: row.org_name,
            role: Role::parse(&row.role)?,
        })
    }))
}

/// The user's organizations, by name.
pub async fn organizations(db: &Db, user: UserId) -> Result<Vec<Membership>, sqlx::Error> {
    let rows: Vec<(OrgId, String, String)> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT o.id, o.name, m.role FROM memberships m \
             JOIN organizations o ON o.id = m.organization_id \
             WHERE m.user_id = $1 ORDER BY o.name, o.id",
        )
        .bind(user)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|(org, org_name, role)| {
            Some(Membership { org, org_name, role: Role::parse(&role)? })
        })
        .collect())
}

/// When the user last set their password; `None` for an unknown user.
pub async fn password_changed_at(
    db: &Db,
    user: UserId,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    with_pool!(db, pool => {
        sqlx::query_scalar("SELECT password_changed_at FROM users WHERE id = $1")
            .bind(user)
            .fetch_optional(pool)
            .await
    })
}
