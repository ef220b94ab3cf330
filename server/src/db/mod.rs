//! The database: one pool, SQLite or PostgreSQL, chosen by the URL.
//!
//! Bidline keeps typed pools ([`Db::Sqlite`], [`Db::Postgres`]) rather than sqlx's `Any`
//! driver, because `Any` cannot carry UUIDs or timestamps. Query code is still written
//! once: [`with_pool!`] expands the same body for each backend, so SQL that fits only one
//! of them fails to compile or fails the tests of the other. Both backends accept `$1`
//! placeholders, which all queries use.
//!
//! Column types per backend: ids are `UUID` (PostgreSQL) / 16-byte `BLOB` (SQLite), times
//! are `TIMESTAMPTZ` / RFC 3339 UTC `TEXT`, money is `BIGINT` / `INTEGER` cents, and
//! every other integer is `BIGINT` too, so it decodes as the `i64` SQLite gives. The
//! `migrations_match_on_both_backends` test keeps the two migration sets equivalent.

pub mod batch;
pub mod checkpoints;
pub mod chunks;
pub mod nodes;
pub mod url;

use std::{str::FromStr, time::Duration};

use sqlx::{
    ConnectOptions, PgPool, SqlitePool,
    postgres::{PgConnectOptions, PgPoolOptions},
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

pub use self::url::DatabaseUrl;

/// How long a query may wait for a free connection before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a writer's try waits for a connection to PostgreSQL (see [`Db::for_writer`]).
const WRITER_ACQUIRE_TIMEOUT: Duration = Duration::from_millis(500);
/// How long SQLite waits on a lock held by another writer.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// SQLite copies the WAL into the database once it holds this many pages (about 40 MB):
/// the writer's batches each dirty a few MB, and at SQLite's default of 1,000 pages
/// nearly every commit copied the indexes' hot pages again (seeding a million calls took
/// 15 % longer).
const SQLITE_CHECKPOINT_PAGES: &str = "10000";
/// Where SQLite keeps its temporary files: statement journals above all. Every statement
/// that may fail halfway inside a transaction (an upsert, a CHECK) first copies each page
/// it changes to one, and past 64 KiB SQLite spills that journal to a file in /var/tmp:
/// the writer's multi-row statements, each scattering a hundred callers over the
/// `calls_caller` index, wrote more to those files than to the WAL (seeding a million
/// calls: 945 MB of 2.4 GB written per 100,000 calls). A statement's journal is bounded by
/// what the statement changes, so memory is safe.
const SQLITE_TEMP_STORE: &str = "memory";
/// The batch writer's page cache, in KiB (negative: SQLite's unit for a size): the hot
/// pages of the calls' indexes, `calls_caller` above all, whose inserts land anywhere.
const SQLITE_WRITER_CACHE: &str = "-65536";
/// Statements slower than this are logged as warnings. sqlx's default (1 s) flags
/// SQLite's first `PRAGMA journal_mode = WAL` whenever the disk is busy, which is noise
/// (and a second line on stderr of a CLI command that must print one).
const SLOW_STATEMENT: Duration = Duration::from_secs(5);

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid --database-url (DATABASE_URL): {0}")]
    Url(#[source] sqlx::Error),
    #[error("cannot create the folder {path} for the SQLite database: {source}")]
    Folder {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot connect to the {backend} database at {url}: {source}")]
    Connect {
        backend: &'static str,
        url: DatabaseUrl,
        #[source]
        source: sqlx::Error,
    },
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Runs `$body` with `$pool` bound to the concrete pool of `$db`, once per backend.
macro_rules! with_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Sqlite($pool) => $body,
            $crate::db::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// An open transaction of either backend, for code that writes through several
/// functions before it commits.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

/// Runs `$body` with `$tx` bound to the concrete transaction behind `$txn` (a `&mut Tx`),
/// once per backend.
macro_rules! with_tx {
    ($txn:expr, $tx:ident => $body:expr) => {
        match $txn {
            $crate::db::Tx::Sqlite($tx) => $body,
            $crate::db::Tx::Postgres($tx) => $body,
        }
    };
}
pub(crate) use with_tx;

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Sqlite(tx) => tx.commit().await,
            Self::Postgres(tx) => tx.commit().await,
        }
    }
}

