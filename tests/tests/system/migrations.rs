//! The two migration sets describe the same schema.
//!
//! Both backends are migrated by the real binary, then read back from their catalogs:
//! tables, columns (type family and nullability), primary keys, indexes and foreign
//! keys must match. Types are compared by family, since the backends spell them
//! differently (see server/src/db/mod.rs for the mapping).

use std::collections::{BTreeMap, BTreeSet};

use bidline_tests::{TestDatabase, bidline_binary, workspace_root};
use sqlx::{Connection, PgConnection, SqliteConnection};

#[derive(Debug, Default, PartialEq, Eq)]
struct Table {
    /// name → (SQLite storage type, nullable)
    columns: BTreeMap<String, (String, bool)>,
    primary_key: Vec<String>,
    /// name → (unique, columns)
    indexes: BTreeMap<String, (bool, Vec<String>)>,
    /// (column, referenced table, referenced column, on delete)
    foreign_keys: BTreeSet<(String, String, String, String)>,
}

type Schema = BTreeMap<String, Table>;

/// Columns whose storage a third-party crate decides, differently per backend:
/// tower-sessions-sqlx-store keeps the expiry as Unix seconds on SQLite.
const STORED_BY_OTHERS: &[(&str, &str, &str)] = &[("sessions", "expiry_date", "INTEGER")];

