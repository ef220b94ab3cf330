//! Call records under pressure, on both backends: when the database holds the writer up,
//! new calls are turned away (503 with Retry-After) rather than queued without bound, and
//! it recovers by itself; a node killed under load loses at most the calls of its last
//! write window, and what it left open is closed as interrupted.

use std::time::{Duration, Instant};

use bidline_sipp::{Load, Scenario, Sipp, Transport, free_port, scenario};
use bidline_tests::{Server, ServerOptions, TestDatabase};
use serde_json::json;
use sqlx::{Connection, Executor, PgConnection, SqliteConnection};

use crate::calls::{CALLER, DIALED, Network, carrier};

/// The value of the metric named `name` (without labels) on `/metrics`, 0 when absent.
async fn metric(server: &Server, name: &str) -> f64 {
    let text = reqwest::get(server.url("/metrics")).await.unwrap().text().await.unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Waits (up to `limit`) until `holds` is true of the metric `name`.
async fn metric_until(server: &Server, name: &str, limit: Duration, holds: impl Fn(f64) -> bool) {
    let started = Instant::now();
    loop {
        let value = metric(server, name).await;
        if holds(value) {
            return;
        }
        assert!(started.elapsed() < limit, "{name} is still {value}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A transaction that keeps the call records writer from writing until it ends: on
/// SQLite the database's write lock, on PostgreSQL a lock on `calls` that writes wait for.
enum Hold {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl Hold {
    async fn take(url: &str) -> Hold {
        if url.starts_with("sqlite") {
            let mut db = SqliteConnection::connect(url).await.unwrap();
            db.execute("BEGIN IMMEDIATE").await.unwrap();
            Hold::Sqlite(db)
        } else {
            let mut db = PgConnection::connect(url).await.unwrap();
            db.execute("BEGIN; LOCK TABLE calls IN SHARE MODE").await.unwrap();
            Hold::Postgres(db)
        }
    }

    async fn release(self) {
        match self {
            Hold::Sqlite(mut db) => db.execute("ROLLBACK").await.map(drop),
            Hold::Postgres(mut db) => db.execute("ROLLBACK").await.map(drop),
        }
        .unwrap();
    }
}

#[tokio::test]
async fn while_records_are_too_far_behind_new_calls_get_503_and_it_recovers_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let url = database.url().to_owned();
        let args = vec!["--records-max-lag-ms".into(), "500".into()];
        let server = Server::start_with(ServerOptions {
            database: Some(database),
            args,
            ..Default::default()
        })
        .await;
        let network = Network::new(&server, json!({})).await;
        let port = free_port();
        let target = network.target("Buyer", port, json!({"kind": "static", "cents": 1000})).await;
        network.go_live(&[&target]).await;
        let buyer = Sipp::uas(Scenario::Builtin("uas"), port, Transport::Udp, 3);

        // The database holds the writer up: a call still goes through, and its record
        // waits while the writer falls behind.
        let hold = Hold::take(&url).await;
        carrier(&server, CALLER, 100).passes().await;
        metric_until(&server, "bidline_call_records_lag_seconds", Duration::from_secs(10), |lag| {
            lag >= 0.5
        })
        .await;

        // Past the limit, a new call is turned away with Retry-After, and counted.
        let fills = vec![("__CALLER__", "+13125550101".to_owned())];
        Sipp::uac_to(
            scenario("carrier_busy.xml", fills),
            server.sip_addr(),
            DIALED,
            Transport::Udp,
            1,
        )
        .passes()
        .await;
        let refused = "bidline_sip_invites_refused_records_behind_total";
        assert!(metric(&server, refused).await >= 1.0, "{backend}");

        // Once the database lets go the writer catches up by itself, and calls come in.
        hold.release().await;
        metric_until(&server, "bidline_call_records_lag_seconds", Duration::from_secs(10), |lag| {
            lag == 0.0
        })
        .await;
        carrier(&server, "+13125550102", 100).passes().await;
        carrier(&server, "+13125550103", 100).passes().await;
        buyer.passes().await;

        // Every call taken is recorded, the one from while the writer was held up too;
        // the one turned away never became a call.
        let database = server.database();
        let started = Instant::now();
        while database.count("SELECT COUNT(*) FROM calls WHERE status = 'completed'").await < 3 {
            assert!(started.elapsed() < Duration::from_secs(5), "{backend}: calls missing");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(database.count("SELECT COUNT(*) FROM calls").await, 3, "{backend}");
    }
}

/// Calls a second the kill test places.
const RATE: u32 = 1_000;
/// The most calls one write window (see the README's "Call records") may lose at RATE.
const WINDOW_CALLS: i64 = RATE as i64 * 50 / 1_000;

#[tokio::test]
async fn a_node_killed_under_load_loses_at_most_one_write_window_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let url = database.url().to_owned();
        let mut first =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let network = Network::new(&first, json!({})).await;
        let port = free_port();
        let target = network.target("Buyer", port, json!({"kind": "static", "cents": 1000})).await;
        network.go_live(&[&target]).await;
        let _buyer = Sipp::uas(Scenario::Builtin("uas"), port, Transport::Udp, 1_000_000);

        if backend == "postgres" {
            // What earlier tests wrote is flushed now, not by a checkpoint that lands in
            // the measured seconds and slows every commit of the node under test.
            first.database().execute(&["CHECKPOINT"]).await;
        }

        // Calls at 1,000 a second; two seconds in, the node is killed (no shutdown at all).
        // Meanwhile the writer's lag (a gauge set each second) is read, so that a failure
        // tells a writer that fell behind from a lost window.
        let load = Load::start(first.sip_addr(), DIALED, RATE, 4 * RATE as usize);
        let mut peak_lag = 0.0_f64;
        let watched = Instant::now();
        while watched.elapsed() < Duration::from_secs(2) {
            peak_lag = peak_lag.max(metric(&first, "bidline_call_records_lag_seconds").await);
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        first.kill().await;
        let placed = load.finish().await;
        assert!(placed.successful >= RATE as u64, "{backend}: the load barely ran: {placed:?}");

        // The next node on the database: every call the carrier saw completed is
        // recorded, but for those of the last write window.
        let second = Server::start_with(ServerOptions {
            env: vec![("DATABASE_URL".into(), url.clone())],
            ..Default::default()
        })
        .await;
        let records = first.database();
        let completed =
            records.count("SELECT COUNT(*) FROM calls WHERE status = 'completed'").await;
        let lost = placed.successful as i64 - completed;
        assert!(
            lost <= WINDOW_CALLS,
            "{backend}: {lost} completed calls have no record ({placed:?}, {completed} recorded; \
             the writer's lag read at most {:.0} ms)",
            peak_lag * 1000.0
        );
        // And nothing is left open: the calls live at the kill are closed as interrupted
        // (at once on SQLite; on PostgreSQL once the dead node is presumed dead).
        let started = Instant::now();
        while records.count("SELECT COUNT(*) FROM calls WHERE ended_at IS NULL").await > 0 {
            assert!(started.elapsed() < Duration::from_secs(45), "{backend}: calls left open");
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        drop(second);
    }
}
