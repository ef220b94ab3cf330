//! Postback keys: a buyer's credential for `/postback/v1/{key}`. Shown once; only its
//! SHA-256 is kept; revoked keys stay listed. Making and revoking one is audited.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use crate::{
    accounts::{
        OrgId,
        audit::{self, By, insert_event},
        tokens,
    },
    db::{Db, with_pool},
    network::{NetworkError, exists},
};

/// Every key starts so, which makes leaked keys easy to find by secret scanners.
const KEY_PREFIX: &str = "pbk_";
/// Characters of a key kept in clear, so people can tell keys apart.
const SHOWN_CHARS: usize = 11;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema, sqlx::FromRow)]
pub struct PostbackKey {
    pub id: Uuid,
    pub buyer_id: Uuid,
    pub key_prefix: String,
    #[serde(serialize_with = "crate::time::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize_optional")]
    #[schemars(with = "Option<String>")]
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Whose a presented key is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holder {
    pub key_id: Uuid,
    pub org: OrgId,
    pub buyer: Uuid,
    pub key_prefix: String,
}

async fn buyer_of(db: &Db, org: OrgId, buyer: Uuid) -> Result<(), NetworkError> {
    if exists(db, "buyers", org, buyer).await? { Ok(()) } else { Err(NetworkError::NotFound) }
}

/// A new key for the organization's buyer, with its secret (never available again).
pub async fn create(
    db: &Db,
    org: OrgId,
    buyer: Uuid,
    by: By,
) -> Result<(PostbackKey, String), NetworkError> {
    buyer_of(db, org, buyer).await?;
    let secret = tokens::generate(KEY_PREFIX);
    let key = PostbackKey {
        id: Uuid::now_v7(),
        buyer_id: buyer,
        key_prefix: secret[..SHOWN_CHARS].to_owned(),
        created_at: Utc::now(),
        revoked_at: None,
    };
    let event = audit::Event::new(
        org,
        by,
        "postback_key.created",
        json!({ "postback_key_id": key.id, "buyer_id": buyer, "key_prefix": key.key_prefix }),
    );
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO postback_keys (id, organization_id, buyer_id, key_digest, key_prefix, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(key.id)
        .bind(org)
        .bind(buyer)
        .bind(tokens::digest(&secret))
        .bind(&key.key_prefix)
        .bind(key.created_at)
        .execute(&mut *tx)
        .await?;
        insert_event!(&mut *tx, &event)?;
        tx.commit().await
    })?;
    Ok((key, secret))
}

/// The buyer's keys, revoked ones too, oldest first.
pub async fn list(db: &Db, org: OrgId, buyer: Uuid) -> Result<Vec<PostbackKey>, NetworkError> {
    buyer_of(db, org, buyer).await?;
    Ok(with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT id, buyer_id, key_prefix, created_at, revoked_at FROM postback_keys \
             WHERE organization_id = $1 AND buyer_id = $2 ORDER BY id",
        )
        .bind(org)
        .bind(buyer)
        .fetch_all(pool)
        .await
    })?)
}

/// Revokes the buyer's key at once (again is fine).
pub async fn revoke(
    db: &Db,
    org: OrgId,
    buyer: Uuid,
    id: Uuid,
    by: By,
) -> Result<(), NetworkError> {
    let event = audit::Event::new(
        org,
        by,
        "postback_key.revoked",
        json!({ "postback_key_id": id, "buyer_id": buyer }),
    );
    let revoked = with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        let done = sqlx::query(
            "UPDATE postback_keys SET revoked_at = COALESCE(revoked_at, $1) \
             WHERE organization_id = $2 AND buyer_id = $3 AND id = $4",
        )
        .bind(Utc::now())
        .bind(org)
        .bind(buyer)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if done == 1 {
            insert_event!(&mut *tx, &event)?;
        }
        tx.commit().await.map(|()| done)
    })?;
    if revoked == 1 { Ok(()) } else { Err(NetworkError::NotFound) }
}

/// The holder of a live key; `None` for an unknown or revoked one.
pub async fn holder(db: &Db, key: &str) -> Result<Option<Holder>, sqlx::Error> {
    if !key.starts_with(KEY_PREFIX) {
        return Ok(None);
    }
    let found: Option<(Uuid, OrgId, Uuid, String)> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT id, organization_id, buyer_id, key_prefix FROM postback_keys \
             WHERE key_digest = $1 AND revoked_at IS NULL",
        )
        .bind(tokens::digest(key))
        .fetch_optional(pool)
        .await
    })?;
    Ok(found.map(|(key_id, org, buyer, key_prefix)| Holder { key_id, org, buyer, key_prefix }))
}
