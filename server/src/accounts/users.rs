//! Users: accounts of their own (for invitees), password changes and operator resets.

use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{
    AccountError, OrgId, UserId,
    audit::{self, By, insert_event},
    normalize_email, passwords,
};
use crate::db::{Db, with_pool};

/// Sets a new password for the user with `email` (the policy applies) and records it
/// in the audit log of each of the user's organizations.
pub async fn reset_password(db: &Db, email: &str, password: &str) -> Result<UserId, AccountError> {
    let email = normalize_email(email)?;
    passwords::check_policy(password, &email)
        .map_err(|e| AccountError::Invalid { field: "password", message: e.to_string() })?;
    let user: Option<(UserId,)> = with_pool!(db, pool => {
        sqlx::query_as("SELECT id FROM users WHERE email = $1").bind(&email).fetch_optional(pool).await
    })?;
    let (user,) = user.ok_or(AccountError::UnknownEmail)?;
    store_password(db, user, &email, password, By::operator(), "user.password_reset").await?;
    Ok(user)
}

/// A new user without an organization: for people who arrive by invitation.
pub async fn create(db: &Db, email: &str, password: &str) -> Result<UserId, AccountError> {
    let email = normalize_email(email)?;
    passwords::check_policy(password, &email)
        .map_err(|e| AccountError::Invalid { field: "password", message: e.to_string() })?;
    let hash = passwords::hash(password).await?;
    let user = UserId(Uuid::now_v7());
    let now = Utc::now();
    let inserted = with_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO users (id, email, password_hash, created_at, password_changed_at) \
             VALUES ($1, $2, $3, $4, $4) ON CONFLICT (email) DO NOTHING",
        )
        .bind(user)
        .bind(&email)
        .bind(&hash)
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected())
    })?;
    if inserted == 0 {
        return Err(AccountError::Invalid {
            field: "email",
            message: "already has an account: sign in with it instead".to_owned(),
        });
    }
    Ok(user)
}

/// Replaces the user's password after checking the current one; returns the new
/// `password_changed_at`, which ends every other session of the user.
pub async fn change_password(
    db: &Db,
    user: UserId,
    current: &str,
    new: &str,
    by: By,
) -> Result<DateTime<Utc>, AccountError> {
    let row: Option<(String, String)> = with_pool!(db, pool => {
        sqlx::query_as("SELECT email, password_hash FROM users WHERE id = $1").bind(user).fetch_optional(pool).await
    })?;
    let (email, hash) = row.ok_or(AccountError::NotFound)?;
    if !passwords::verify(current, &hash).await {
        return Err(AccountError::Invalid {
            field: "current_password",
            message: "is not right".to_owned(),
        });
    }
    passwords::check_policy(new, &email)
        .map_err(|e| AccountError::Invalid { field: "new_password", message: e.to_string() })?;
    store_password(db, user, &email, new, by, "user.password_changed").await
}

/// Hashes and stores a password, and records `action` in each of the user's
/// organizations, in one transaction. Returns the new `password_changed_at`.
async fn store_password(
    db: &Db,
    user: UserId,
    email: &str,
    password: &str,
    by: By,
    action: &'static str,
) -> Result<DateTime<Utc>, AccountError> {
    let hash = passwords::hash(password).await?;
    let now = Utc::now();
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
            .bind(&hash)
            .bind(now)
            .bind(user)
            .execute(&mut *tx)
            .await?;
        let orgs: Vec<(OrgId,)> = sqlx::query_as("SELECT organization_id FROM memberships WHERE user_id = $1")
            .bind(user)
            .fetch_all(&mut *tx)
            .await?;
        for (org,) in orgs {
            let event = audit::Event::new(org, by, action, json!({ "email": email }));
            insert_event!(&mut *tx, &event)?;
        }
        tx.commit().await
    })?;
    Ok(now)
}
