//! The security audit log of an organization: sign-ins and failed sign-ins, API keys
//! created and revoked, members and roles changed. Append-only; owners and admins
//! read it.
//!
//! An event is written in the same transaction as the change it records
//! ([`insert_event!`]), so there is never a change without its entry.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::{OrgId, UserId};
use crate::db::{Db, with_pool};

/// Who did it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    User(UserId),
    ApiKey(Uuid),
    /// Someone with shell access, through the `bidline` command line.
    Operator,
}

/// Who did it, and from where.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct By {
    pub actor: Actor,
    /// The client's address; `None` for the command line.
    pub ip: Option<IpAddr>,
}

impl By {
    pub fn operator() -> Self {
        Self { actor: Actor::Operator, ip: None }
    }

    pub fn user(&self) -> Option<UserId> {
        match self.actor {
            Actor::User(user) => Some(user),
            _ => None,
        }
    }

    pub fn api_key(&self) -> Option<Uuid> {
        match self.actor {
            Actor::ApiKey(key) => Some(key),
            _ => None,
        }
    }
}

#[derive(Clone, Debug)]
pub struct Event {
    pub id: Uuid,
    pub org: OrgId,
    pub at: DateTime<Utc>,
    pub by: By,
    /// Dotted name, e.g. `member.role_changed`.
    pub action: &'static str,
    pub detail: Value,
}

impl Event {
    pub fn new(org: OrgId, by: By, action: &'static str, detail: Value) -> Self {
        Self { id: Uuid::now_v7(), org, at: Utc::now(), by, action, detail }
    }
}

/// Inserts an [`Event`] with any executor (a pool or an open transaction).
macro_rules! insert_event {
    ($executor:expr, $event:expr) => {{
        let event: &$crate::accounts::audit::Event = $event;
        sqlx::query(
            "INSERT INTO audit_events \
             (id, organization_id, at, actor_user_id, actor_api_key_id, action, detail, ip) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(event.id)
        .bind(event.org)
        .bind(event.at)
        .bind(event.by.user())
        .bind(event.by.api_key())
        .bind(event.action)
        .bind(sqlx::types::Json(&event.detail))
        .bind(event.by.ip.map(|ip| ip.to_string()))
        .execute($executor)
        .await
        .map(drop)
    }};
}
pub(crate) use insert_event;

pub async fn record(db: &Db, event: &Event) -> Result<(), sqlx::Error> {
    with_pool!(db, pool => insert_event!(pool, event))
}

/// One entry as the audit page and API show it.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Entry {
    pub id: Uuid,
    pub at: DateTime<Utc>,
    pub actor_email: Option<String>,
    pub actor_api_key: Option<String>,
    pub action: String,
    pub detail: sqlx::types::Json<Value>,
    pub ip: Option<String>,
}

/// Up to `limit` entries of the organization older than `before`, newest first (ids are
/// UUIDv7, so their order is the order of events).
pub async fn page(
    db: &Db,
    org: OrgId,
    before: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Entry>, sqlx::Error> {
    with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT e.id, e.at, u.email AS actor_email, k.name AS actor_api_key, e.action, e.detail, e.ip \
             FROM audit_events e \
             LEFT JOIN users u ON u.id = e.actor_user_id \
             LEFT JOIN api_keys k ON k.id = e.actor_api_key_id \
             WHERE e.organization_id = $1 AND ($2 IS NULL OR e.id < $2) \
             ORDER BY e.id DESC LIMIT $3",
        )
        .bind(org)
        .bind(before)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}
