//! The routing snapshot: a change made through one node is in every node's snapshot
//! within a second, on both backends.

use std::time::{Duration, Instant};

use bidline_tests::{Api, Server, ServerOptions, TestDatabase};
use serde_json::json;

/// Waits until `done` holds for node's `/api/v1/routing`, and answers how long it took.
async fn until(api: &Api, done: impl Fn(&serde_json::Value) -> bool) -> Duration {
    let started = Instant::now();
    loop {
        let (status, routing) = api.get("/routing").await;
        assert_eq!(status, 200, "{routing}");
        if done(&routing) {
            return started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(1), "not within a second: {routing}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_change_through_node_a_reaches_node_b_within_a_second_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let url = database.url().to_owned();
        let a =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let b = Server::start_with(ServerOptions {
            env: vec![("DATABASE_URL".into(), url)],
            ..Default::default()
        })
        .await;
        let (org, on_a) = a.create_org("Acme Leads", "dana@acme.example");
        let on_b = Api::new(b.url(""), &org.api_key);
        let (_, start) = on_b.get("/routing").await;
        assert_eq!(start["buyers"], json!({"active": 0, "paused": 0}), "{backend}");
        assert_ne!(start["node_id"], on_a.get("/routing").await.1["node_id"], "two nodes");

        let (status, buyer) = on_a.post("/buyers", &json!({"name": "Acme Insurance"})).await;
        assert_eq!(status, 201, "{backend}: {buyer}");
        let took = until(&on_b, |routing| routing["buyers"]["active"] == 1).await;
        eprintln!("{backend}: a new buyer reached node B in {took:?}");

        let path = format!("/buyers/{}", buyer["id"].as_str().unwrap());
        on_a.call(reqwest::Method::PATCH, &path, Some(&json!({"status": "paused"}))).await;
        let took =
            until(&on_b, |routing| routing["buyers"] == json!({"active": 0, "paused": 1})).await;
        eprintln!("{backend}: a paused buyer reached node B in {took:?}");
        let (_, on_b_now) = on_b.get("/routing").await;
        assert!(on_b_now["version"].as_i64() > start["version"].as_i64(), "{backend}: {on_b_now}");

        // A target changed on A: B routes with the change within a second.
        let (status, target) = on_a
            .post(
                "/targets",
                &json!({"buyer_id": buyer["id"], "name": "East", "destination": "sip:east@acme.example",
                        "revenue": {"kind": "static", "cents": 2500}}),
            )
            .await;
        assert_eq!(status, 201, "{backend}: {target}");
        until(&on_b, |routing| routing["targets"] == json!({"active": 1, "paused": 0})).await;
        let version = on_b.get("/routing").await.1["version"].as_i64().unwrap();
        let path = format!("/targets/{}", target["id"].as_str().unwrap());
        let (status, _) =
            on_a.call(reqwest::Method::PATCH, &path, Some(&json!({"status": "paused"}))).await;
        assert_eq!(status, 200);
        let took = until(&on_b, |routing| {
            routing["version"].as_i64() > Some(version) && routing["targets"]["paused"] == 1
        })
        .await;
        eprintln!("{backend}: a changed target reached node B in {took:?}");

        // A number added on A is found by its E.164 on B.
        let (_, campaign) =
            on_a.post("/campaigns", &json!({"name": "Solar", "time_zone": "America/Denver"})).await;
        let (status, _) = on_a
            .post("/numbers", &json!({"number": "+1 555 010 0400", "campaign_id": campaign["id"]}))
            .await;
        assert_eq!(status, 201);
        let started = std::time::Instant::now();
        loop {
            let (status, found) = on_b.get("/routing/numbers/+15550100400").await;
            if status == 200 {
                assert_eq!(found["number"]["campaign_id"], campaign["id"], "{backend}");
                break;
            }
            assert_eq!(status, 404, "{backend}: {found}");
            assert!(started.elapsed() < Duration::from_secs(1), "{backend}: number not on B");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let (other_org, _) = a.create_org("Other Org", "other@other.example");
        let other_on_b = Api::new(b.url(""), &other_org.api_key);
        let (_, other) = other_on_b.get("/routing/numbers/+15550100400").await;
        assert_eq!(other["error"], "not found", "{backend}: another organization's number");
    }
}
