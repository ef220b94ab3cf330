//! `/api/v1/dni-pools` on both backends: a pool belongs to a campaign, its numbers serve
//! that campaign, and neither goes while the other needs it.

use bidline_tests::{Server, ServerOptions, TestDatabase};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_pools_numbers_serve_its_campaign_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let (_, api) = server.create_org("Acme Leads", "dana@acme.example");
        let (_, solar) =
            api.post("/campaigns", &json!({"name": "Solar", "time_zone": "America/Denver"})).await;
        let (_, roofing) = api
            .post("/campaigns", &json!({"name": "Roofing", "time_zone": "America/Denver"}))
            .await;

        let (status, pool) = api
            .post("/dni-pools", &json!({"name": "Google Ads", "campaign_id": solar["id"]}))
            .await;
        assert_eq!(status, 201, "{backend}: {pool}");
        assert_eq!(pool["lease_minutes"], 30, "the default lease");
        let pool_id = pool["id"].as_str().unwrap();

        let (status, number) = api
            .post(
                "/numbers",
                &json!({"number": "+15550100300", "campaign_id": solar["id"], "pool_id": pool_id}),
            )
            .await;
        assert_eq!(status, 201, "{backend}: {number}");
        assert_eq!(number["pool_id"], pool_id);
        let (status, wrong) = api
            .post("/numbers", &json!({"number": "+15550100301", "campaign_id": roofing["id"], "pool_id": pool_id}))
            .await;
        assert_eq!(status, 422, "{backend}: {wrong}");
        assert_eq!(wrong["fields"]["pool_id"], "belongs to another campaign than the number's");

        let (status, refused) = api.delete(&format!("/dni-pools/{pool_id}")).await;
        assert_eq!(status, 409, "{backend}: {refused}");
        let number_id = number["id"].as_str().unwrap();
        api.call(Method::PATCH, &format!("/numbers/{number_id}"), Some(&json!({"pool_id": null})))
            .await;
        assert_eq!(api.delete(&format!("/numbers/{number_id}")).await.0, 204);
        let (status, refused) =
            api.delete(&format!("/campaigns/{}", solar["id"].as_str().unwrap())).await;
        assert_eq!(
            (status.as_u16(), refused["error"].as_str()),
            (409, Some("cannot delete: 1 DNI pools still use it"))
        );
        assert_eq!(api.delete(&format!("/dni-pools/{pool_id}")).await.0, 204, "{backend}");

        let (status, bad) = api.post("/dni-pools", &json!({"name": "X", "lease_minutes": 0})).await;
        assert_eq!(status, 422, "{backend}: {bad}");
        assert!(
            bad["fields"]["campaign_id"].is_string() && bad["fields"]["lease_minutes"].is_string(),
            "{bad}"
        );
    }
}
