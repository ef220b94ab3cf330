//! `/api/v1/campaigns` on both backends: zones, numbers, windows, floors, DNI domains
//! and the read-only DNI key.

use bidline_tests::{Server, ServerOptions, TestDatabase};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn campaigns_are_normalised_and_keep_their_dni_key_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let (_, api) = server.create_org("Acme Leads", "dana@acme.example");

        let (status, campaign) = api
            .post(
                "/campaigns",
                &json!({
                    "name": "Medicare Inbound",
                    "time_zone": "America/Chicago",
                    "default_number": "+1 (555) 010-0199",
                    "duplicate_window_hours": 24,
                    "floor_cents": 2500,
                    "dni_allowed_domains": ["Shop.Example.com", "shop.example.com", "www.example.org"]
                }),
            )
            .await;
        assert_eq!(status, 201, "{backend}: {campaign}");
        assert_eq!(campaign["default_number"], "+15550100199");
        assert_eq!(campaign["dni_allowed_domains"], json!(["shop.example.com", "www.example.org"]));
        assert_eq!(campaign["repeat_caller_same_target"], false);
        let key = campaign["dni_public_key"].as_str().unwrap().to_owned();
        assert!(key.starts_with("cmp_") && key.len() > 30, "{key}");
        let id = campaign["id"].as_str().unwrap();
        assert_eq!(api.get(&format!("/campaigns/{id}")).await.1, campaign, "{backend}");

        let (status, changed) = api
            .call(
                Method::PATCH,
                &format!("/campaigns/{id}"),
                Some(&json!({"time_zone": "Europe/London", "default_number": null, "status": "paused"})),
            )
            .await;
        assert_eq!(status, 200, "{backend}: {changed}");
        assert_eq!(changed["time_zone"], "Europe/London");
        assert!(changed["default_number"].is_null());
        assert_eq!(changed["dni_public_key"], key.as_str(), "the DNI key never changes");
        assert_eq!(changed["floor_cents"], 2500);

        // The key is read-only: writing it is refused, not ignored.
        let (status, _) = api
            .call(
                Method::PATCH,
                &format!("/campaigns/{id}"),
                Some(&json!({"dni_public_key": "cmp_mine"})),
            )
            .await;
        assert_eq!(status, 422, "{backend}");
    }
}

#[tokio::test]
async fn bad_campaigns_name_every_bad_field() {
    let server = Server::start().await;
    let (_, api) = server.create_org("Acme Leads", "dana@acme.example");
    let (status, answer) = api
        .post(
            "/campaigns",
            &json!({
                "name": "Broken",
                "time_zone": "EST5EDT-ish",
                "default_number": "call me",
                "duplicate_window_hours": 9000,
                "floor_cents": -1,
                "dni_allowed_domains": ["not a domain"]
            }),
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    let mut fields: Vec<&str> =
        answer["fields"].as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort();
    assert_eq!(
        fields,
        [
            "default_number",
            "dni_allowed_domains",
            "duplicate_window_hours",
            "floor_cents",
            "time_zone"
        ],
        "{answer}"
    );
    assert_eq!(api.get("/campaigns").await.1["items"], json!([]));
}
