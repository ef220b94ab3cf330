//! One organization must never take another's calls: a number belongs to one
//! organization on the whole platform, only that organization's inbound trunks admit
//! its calls, no trunk admits more than a /8, and a trunk with credentials makes the
//! carrier prove them (digest, with sipp's `-au`/`-ap`). On both backends.

use std::time::{Duration, Instant};

use bidline_sipp::{Scenario, Sipp, Transport, free_port, scenario};
use bidline_tests::{Api, Server, ServerOptions, TestDatabase, bidline_command};
use reqwest::Method;
use serde_json::json;

use crate::calls::{CALLER, DIALED, Network, carrier, refused};

#[tokio::test]
async fn a_number_belongs_to_one_organization_on_the_whole_platform_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let (_, a) = server.create_org("Org A", "a@a.example");
        let (_, b) = server.create_org("Org B", "b@b.example");
        let campaign = |api: &bidline_tests::Api| {
            let api = api.clone();
            async move {
                let (_, campaign) =
                    api.post("/campaigns", &json!({"name": "C", "time_zone": "UTC"})).await;
                campaign["id"].as_str().unwrap().to_owned()
            }
        };
        let (a_campaign, b_campaign) = (campaign(&a).await, campaign(&b).await);
        let (status, _) =
            a.post("/numbers", &json!({"number": "+15550107001", "campaign_id": a_campaign})).await;
        assert_eq!(status, 201, "{backend}");

        // B cannot add it, however it is written, and is not told whose it is.
        let (status, taken) = b
            .post("/numbers", &json!({"number": "(555) 010-7001", "campaign_id": b_campaign}))
            .await;
        assert_eq!(status, 409, "{backend}: {taken}");
        assert_eq!(taken["fields"], json!({"number": "is already in use"}), "{backend}");
        assert!(!taken.to_string().contains("Org A"), "{taken}");
        // Nor import it: nothing of the import is stored.
        let (status, import) = b
            .post(
                "/numbers/import",
                &json!({"numbers": "+15550107002\n+15550107001", "campaign_id": b_campaign}),
            )
            .await;
        assert_eq!(status, 409, "{backend}: {import}");
        assert_eq!(
            import["errors"],
            json!([{"line": 2, "text": "+15550107001", "error": "is already in use"}])
        );
        assert_eq!(b.get("/numbers").await.1["items"], json!([]), "{backend}");
        // Nor rename one of its own numbers to it.
        let (_, own) =
            b.post("/numbers", &json!({"number": "+15550107003", "campaign_id": b_campaign})).await;
        let (status, _) = b
            .call(
                Method::PATCH,
                &format!("/numbers/{}", own["id"].as_str().unwrap()),
                Some(&json!({"number": "+15550107001"})),
            )
            .await;
        assert_eq!(status, 409, "{backend}");
        // Once A lets it go, B may have it.
        let (_, listed) = a.get("/numbers").await;
        let id = listed["items"][0]["id"].as_str().unwrap().to_owned();
        assert_eq!(a.delete(&format!("/numbers/{id}")).await.0, 204);
        let (status, _) =
            b.post("/numbers", &json!({"number": "+15550107001", "campaign_id": b_campaign})).await;
        assert_eq!(status, 201, "{backend}");
    }
}

#[tokio::test]
async fn an_inbound_trunk_admits_at_most_a_slash_8_or_a_slash_32_of_ipv6() {
    let server = Server::start().await;
    let (_, api) = server.create_org("Acme Leads", "dana@acme.example");
    for wide in ["0.0.0.0/0", "10.0.0.0/7", "::/0", "2001:db8::/31"] {
        let (status, refused) = api
            .post(
                "/trunks",
                &json!({"name": "Everyone", "direction": "inbound", "allowed_cidrs": [wide]}),
            )
            .await;
        assert_eq!(status, 422, "{wide}: {refused}");
        assert!(refused["fields"]["allowed_cidrs"].as_str().unwrap().contains("wider than"));
    }
    for fine in ["10.0.0.0/8", "2001:db8::/32"] {
        let (status, body) = api
            .post(
                "/trunks",
                &json!({"name": fine, "direction": "inbound", "allowed_cidrs": [fine]}),
            )
            .await;
        assert_eq!(status, 201, "{fine}: {body}");
    }
}

/// The version of the routing snapshot the node `api` speaks to routes with.
async fn routing_version(api: &Api) -> i64 {
    api.get("/routing").await.1["version"].as_i64().unwrap()
}

