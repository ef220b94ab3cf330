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
    }
}
