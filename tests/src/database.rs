//! A fresh database per test, so tests run in parallel without seeing each other.
//!
//! SQLite: a file in a temporary folder. PostgreSQL (when `TEST_DATABASE_URL` points
//! at a server): a new database on that server, dropped when the test is done.

use std::str::FromStr;

use sqlx::{Connection, Executor, postgres::PgConnection};
use tempfile::TempDir;

use crate::cluster::Cluster;

pub enum TestDatabase {
    Sqlite {
        _folder: TempDir,
        url: String,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
    },
    /// A PostgreSQL server of the test's own, which it may stop and start.
    Cluster {
        cluster: Cluster,
        url: String,
    },
}

impl TestDatabase {
    /// A new SQLite database file (not created until Bidline opens it).
    pub fn sqlite() -> Self {
        let folder = tempfile::tempdir().expect("create a temporary folder");
        let url = format!("sqlite://{}", folder.path().join("data/bidline.db").display());
        Self::Sqlite { _folder: folder, url }
    }

    /// A new, empty PostgreSQL database, or `None` when `TEST_DATABASE_URL` is unset.
    /// Under CI (`CI=true`) an unset `TEST_DATABASE_URL` is a failure: CI must test
    /// both backends.
    pub async fn postgres() -> Option<Self> {
        let Ok(admin_url) = std::env::var("TEST_DATABASE_URL") else {
            assert!(
                std::env::var("CI").is_err(),
                "CI is set but TEST_DATABASE_URL is not: the PostgreSQL tests must run in CI"
            );
            eprintln!("TEST_DATABASE_URL is unset: testing SQLite only");
            return None;
        };
        let name = format!("bidline_test_{}", uuid::Uuid::now_v7().simple());
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("connect to TEST_DATABASE_URL: {e}"));
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create the test database");
        admin.close().await.ok();
        let mut url = url::Url::from_str(&admin_url).expect("TEST_DATABASE_URL is a URL");
        url.set_path(&name);
        Some(Self::Postgres { admin_url, name, url: url.into() })
    }

    /// The `postgres` database of a PostgreSQL server of the test's own.
    pub fn cluster() -> Self {
        let cluster = Cluster::start();
        let url = cluster.url();
        Self::Cluster { cluster, url }
    }

    /// The test's own PostgreSQL server, when it has one.
    pub fn own_cluster(&self) -> Option<&Cluster> {
        match self {
            Self::Cluster { cluster, .. } => Some(cluster),
            _ => None,
        }
    }

    /// SQLite, and PostgreSQL when configured.
    pub async fn all() -> Vec<Self> {
        let mut databases = vec![Self::sqlite()];
        databases.extend(Self::postgres().await);
        databases
    }

    pub fn url(&self) -> &str {
        match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } | Self::Cluster { url, .. } => {
                url
            }
        }
    }

    /// Runs `statements` one by one, on a connection of its own.
    pub async fn execute(&self, statements: &[&str]) {
        match self {
            Self::Sqlite { url, .. } => {
                let mut db = sqlx::SqliteConnection::connect(url).await.unwrap();
                for sql in statements {
                    sqlx::query(sql).execute(&mut db).await.unwrap();
                }
            }
            Self::Postgres { url, .. } | Self::Cluster { url, .. } => {
                let mut db = PgConnection::connect(url).await.unwrap();
                for sql in statements {
                    sqlx::query(sql).execute(&mut db).await.unwrap();
                }
            }
        }
    }

    /// The number `sql` (a `SELECT COUNT(*) …`) answers, on a connection of its own.
    pub async fn count(&self, sql: &str) -> i64 {
        match self {
            Self::Sqlite { url, .. } => {
                let mut db = sqlx::SqliteConnection::connect(url).await.unwrap();
                sqlx::query_scalar(sql).fetch_one(&mut db).await.unwrap()
            }
            Self::Postgres { url, .. } | Self::Cluster { url, .. } => {
                let mut db = PgConnection::connect(url).await.unwrap();
                sqlx::query_scalar(sql).fetch_one(&mut db).await.unwrap()
            }
        }
    }

    pub fn backend(&self) -> &'static str {
        match self {
            Self::Sqlite { .. } => "sqlite",
            Self::Postgres { .. } | Self::Cluster { .. } => "postgres",
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Self::Postgres { admin_url, name, .. } = self else { return };
        let (admin_url, name) = (admin_url.clone(), name.clone());
        // Drop may run inside or outside a runtime; a thread of its own works in both.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                admin
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await?;
                admin.close().await
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if let Ok(Err(error)) = dropped {
            eprintln!("could not drop a test database: {error}");
        }
    }
}