/// Waits until the node `api` speaks to routes with a change made after `version`.
async fn routes_past(api: &Api, version: i64) {
    let started = Instant::now();
    while routing_version(api).await <= version {
        assert!(started.elapsed() < Duration::from_secs(5), "the change never went live");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn only_the_numbers_organization_may_admit_its_calls_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        // A holds the number, but its carrier is elsewhere.
        let a = Network::new(&server, json!({})).await;
        let port = free_port();
        let target = a.target("Buyer", port, json!({"kind": "static", "cents": 1000})).await;
        a.go_live(&[&target]).await;
        let (_, trunks) = a.api.get("/trunks").await;
        let a_trunk = trunks["items"][0]["id"].as_str().unwrap().to_owned();
        let (status, _) = a
            .api
            .call(
                Method::PATCH,
                &format!("/trunks/{a_trunk}"),
                Some(&json!({"allowed_cidrs": ["198.51.100.0/24"]})),
            )
            .await;
        assert_eq!(status, 200);
        // B admits every loopback source, and so the caller.
        let (_, b) = server.create_org("Org B", "b@b.example");
        let before = routing_version(&a.api).await;
        let (status, _) = b
            .post(
                "/trunks",
                &json!({"name": "B's carrier", "direction": "inbound", "allowed_cidrs": ["127.0.0.0/8"]}),
            )
            .await;
        assert_eq!(status, 201);
        routes_past(&a.api, before).await;

        // B's trunk does not admit calls to A's number.
        refused(&server, CALLER, 403).passes().await;
        assert_eq!(b.get("/calls").await.1["items"], json!([]), "{backend}");
        assert_eq!(a.api.get("/calls").await.1["items"], json!([]), "{backend}");

        // A's own trunk admitting the carrier does.
        let before = routing_version(&a.api).await;
        let (status, _) = a
            .api
            .call(
                Method::PATCH,
                &format!("/trunks/{a_trunk}"),
                Some(&json!({"allowed_cidrs": ["127.0.0.1"]})),
            )
            .await;
        assert_eq!(status, 200);
        routes_past(&a.api, before).await;
        let buyer = Sipp::uas(Scenario::Builtin("uas"), port, Transport::Udp, 1);
        carrier(&server, CALLER, 500).passes().await;
        buyer.passes().await;
        assert_eq!(a.ended_call(0).await["status"], "completed", "{backend}");
        assert_eq!(b.get("/calls").await.1["items"], json!([]), "{backend}");
    }
}

#[tokio::test]
async fn a_trunk_with_credentials_admits_only_carriers_that_prove_them() {
    let server = Server::start().await;
    let network = Network::new(&server, json!({})).await;
    let port = free_port();
    let target = network.target("Buyer", port, json!({"kind": "static", "cents": 1000})).await;
    network.go_live(&[&target]).await;
    let (_, trunks) = network.api.get("/trunks").await;
    let trunk = trunks["items"][0]["id"].as_str().unwrap().to_owned();
    let before = routing_version(&network.api).await;
    let (status, body) = network
        .api
        .call(
            Method::PATCH,
            &format!("/trunks/{trunk}"),
            Some(&json!({"username": "carrier", "password": "s3cret-pass"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    routes_past(&network.api, before).await;

    // Without credentials: challenged, so sipp's plain carrier hears 401.
    refused(&server, CALLER, 401).passes().await;
    // With the wrong password: 403 after the challenge.
    let addr = server.sip_addr();
    let wrong = scenario("uac_auth_refused.xml", vec![]);
    Sipp::uac_to_with_credentials(wrong, addr, DIALED, "carrier", "guess").passes().await;
    // With the right one the call goes through.
    let buyer = Sipp::uas(Scenario::Builtin("uas"), port, Transport::Udp, 1);
    let right = scenario("uac_auth.xml", vec![]);
    Sipp::uac_to_with_credentials(right, addr, DIALED, "carrier", "s3cret-pass").passes().await;
    buyer.passes().await;
    assert_eq!(network.ended_call(0).await["status"], "completed");
}

#[tokio::test]
async fn upgrading_keeps_a_shared_number_with_its_oldest_holder_and_reports_the_others() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let url = database.url().to_owned();
        let mut server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let (a_org, a) = server.create_org("Org A", "a@a.example");
        let (b_org, b) = server.create_org("Org B", "b@b.example");
        for (api, number) in [(&a, "+15550108001"), (&b, "+15550108002")] {
            let (_, campaign) =
                api.post("/campaigns", &json!({"name": "C", "time_zone": "UTC"})).await;
            let (status, _) = api
                .post("/numbers", &json!({"number": number, "campaign_id": campaign["id"]}))
                .await;
            assert_eq!(status, 201);
        }
        assert!(server.stop().await.success(), "{backend}");

        // The database as it was before migration 18: numbers unique per organization
        // only, and B (the newer) holding A's number too.
        server
            .database()
            .execute(&[
                "DELETE FROM _sqlx_migrations WHERE version = 20261125000018",
                "DROP TABLE released_numbers",
                "DROP INDEX numbers_number",
                "DROP INDEX numbers_organization_id_number",
                "CREATE UNIQUE INDEX numbers_organization_id_number ON numbers (organization_id, number)",
                "UPDATE numbers SET number = '+15550108001' WHERE number = '+15550108002'",
            ])
            .await;
        let output = bidline_command(&url, &["migrate"]);
        assert!(output.status.success(), "{backend}: {output:?}");
        let log = String::from_utf8_lossy(&output.stderr);
        assert!(
            log.contains("released a number") && log.contains("+15550108001"),
            "{backend}: {log}"
        );

        let after = Server::start_with(ServerOptions {
            env: vec![("DATABASE_URL".into(), url.clone())],
            ..Default::default()
        })
        .await;
        let (a, b) =
            (Api::new(after.url(""), a_org.api_key), Api::new(after.url(""), b_org.api_key));
        assert_eq!(a.get("/numbers").await.1["items"][0]["number"], "+15550108001", "{backend}");
        assert_eq!(b.get("/numbers").await.1["items"], json!([]), "{backend}");
        let (_, audit) = b.get("/audit-events").await;
        let released =
            audit["items"].as_array().unwrap().iter().find(|e| e["action"] == "number.released");
        assert_eq!(released.unwrap()["detail"]["number"], "+15550108001", "{backend}: {audit}");
        // Reported once: a second start says nothing more.
        let again = bidline_command(&url, &["migrate"]);
        assert!(!String::from_utf8_lossy(&again.stderr).contains("released a number"));
        drop(server);
    }
}