impl Db {
    /// Opens a pool. SQLite gets its file (and folder) created, WAL journaling, foreign
    /// keys enforced and a busy timeout; PostgreSQL is used as configured by the URL.
    pub async fn connect(url: &DatabaseUrl) -> Result<Self, DbError> {
        let connect_error = |backend: Backend| {
            let url = url.clone();
            move |source| DbError::Connect { backend: backend.name(), url, source }
        };
        match url {
            DatabaseUrl::Sqlite(raw) => {
                let options = SqliteConnectOptions::from_str(raw)
                    .map_err(DbError::Url)?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .pragma("wal_autocheckpoint", SQLITE_CHECKPOINT_PAGES)
                    .pragma("temp_store", SQLITE_TEMP_STORE)
                    .log_slow_statements(log::LevelFilter::Warn, SLOW_STATEMENT);
                create_parent_folder(options.get_filename())?;
                let pool = SqlitePoolOptions::new()
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await
                    .map_err(connect_error(Backend::Sqlite))?;
                Ok(Self::Sqlite(pool))
            }
            DatabaseUrl::Postgres(raw) => {
                let options = PgConnectOptions::from_str(raw)
                    .map_err(DbError::Url)?
                    .log_slow_statements(log::LevelFilter::Warn, SLOW_STATEMENT);
                let pool = PgPoolOptions::new()
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_with(options)
                    .await
                    .map_err(connect_error(Backend::Postgres))?;
                Ok(Self::Postgres(pool))
            }
        }
    }

    /// A pool of its own for a batch writer: on PostgreSQL, one that notices at once that
    /// the server cannot be reached (rather than wait [`ACQUIRE_TIMEOUT`] per try) and that
    /// requests cannot starve; on SQLite, one connection kept open with a large page cache.
    /// SQLite empties a connection's cache whenever another connection has written, so a
    /// writer taking turns with the request pool's connections read every index page its
    /// batch touched again (1.5 GB of reads per 100,000 seeded calls); its own connection
    /// finds them still cached. Whoever takes one closes it when done with it.
    pub fn for_writer(&self) -> Db {
        match self {
            Self::Sqlite(pool) => Self::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .connect_lazy_with(
                        (*pool.connect_options()).clone().pragma("cache_size", SQLITE_WRITER_CACHE),
                    ),
            ),
            Self::Postgres(pool) => Self::Postgres(
                PgPoolOptions::new()
                    .max_connections(4)
                    .acquire_timeout(WRITER_ACQUIRE_TIMEOUT)
                    .connect_lazy_with((*pool.connect_options()).clone()),
            ),
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the migrations of this backend that the database has not seen yet.
    pub async fn migrate(&self) -> Result<(), DbError> {
        match self {
            Self::Sqlite(pool) => sqlx::migrate!("../migrations/sqlite").run(pool).await?,
            Self::Postgres(pool) => sqlx::migrate!("../migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Self::Sqlite(pool) => Tx::Sqlite(pool.begin().await?),
            Self::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    /// One round trip to the database.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        with_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(drop))
    }

    /// Waits for queries in flight, then closes every connection (SQLite checkpoints
    /// its WAL on the last close).
    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}

fn create_parent_folder(file: &std::path::Path) -> Result<(), DbError> {
    let in_memory = file.as_os_str() == ":memory:" || file.to_string_lossy().starts_with("file:");
    match file.parent() {
        Some(folder) if !in_memory && !folder.as_os_str().is_empty() => {
            std::fs::create_dir_all(folder)
                .map_err(|source| DbError::Folder { path: folder.display().to_string(), source })
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
pub mod testing {
    //! Databases for tests: SQLite always, PostgreSQL too when `TEST_DATABASE_URL` is set.

    use bidline_tests::TestDatabase;

    use super::DatabaseUrl;
    use super::Db;

    /// A migrated database of every backend under test, each new and private to the caller.
    pub async fn migrated_databases() -> Vec<(TestDatabase, Db)> {
        let mut databases = Vec::new();
        for test_db in TestDatabase::all().await {
            let url = DatabaseUrl::parse(test_db.url()).expect("test database URL");
            let db = Db::connect(&url).await.expect("connect to the test database");
            db.migrate().await.expect("migrate the test database");
            databases.push((test_db, db));
        }
        databases
    }
}
