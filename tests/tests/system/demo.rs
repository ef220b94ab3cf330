//! `bidline demo`: the server with a demo organization whose calls arrive by themselves,
//! through the real SIP edge, to buyers on loopback that the private-address guard lets
//! through (and nothing else there).

use std::time::{Duration, Instant};

use bidline_tests::{Server, ServerOptions, SessionClient, TestDatabase, bidline_command};

/// Live calls: the demo's phone names its Call-IDs after its address, the history's
/// calls are `…@demo.invalid`.
const LIVE: &str = "sip_call_id NOT LIKE '%@demo.invalid'";

#[tokio::test]
async fn bidline_demo_fills_the_dashboard_with_live_calls_and_its_data_can_be_removed() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let url = database.url().to_owned();
        let mut server = Server::start_with(ServerOptions {
            database: Some(database),
            command: Some("demo"),
            args: ["--calls-per-minute", "20", "--seed", "7"].map(String::from).to_vec(),
            env: vec![("BIDLINE_ALLOW_PRIVATE_TARGETS".into(), "false".into())],
        })
        .await;

        let sign_in = wait_for(Duration::from_secs(30), || {
            server.stdout().into_iter().find(|line| line.starts_with("Sign in at"))
        })
        .await
        .unwrap_or_else(|| panic!("{backend}: no sign-in line: {:?}", server.log()));
        let traffic_started = Instant::now();
        let password = sign_in.rsplit(' ').next().unwrap();
        assert!(sign_in.contains("demo@bidline.example"), "{sign_in}");
        assert!(sign_in.contains(&server.url("/login")), "{sign_in}");
        SessionClient::signed_in(server.url(""), "demo@bidline.example", password).await;

        tokio::time::sleep(Duration::from_secs(60).saturating_sub(traffic_started.elapsed())).await;
        let db = server.database();
        let live = db.count(&format!("SELECT COUNT(*) FROM calls WHERE {LIVE}")).await;
        assert!(live >= 10, "{backend}: {live} calls in the demo's first minute at 20 a minute");
        let answered = db
            .count(&format!("SELECT COUNT(*) FROM calls WHERE {LIVE} AND answered_at IS NOT NULL"))
            .await;
        assert!(answered >= 3, "{backend}: {answered} of {live} live calls were answered");
        let visits = db
            .count(&format!(
                "SELECT COUNT(*) FROM calls WHERE {LIVE} AND CAST(tags AS TEXT) LIKE '%utm_source%'"
            ))
            .await;
        assert!(visits >= 1, "{backend}: no live call carried a website visit's tags");
        let priced = db
            .count(&format!(
                "SELECT COUNT(*) FROM bids WHERE bid_cents > 0 AND call_id IN \
                 (SELECT id FROM calls WHERE {LIVE})"
            ))
            .await;
        assert!(priced >= 1, "{backend}: no simulated buyer's bid was recorded");
        let history =
            db.count("SELECT COUNT(*) FROM calls WHERE sip_call_id LIKE '%@demo.invalid'");
        assert_eq!(history.await, 3_000, "{backend}: the first start writes two weeks of history");
        assert_eq!(db.count("SELECT COUNT(*) FROM organizations WHERE demo").await, 1);
        let refused =
            server.log().into_iter().filter(|l| l.contains("private")).collect::<Vec<_>>();
        assert!(refused.is_empty(), "{backend}: a demo leg was refused: {refused:?}");

        server.stop().await;
        let removed = bidline_command(&url, &["demo", "remove"]);
        assert!(removed.status.success(), "{}", String::from_utf8_lossy(&removed.stderr));
        let printed: serde_json::Value = serde_json::from_slice(&removed.stdout).unwrap();
        assert_eq!(printed, serde_json::json!({"removed": 1}));
        let db = server.database();
        for table in [
            "organizations",
            "users",
            "calls",
            "bids",
            "call_events",
            "call_rollups",
            "targets",
            "numbers",
            "dni_leases",
            "usage_records",
            "audit_events",
        ] {
            let left = db.count(&format!("SELECT COUNT(*) FROM {table}")).await;
            assert_eq!(left, 0, "{backend}: {table} keeps {left} rows of the removed demo");
        }
    }
}

async fn wait_for<T>(limit: Duration, mut check: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(found) = check() {
            return Some(found);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}