fn migrate(database: &TestDatabase) {
    let output = std::process::Command::new(bidline_binary())
        .args(["migrate", "--database-url", database.url()])
        .output()
        .expect("run bidline migrate");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

#[test]
fn both_backends_have_the_same_migration_files() {
    let names = |backend: &str| -> BTreeSet<String> {
        std::fs::read_dir(workspace_root().join("migrations").join(backend))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert_eq!(names("sqlite"), names("postgres"));
}

#[tokio::test]
async fn migrations_match_on_both_backends() {
    let sqlite = TestDatabase::sqlite();
    migrate(&sqlite);
    let sqlite_schema = sqlite_schema(sqlite.url()).await;
    assert!(sqlite_schema.contains_key("nodes"), "{sqlite_schema:#?}");

    let Some(postgres) = TestDatabase::postgres().await else { return };
    migrate(&postgres);
    let postgres_schema = postgres_schema(postgres.url()).await;
    assert_eq!(sqlite_schema, postgres_schema);
}

async fn sqlite_schema(url: &str) -> Schema {
    let mut db = SqliteConnection::connect(url).await.unwrap();
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' \
         AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();

    let mut schema = Schema::new();
    for (table,) in tables {
        let mut t = Table::default();
        let columns: Vec<(String, String, bool, i64)> =
            sqlx::query_as(r#"SELECT name, upper(type), "notnull", pk FROM pragma_table_info($1)"#)
                .bind(&table)
                .fetch_all(&mut db)
                .await
                .unwrap();
        let mut key = Vec::new();
        for (name, storage, not_null, pk) in columns {
            if pk > 0 {
                key.push((pk, name.clone()));
            }
            t.columns.insert(name, (storage, !not_null));
        }
        key.sort();
        t.primary_key = key.into_iter().map(|(_, name)| name).collect();

        let indexes: Vec<(String, bool, String)> =
            sqlx::query_as(r#"SELECT name, "unique", origin FROM pragma_index_list($1)"#)
                .bind(&table)
                .fetch_all(&mut db)
                .await
                .unwrap();
        for (name, unique, origin) in indexes {
            assert_ne!(
                origin, "u",
                "{table}: declare uniqueness with CREATE UNIQUE INDEX, so both backends name it alike"
            );
            if origin == "pk" {
                continue;
            }
            let columns: Vec<(String,)> =
                sqlx::query_as("SELECT name FROM pragma_index_info($1) ORDER BY seqno")
                    .bind(&name)
                    .fetch_all(&mut db)
                    .await
                    .unwrap();
            t.indexes.insert(name, (unique, columns.into_iter().map(|(c,)| c).collect()));
        }

        let keys: Vec<(String, String, String, String)> = sqlx::query_as(
            r#"SELECT "from", "table", "to", on_delete FROM pragma_foreign_key_list($1)"#,
        )
        .bind(&table)
        .fetch_all(&mut db)
        .await
        .unwrap();
        t.foreign_keys = keys.into_iter().collect();
        schema.insert(table, t);
    }
    schema
}

/// The SQLite storage type each PostgreSQL type is kept in.
fn sqlite_storage_of(postgres_type: &str) -> &'static str {
    match postgres_type {
        "uuid" | "bytea" => "BLOB",
        "text" | "character varying" | "timestamp with time zone" | "date" | "jsonb" => "TEXT",
        "bigint" | "integer" | "smallint" | "boolean" => "INTEGER",
        "double precision" | "real" => "REAL",
        other => panic!("PostgreSQL type {other:?} has no SQLite counterpart here: add it"),
    }
}

async fn postgres_schema(url: &str) -> Schema {
    let mut db = PgConnection::connect(url).await.unwrap();
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations'",
    )
    .fetch_all(&mut db)
    .await
    .unwrap();

    let mut schema = Schema::new();
    for (table,) in tables {
        let mut t = Table::default();
        let columns: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT column_name::text, data_type::text, is_nullable::text FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name = $1",
        )
        .bind(&table)
        .fetch_all(&mut db)
        .await
        .unwrap();
        for (name, data_type, nullable) in columns {
            let storage = STORED_BY_OTHERS
                .iter()
                .find(|(t, c, _)| *t == table && *c == name)
                .map_or_else(|| sqlite_storage_of(&data_type), |(_, _, storage)| storage);
            t.columns.insert(name, (storage.to_owned(), nullable == "YES"));
        }

        let unique_constraints: (i64,) = sqlx::query_as(
            "SELECT count(*) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid \
             WHERE t.relname = $1 AND c.contype = 'u'",
        )
        .bind(&table)
        .fetch_one(&mut db)
        .await
        .unwrap();
        assert_eq!(
            unique_constraints.0, 0,
            "{table}: declare uniqueness with CREATE UNIQUE INDEX, so both backends name it alike"
        );

        let indexes: Vec<(String, bool, bool, Vec<String>)> = sqlx::query_as(
            "SELECT i.relname::text, ix.indisunique, ix.indisprimary, \
                    array_agg(a.attname::text ORDER BY k.ord) \
             FROM pg_index ix \
             JOIN pg_class i ON i.oid = ix.indexrelid \
             JOIN pg_class t ON t.oid = ix.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace \
             CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord) \
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum \
             WHERE n.nspname = 'public' AND t.relname = $1 \
             GROUP BY i.relname, ix.indisunique, ix.indisprimary",
        )
        .bind(&table)
        .fetch_all(&mut db)
        .await
        .unwrap();
        for (name, unique, primary, columns) in indexes {
            if primary {
                t.primary_key = columns;
            } else {
                t.indexes.insert(name, (unique, columns));
            }
        }

        let keys: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT kcu.column_name::text, ccu.table_name::text, ccu.column_name::text, rc.delete_rule::text \
             FROM information_schema.referential_constraints rc \
             JOIN information_schema.key_column_usage kcu \
               ON kcu.constraint_name = rc.constraint_name AND kcu.constraint_schema = rc.constraint_schema \
             JOIN information_schema.constraint_column_usage ccu \
               ON ccu.constraint_name = rc.constraint_name AND ccu.constraint_schema = rc.constraint_schema \
             WHERE kcu.table_schema = 'public' AND kcu.table_name = $1",
        )
        .bind(&table)
        .fetch_all(&mut db)
        .await
        .unwrap();
        t.foreign_keys = keys.into_iter().collect();
        schema.insert(table, t);
    }
    schema
}
