//! Tenant isolation: a key of organization B, given organization A's ids, finds
//! nothing and changes nothing. Each route that takes an id is listed here; the test
//! walks all of them on both backends.

use bidline_tests::{Server, ServerOptions, TestDatabase};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn another_organizations_ids_are_404_and_untouched_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let (_, a) = server.create_org("Org A", "a@a.example");
        let (_, b) = server.create_org("Org B", "b@b.example");

        let (_, a_key) = a.post("/api-keys", &json!({"name": "A's key", "role": "analyst"})).await;
        let a_key_id = a_key["id"].as_str().unwrap().to_owned();

        // Every (method, route with an id) of /api/v1, with A's id in it.
        let matrix = [(Method::DELETE, format!("/api-keys/{a_key_id}"))];
        for (method, path) in &matrix {
            let (status, body) = b.call(method.clone(), path, None).await;
            assert_eq!(status, 404, "{backend}: {method} {path} by B: {body}");
        }

        // Nothing of A changed, and B's lists show none of A's rows.
        let (_, a_keys) = a.get("/api-keys").await;
        let still = a_keys["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == a_key_id.as_str())
            .unwrap();
        assert!(still["revoked_at"].is_null(), "{backend}: {still}");
        let (_, b_keys) = b.get("/api-keys").await;
        assert!(!b_keys.to_string().contains(&a_key_id), "{backend}: {b_keys}");
        let (_, b_log) = b.get("/audit-events").await;
        assert!(!b_log.to_string().contains("Org A"), "{backend}: {b_log}");
    }
}
