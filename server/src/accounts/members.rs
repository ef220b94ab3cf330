//! Members: a user in an organization, with a role; listing them and changing them.

use chrono::{DateTime, Utc};
use serde_json::json;

use super::{
    AccountError, OrgId, Permission, Role, UserId,
    audit::{self, By, insert_event},
};
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

/// A row of the members page.
#[derive(Clone, Debug)]
pub struct Listed {
    pub user: UserId,
    pub email: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

/// The organization's members, by email.
pub async fn list(db: &Db, org: OrgId) -> Result<Vec<Listed>, sqlx::Error> {
    let rows: Vec<(UserId, String, String, DateTime<Utc>)> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT u.id, u.email, m.role, m.created_at FROM memberships m \
             JOIN users u ON u.id = m.user_id \
             WHERE m.organization_id = $1 ORDER BY u.email",
        )
        .bind(org)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|(user, email, role, joined_at)| {
            Some(Listed { user, email, role: Role::parse(&role)?, joined_at })
        })
        .collect())
}

/// A change of one member: a new role, or removal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Role(Role),
    Remove,
}

/// Changes `target`'s membership, by `actor` (a member of the same organization).
/// Only owners touch owners; nobody grants above their own role; the last owner stays.
pub async fn change(
    db: &Db,
    actor: &Member,
    target: UserId,
    change: Change,
    by: By,
) -> Result<(), AccountError> {
    if !actor.role.allows(Permission::Administer) {
        return Err(AccountError::NotAllowed("only owners and admins manage members"));
    }
    let current = member(db, target, actor.org).await?.ok_or(AccountError::NotFound)?;
    let touches_owner = current.role == Role::Owner || change == Change::Role(Role::Owner);
    if touches_owner && actor.role != Role::Owner {
        return Err(AccountError::NotAllowed("only owners change owners"));
    }
    if let Change::Role(role) = change
        && !actor.role.may_grant(role)
    {
        return Err(AccountError::NotAllowed("nobody grants a role above their own"));
    }
    let (action, detail) = match change {
        Change::Role(role) => (
            "member.role_changed",
            json!({ "email": current.email, "from": current.role, "to": role }),
        ),
        Change::Remove => {
            ("member.removed", json!({ "email": current.email, "role": current.role }))
        }
    };
    let event = audit::Event::new(actor.org, by, action, detail);
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        match change {
            Change::Role(role) => {
                sqlx::query("UPDATE memberships SET role = $1 WHERE organization_id = $2 AND user_id = $3")
                    .bind(role.as_str())
                    .bind(actor.org)
                    .bind(target)
                    .execute(&mut *tx)
                    .await?;
            }
            Change::Remove => {
                sqlx::query("DELETE FROM memberships WHERE organization_id = $1 AND user_id = $2")
                    .bind(actor.org)
                    .bind(target)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        // Checked after the change, inside the transaction, so two owners demoting
        // each other at once cannot leave the organization without one.
        let owners: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM memberships WHERE organization_id = $1 AND role = 'owner'",
        )
        .bind(actor.org)
        .fetch_one(&mut *tx)
        .await?;
        if owners == 0 {
            return Err(AccountError::Invalid {
                field: "role",
                message: "is needed: the organization must keep at least one owner".to_owned(),
            });
        }
        insert_event!(&mut *tx, &event)?;
        tx.commit().await?;
        Ok(())
    })
}
