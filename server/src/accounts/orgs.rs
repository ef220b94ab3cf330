//! Organizations and their owners.

use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::{
    AccountError, OrgId, Role, UserId,
    audit::{self, Actor, By, insert_event},
    normalize_email, normalize_name, passwords,
};
use crate::db::{Db, with_pool};

#[derive(Clone, Copy, Debug)]
pub struct NewOrg {
    pub org: OrgId,
    pub owner: UserId,
}

/// Who creates an organization, for the audit log.
#[derive(Clone, Copy, Debug)]
pub enum Creator {
    /// The command line.
    Operator,
    /// Its owner, signing up from `ip`.
    Owner { ip: Option<std::net::IpAddr> },
}

/// Creates an organization owned by the user with `email`. A new email gets a new user
/// with `password` (which must meet the policy); an existing user must give their
/// current password, and becomes owner of one more organization.
pub async fn create_with_owner(
    db: &Db,
    name: &str,
    email: &str,
    password: &str,
    creator: Creator,
) -> Result<NewOrg, AccountError> {
    let name = normalize_name("name", name)?;
    let email = normalize_email(email)?;
    let existing: Option<(UserId, String)> = with_pool!(db, pool => {
        sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(pool)
            .await
    })?;
    let (owner, password_hash) = match existing {
        Some((user, hash)) => {
            if !passwords::verify(password, &hash).await {
                return Err(AccountError::ExistingUserPassword);
            }
            (user, None)
        }
        None => {
            passwords::check_policy(password, &email)
                .map_err(|e| AccountError::Invalid { field: "password", message: e.to_string() })?;
            (UserId(Uuid::now_v7()), Some(passwords::hash(password).await?))
        }
    };

    let org = OrgId(Uuid::now_v7());
    let now = Utc::now();
    let event = audit::Event::new(
        org,
        match creator {
            Creator::Operator => By::operator(),
            Creator::Owner { ip } => By { actor: Actor::User(owner), ip },
        },
        "organization.created",
        json!({ "name": name, "owner_email": email }),
    );
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        if let Some(hash) = &password_hash {
            sqlx::query(
                "INSERT INTO users (id, email, password_hash, created_at, password_changed_at) \
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(owner)
            .bind(&email)
            .bind(hash)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(org)
            .bind(&name)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO memberships (organization_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(org)
        .bind(owner)
        .bind(Role::Owner.as_str())
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_event!(&mut *tx, &event)?;
        tx.commit().await
    })?;
    Ok(NewOrg { org, owner })
}
