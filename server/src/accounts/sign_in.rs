//! Checking a password at sign-in, with the same cost and answer for an unknown email
//! as for a wrong password, and failed attempts in the audit log.

use serde_json::json;

use super::{
    AccountError, OrgId, UserId,
    audit::{self, Actor, By, insert_event},
    normalize_email, passwords,
};
use crate::db::{Db, with_pool};

/// The user with this email and password, or `None`. Either way it costs one argon2
/// verification; a wrong password for a known user is recorded in each of the user's
/// organizations.
pub async fn verify(
    db: &Db,
    email: &str,
    password: &str,
    ip: Option<std::net::IpAddr>,
) -> Result<Option<UserId>, AccountError> {
    let Ok(email) = normalize_email(email) else {
        passwords::verify_unknown(password).await;
        return Ok(None);
    };
    let row: Option<(UserId, String)> = with_pool!(db, pool => {
        sqlx::query_as("SELECT id, password_hash FROM users WHERE email = $1")
            .bind(&email)
            .fetch_optional(pool)
            .await
    })?;
    let Some((user, hash)) = row else {
        passwords::verify_unknown(password).await;
        return Ok(None);
    };
    if passwords::verify(password, &hash).await {
        return Ok(Some(user));
    }
    let by = By { actor: Actor::User(user), ip };
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        let orgs: Vec<(OrgId,)> = sqlx::query_as("SELECT organization_id FROM memberships WHERE user_id = $1")
            .bind(user)
            .fetch_all(&mut *tx)
            .await?;
        for (org,) in orgs {
            let event = audit::Event::new(org, by, "user.login_failed", json!({ "email": email }));
            insert_event!(&mut *tx, &event)?;
        }
        tx.commit().await
    })?;
    Ok(None)
}
