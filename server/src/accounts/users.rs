//! Users: operator password resets.

use chrono::Utc;
use serde_json::json;

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
            let event = audit::Event::new(org, By::operator(), "user.password_reset", json!({ "email": email }));
            insert_event!(&mut *tx, &event)?;
        }
        tx.commit().await
    })?;
    Ok(user)
}
