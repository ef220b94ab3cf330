//! A PostgreSQL outage under load. Routing never waits on the database: while it is down,
//! calls to targets without caps go through as before, capped targets draw on what this
//! node leased of their caps, and every call's record waits in the node's spool until the
//! database is back. (SQLite lives in the node's own process: it has no outage of its own.)

use std::time::{Duration, Instant};

use bidline_sipp::{Load, Scenario, Sipp, Transport, free_port};
use bidline_tests::{Server, ServerOptions, TestDatabase};
use reqwest::Method;
use serde_json::json;

use crate::calls::{DIALED, Network};

/// Calls a second while the database goes away and comes back.
const RATE: u32 = 20;
const CALLS: usize = 600;
/// The capped target's calls a day: reached while the database is down.
const CAP: i64 = 200;

#[tokio::test]
async fn calls_flow_through_a_postgresql_outage_and_every_one_is_recorded_after_it() {
    let database = TestDatabase::cluster();
    let server =
        Server::start_with(ServerOptions { database: Some(database), ..Default::default() }).await;
    let network = Network::new(&server, json!({})).await;
    let (capped_port, open_port) = (free_port(), free_port());
    let capped =
        network.target("Capped", capped_port, json!({"kind": "static", "cents": 2000})).await;
    let (status, body) = network
        .api
        .call(Method::PATCH, &format!("/targets/{capped}"), Some(&json!({"caps": {"day": CAP}})))
        .await;
    assert_eq!(status, 200, "{body}");
    let open = network.target("Open", open_port, json!({"kind": "static", "cents": 1000})).await;
    network
        .go_live_with(
            vec![
                json!({"target_id": capped, "priority": 0}),
                json!({"target_id": open, "priority": 1}),
            ],
            json!({}),
        )
        .await;
    let _capped_buyer = Sipp::uas(Scenario::Builtin("uas"), capped_port, Transport::Udp, 1_000_000);
    let _open_buyer = Sipp::uas(Scenario::Builtin("uas"), open_port, Transport::Udp, 1_000_000);

    // 30 s of calls; from 5 s in, the database is down for 10 s.
    let load = Load::start(server.sip_addr(), DIALED, RATE, CALLS);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let cluster = server.database().own_cluster().expect("a cluster of the test's own");
    cluster.stop();
    let stopped = Instant::now();
    tokio::time::sleep(Duration::from_secs(10).saturating_sub(stopped.elapsed())).await;
    cluster.resume();
    let placed = load.finish().await;
    assert_eq!(placed.failed, 0, "{placed:?}\n{}", server.log().join("\n"));
    assert_eq!(placed.successful, CALLS as u64, "{placed:?}");

    // Once the database is back, every call is recorded, each once, none left open, and
    // the capped target took no more than its cap.
    let records = server.database();
    let started = Instant::now();
    while records.count("SELECT COUNT(*) FROM calls WHERE status = 'completed'").await
        < CALLS as i64
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "calls missing: {}",
            records.count("SELECT COUNT(*) FROM calls").await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(records.count("SELECT COUNT(*) FROM calls").await, CALLS as i64);
    assert_eq!(records.count("SELECT COUNT(*) FROM calls WHERE ended_at IS NULL").await, 0);
    let took =
        records.count(&format!("SELECT COUNT(*) FROM calls WHERE target_id = '{capped}'")).await;
    assert!(took <= CAP, "the capped target took {took} calls, over its cap of {CAP}");
    assert_eq!(took, CAP, "once the database is back the cap is used to its last call");
    let counted = records
        .count(&format!(
            "SELECT COALESCE(SUM(calls), 0)::BIGINT FROM target_counts \
             WHERE target_id = '{capped}' AND period = 'day'"
        ))
        .await;
    assert_eq!(counted, took, "the cap's count matches the calls the target took");
}
