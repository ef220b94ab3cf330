//! API keys: `Authorization: Bearer bl_…` on `/api/v1/*`.
//!
//! A key belongs to one organization and carries a role no higher than its creator's.
//! It is shown once, when created; only its SHA-256 is stored. Revoked keys stay listed
//! (greyed) so the audit trail keeps making sense.
//!
//! A key speaks for the member who made it, never for more than they may do now: its
//! effective role is the lower of its own and its creator's current role, and it stops
//! working (401) once its creator leaves the organization. A key made with another key
//! is the same member's (its `created_by` is that key's creator). Keys made by the
//! operator (`bidline org create`) have no creator and keep their role.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{
    AccountError, OrgId, Role, UserId,
    audit::{self, By, insert_event},
    normalize_name, tokens,
};
use crate::{
    db::{Db, with_pool},
    time::rfc3339,
};

/// Every key starts so, which makes leaked keys easy to find by secret scanners.
pub const KEY_PREFIX: &str = "bl_";
/// Characters of a key kept in clear, so people can tell their keys apart.
const SHOWN_CHARS: usize = 10;
/// `last_used_at` is written at most this often per key, not on every request.
const LAST_USED_GRANULARITY: Duration = Duration::seconds(60);

#[derive(Clone, Debug)]
pub struct ApiKey {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    /// The first characters of the key, e.g. `bl_3kF9aQ2`.
    pub key_prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<&ApiKey> for bidline_app::api_keys::ApiKeyView {
    fn from(key: &ApiKey) -> Self {
        Self {
            id: key.id.to_string(),
            name: key.name.clone(),
            role: key.role,
            key_prefix: key.key_prefix.clone(),
            created_at: rfc3339(key.created_at),
            last_used_at: key.last_used_at.map(rfc3339),
            revoked_at: key.revoked_at.map(rfc3339),
        }
    }
}

/// Who a presented key speaks for.
#[derive(Clone, Debug)]
pub struct KeyIdentity {
    pub key_id: Uuid,
    pub org: OrgId,
    pub org_name: String,
    pub role: Role,
}

/// Creates a key and returns it with its secret, which is never available again.
pub async fn create(
    db: &Db,
    org: OrgId,
    name: &str,
    role: Role,
    by: By,
) -> Result<(ApiKey, String), AccountError> {
    let name = normalize_name("name", name)?;
    let secret = tokens::generate(KEY_PREFIX);
    let key = ApiKey {
        id: Uuid::now_v7(),
        name,
        role,
        key_prefix: secret[..SHOWN_CHARS].to_owned(),
        created_at: Utc::now(),
        last_used_at: None,
        revoked_at: None,
    };
    let event = audit::Event::new(
        org,
        by,
        "api_key.created",
        json!({ "api_key_id": key.id, "name": key.name, "role": role, "key_prefix": key.key_prefix }),
    );
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        // A key made with a key belongs to the member behind that key, so that it goes
        // (or shrinks) with them too.
        let creator = match (by.user(), by.api_key()) {
            (Some(user), _) => Some(user),
            (None, Some(parent)) => sqlx::query_scalar(
                "SELECT created_by FROM api_keys WHERE id = $1 AND organization_id = $2",
            )
            .bind(parent)
            .bind(org)
            .fetch_optional(&mut *tx)
            .await?
            .flatten(),
            (None, None) => None,
        };
        sqlx::query(
            "INSERT INTO api_keys (id, organization_id, name, role, key_prefix, key_hash, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(key.id)
        .bind(org)
        .bind(&key.name)
        .bind(role.as_str())
        .bind(&key.key_prefix)
        .bind(tokens::digest(&secret))
        .bind(creator)
        .bind(key.created_at)
        .execute(&mut *tx)
        .await?;
        insert_event!(&mut *tx, &event)?;
        tx.commit().await
    })?;
    Ok((key, secret))
}

/// The organization and effective role of a live key (the lower of the key's and its
/// creator's current role), or `None` for an unknown or revoked key, or one whose
/// creator is no longer a member.
pub async fn authenticate(db: &Db, presented: &str) -> Result<Option<KeyIdentity>, sqlx::Error> {
    if !presented.starts_with(KEY_PREFIX) {
        return Ok(None);
    }
    #[derive(sqlx::FromRow)]
    struct Live {
        id: Uuid,
        organization_id: OrgId,
        org_name: String,
        role: String,
        created_by: Option<UserId>,
        creator_role: Option<String>,
        last_used_at: Option<DateTime<Utc>>,
    }
    let digest = tokens::digest(presented);
    let live: Option<Live> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT k.id, k.organization_id, o.name AS org_name, k.role, k.created_by, \
             m.role AS creator_role, k.last_used_at \
             FROM api_keys k JOIN organizations o ON o.id = k.organization_id \
             LEFT JOIN memberships m ON m.organization_id = k.organization_id AND m.user_id = k.created_by \
             WHERE k.key_hash = $1 AND k.revoked_at IS NULL",
        )
        .bind(&digest)
        .fetch_optional(pool)
        .await
    })?;
    let Some(Live {
        id: key_id,
        organization_id: org,
        org_name,
        role,
        created_by,
        creator_role,
        last_used_at,
    }) = live
    else {
        return Ok(None);
    };
    let Some(role) = Role::parse(&role) else { return Ok(None) };
    let role = match (created_by, creator_role.as_deref().map(Role::parse)) {
        // The operator's key.
        (None, _) => role,
        (Some(_), Some(Some(creator))) => role.min(creator),
        // The creator left the organization (or holds a role this build does not know).
        (Some(_), _) => return Ok(None),
    };

    let now = Utc::now();
    if last_used_at.is_none_or(|last| now - last >= LAST_USED_GRANULARITY) {
        with_pool!(db, pool => {
            sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(key_id)
                .execute(pool)
                .await
                .map(drop)
        })?;
    }
    Ok(Some(KeyIdentity { key_id, org, org_name, role }))
}

/// Revokes a live key of the organization; `false` when there is none with that id.
pub async fn revoke(db: &Db, org: OrgId, key_id: Uuid, by: By) -> Result<bool, sqlx::Error> {
    let event = audit::Event::new(org, by, "api_key.revoked", json!({ "api_key_id": key_id }));
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        let revoked = sqlx::query(
            "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND organization_id = $3 AND revoked_at IS NULL",
        )
        .bind(event.at)
        .bind(key_id)
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

/// The organization's keys, newest first, revoked ones included.
pub async fn list(db: &Db, org: OrgId) -> Result<Vec<ApiKey>, sqlx::Error> {
    type Row =
        (Uuid, String, String, String, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let rows: Vec<Row> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT id, name, role, key_prefix, created_at, last_used_at, revoked_at \
             FROM api_keys WHERE organization_id = $1 ORDER BY created_at DESC, id DESC",
        )
        .bind(org)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, name, role, key_prefix, created_at, last_used_at, revoked_at)| {
            Some(ApiKey {
                id,
                name,
                role: Role::parse(&role)?,
                key_prefix,
                created_at,
                last_used_at,
                revoked_at,
            })
        })
        .collect())
}
