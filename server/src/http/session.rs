//! Dashboard sessions: `tower-sessions` with the session rows in our own database.
//!
//! The cookie (`bidline_session`) is `HttpOnly`, `SameSite=Lax`, and `Secure` when
//! `--secure-cookies` says the site is served over TLS. A session ends after 12 hours
//! without use, 7 days after sign-in whatever the use, and at once when the user's
//! password changes. Its id is replaced at sign-in and whenever the organization (and so
//! the role) changes, so an id seen before cannot ride a new privilege.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tower_sessions::{
    Expiry, Session, SessionManagerLayer, SessionStore,
    cookie::{SameSite, time},
    session::{Id, Record},
    session_store::{self, ExpiredDeletion},
};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};
use uuid::Uuid;

use crate::{
    accounts::{OrgId, UserId, members},
    db::Db,
};

const COOKIE: &str = "bidline_session";
const IDLE: time::Duration = time::Duration::hours(12);
const ABSOLUTE: chrono::Duration = chrono::Duration::days(7);
const CLEANUP_INTERVAL: Duration = Duration::from_secs(600);
/// The key of [`SignedIn`] in the session's data.
const KEY: &str = "signed_in";

/// The session store of whichever backend the database is; the tables are created by
/// our migrations (`sessions`), never by the store.
#[derive(Clone, Debug)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

impl Store {
    pub fn new(db: &Db) -> Self {
        let named = "a valid table name";
        match db {
            Db::Sqlite(pool) => Self::Sqlite(
                SqliteStore::new(pool.clone()).with_table_name("sessions").expect(named),
            ),
            Db::Postgres(pool) => Self::Postgres(
                PostgresStore::new(pool.clone())
                    .with_schema_name("public")
                    .expect(named)
                    .with_table_name("sessions")
                    .expect(named),
            ),
        }
    }

    /// Deletes expired sessions now and every ten minutes.
    pub fn spawn_cleanup(&self, tasks: &crate::tasks::Tasks) {
        let store = self.clone();
        tasks.spawn("session cleanup", async move {
            let mut tick = tokio::time::interval(CLEANUP_INTERVAL);
            loop {
                tick.tick().await;
                if let Err(error) = store.delete_expired().await {
                    tracing::warn!(%error, "could not delete expired sessions");
                }
            }
        });
    }
}

macro_rules! each_store {
    ($store:expr, $inner:ident => $body:expr) => {
        match $store {
            Store::Sqlite($inner) => $body,
            Store::Postgres($inner) => $body,
        }
    };
}

#[async_trait]
impl SessionStore for Store {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        each_store!(self, store => store.create(record).await)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        each_store!(self, store => store.save(record).await)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        each_store!(self, store => store.load(id).await)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        each_store!(self, store => store.delete(id).await)
    }
}

#[async_trait]
impl ExpiredDeletion for Store {
    async fn delete_expired(&self) -> session_store::Result<()> {
        each_store!(self, store => store.delete_expired().await)
    }
}

pub fn layer(store: Store, secure: bool) -> SessionManagerLayer<Store> {
    SessionManagerLayer::new(store)
        .with_name(COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(secure)
        .with_expiry(Expiry::OnInactivity(IDLE))
}

/// What a session remembers of its user.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct SignedIn {
    user: Uuid,
    org: Uuid,
    at: DateTime<Utc>,
    /// The user's `password_changed_at` at sign-in: a later change ends the session.
    password_changed_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("session store: {0}")]
    Store(#[from] tower_sessions::session::Error),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Starts a signed-in session in `org` under a new session id.
pub async fn sign_in(
    session: &Session,
    user: UserId,
    org: OrgId,
    password_changed_at: DateTime<Utc>,
) -> Result<(), SessionError> {
    session.cycle_id().await?;
    let signed_in = SignedIn { user: user.0, org: org.0, at: Utc::now(), password_changed_at };
    session.insert(KEY, signed_in).await?;
    Ok(())
}

/// Moves the session to another organization of its user, under a new session id.
pub async fn switch_org(session: &Session, org: OrgId) -> Result<(), SessionError> {
    if let Some(mut signed_in) = session.get::<SignedIn>(KEY).await? {
        signed_in.org = org.0;
        session.cycle_id().await?;
        session.insert(KEY, signed_in).await?;
    }
    Ok(())
}

pub async fn sign_out(session: &Session) -> Result<(), SessionError> {
    session.flush().await?;
    Ok(())
}

/// The member this session speaks for, or `None` when no one is signed in, the session
/// outlived its absolute limit, the password changed since, or the membership is gone
/// (then the session moves to the user's first other organization, if any).
pub async fn member(session: &Session, db: &Db) -> Result<Option<members::Member>, SessionError> {
    let Some(signed_in) = session.get::<SignedIn>(KEY).await? else { return Ok(None) };
    if Utc::now() - signed_in.at > ABSOLUTE {
        sign_out(session).await?;
        return Ok(None);
    }
    let user = UserId(signed_in.user);
    let Some(password_changed_at) = members::password_changed_at(db, user).await? else {
        sign_out(session).await?;
        return Ok(None);
    };
    if password_changed_at.timestamp_micros() != signed_in.password_changed_at.timestamp_micros() {
        sign_out(session).await?;
        return Ok(None);
    }
    if let Some(member) = members::member(db, user, OrgId(signed_in.org)).await? {
        return Ok(Some(member));
    }
    match members::organizations(db, user).await?.first() {
        Some(other) => {
            switch_org(session, other.org).await?;
            Ok(members::member(db, user, other.org).await?)
        }
        None => {
            sign_out(session).await?;
            Ok(None)
        }
    }
}
