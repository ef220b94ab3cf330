//! The change history of configuration objects: who changed what, when, from what to
//! what. Written by [`record`] inside the transaction that makes the change, which
//! also moves the routing snapshot's version.

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::{
    accounts::{OrgId, audit::By},
    db::{Db, Tx, with_pool, with_tx},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Created,
    Updated,
    Deleted,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Updated => "updated",
            Self::Deleted => "deleted",
        }
    }
}

/// One change, before it is written.
pub struct Change<'a> {
    pub org: OrgId,
    /// `buyer`, `campaign`, …
    pub kind: &'static str,
    pub object: Uuid,
    pub by: By,
    pub action: Action,
    pub before: Option<&'a Value>,
    pub after: Option<&'a Value>,
}

/// Writes a [`Change`] and bumps the routing configuration's version, in the caller's
/// transaction, so every node rebuilds its routing snapshot after the change commits.
pub async fn record(tx: &mut Tx, change: &Change<'_>) -> Result<(), sqlx::Error> {
    with_tx!(tx, tx => {
        sqlx::query("UPDATE routing_config_version SET version = version + 1 WHERE id = 1")
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "INSERT INTO config_changes \
             (id, organization_id, object_kind, object_id, at, actor_user_id, actor_api_key_id, action, before, after) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(Uuid::now_v7())
        .bind(change.org)
        .bind(change.kind)
        .bind(change.object)
        .bind(Utc::now())
        .bind(change.by.user())
        .bind(change.by.api_key())
        .bind(change.action.as_str())
        .bind(change.before.map(sqlx::types::Json))
        .bind(change.after.map(sqlx::types::Json))
        .execute(&mut **tx)
        .await
        .map(drop)
    })
}

/// A change as the history shows it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Entry {
    pub at: DateTime<Utc>,
    pub actor_email: Option<String>,
    pub actor_api_key: Option<String>,
    pub action: String,
    pub before: Option<sqlx::types::Json<Value>>,
    pub after: Option<sqlx::types::Json<Value>>,
}

/// The object's changes, newest first.
pub async fn of(db: &Db, org: OrgId, kind: &str, object: Uuid) -> Result<Vec<Entry>, sqlx::Error> {
    with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT c.at, u.email AS actor_email, k.name AS actor_api_key, c.action, c.before, c.after \
             FROM config_changes c \
             LEFT JOIN users u ON u.id = c.actor_user_id \
             LEFT JOIN api_keys k ON k.id = c.actor_api_key_id \
             WHERE c.organization_id = $1 AND c.object_kind = $2 AND c.object_id = $3 \
             ORDER BY c.id DESC",
        )
        .bind(org)
        .bind(kind)
        .bind(object)
        .fetch_all(pool)
        .await
    })
}
