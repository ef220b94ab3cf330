//! `/api/v1/buyers` on both backends: CRUD, validation, pagination, filters, roles,
//! and the change history.

use bidline_tests::{Api, Server, ServerOptions, TestDatabase};
use serde_json::{Value, json};

#[tokio::test]
async fn buyers_are_created_read_listed_updated_and_deleted_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let (_, api) = server.create_org("Acme Leads", "dana@acme.example");

        let (status, buyer) = api
            .post(
                "/buyers",
                &json!({"name": "Acme Insurance", "contact": {"email": "Buy@Acme.example"}}),
            )
            .await;
        assert_eq!(status, 201, "{backend}: {buyer}");
        assert_eq!(buyer["status"], "active");
        assert_eq!(
            buyer["contact"],
            json!({"name": null, "email": "buy@acme.example", "phone": null})
        );
        let id = buyer["id"].as_str().unwrap().to_owned();
        assert_eq!(api.get(&format!("/buyers/{id}")).await.1, buyer, "{backend}");

        let (status, patched) = api
            .call(
                reqwest::Method::PATCH,
                &format!("/buyers/{id}"),
                Some(&json!({"status": "paused", "contact": {"phone": "+1 (212) 555-0100", "email": null}})),
            )
            .await;
        assert_eq!(status, 200, "{backend}: {patched}");
        assert_eq!(patched["name"], "Acme Insurance");
        assert_eq!(patched["status"], "paused");
        assert_eq!(
            patched["contact"],
            json!({"name": null, "email": null, "phone": "+12125550100"})
        );

        let (_, history) = api.get(&format!("/buyers/{id}/history")).await;
        let actions: Vec<&str> = history["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["updated", "created"], "{backend}");
        assert_eq!(history["items"][0]["before"]["status"], "active");
        assert_eq!(history["items"][0]["after"]["status"], "paused");
        assert_eq!(history["items"][0]["actor"]["api_key"], "Created by bidline org create");

        assert_eq!(api.delete(&format!("/buyers/{id}")).await.0, 204, "{backend}");
        assert_eq!(api.get(&format!("/buyers/{id}")).await.0, 404, "{backend}");
        assert_eq!(api.delete(&format!("/buyers/{id}")).await.0, 404, "{backend}");
    }
}

#[tokio::test]
async fn bad_buyers_are_422_with_every_field_named() {
    let server = Server::start().await;
    let (_, api) = server.create_org("Acme Leads", "dana@acme.example");
    let (status, body) =
        api.post("/buyers", &json!({"status": "sleeping", "contact": {"email": "nope"}})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        body["fields"],
        json!({"name": "is required", "status": "must be active or paused", "contact.email": "is not an email address"})
    );
    let (status, body) = api.post("/buyers", &json!({"name": "x".repeat(101)})).await;
    assert_eq!(
        (status.as_u16(), body["fields"]["name"].as_str()),
        (422, Some("must be at most 100 characters"))
    );
    let (status, body) = api.post("/buyers", &json!({"name": "Acme", "colour": "blue"})).await;
    assert_eq!(status, 422, "unknown fields are refused, not ignored: {body}");
    let (_, listed) = api.get("/buyers").await;
    assert_eq!(listed["items"], json!([]), "nothing was saved");
}

#[tokio::test]
async fn buyers_list_in_pages_and_filter_by_name_and_status() {
    let server = Server::start().await;
    let (_, api) = server.create_org("Acme Leads", "dana@acme.example");
    for (name, status) in [
        ("Acme Insurance", "active"),
        ("Beta Solar", "paused"),
        ("Acme Auto", "active"),
        ("100%_Leads", "active"),
    ] {
        assert_eq!(api.post("/buyers", &json!({"name": name, "status": status})).await.0, 201);
    }
    let names = |list: &Value| -> Vec<String> {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["name"].as_str().unwrap().to_owned())
            .collect()
    };

    let (_, first) = api.get("/buyers?limit=3").await;
    assert_eq!(names(&first), ["Acme Insurance", "Beta Solar", "Acme Auto"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, rest) = api.get(&format!("/buyers?limit=3&cursor={cursor}")).await;
    assert_eq!(names(&rest), ["100%_Leads"]);
    assert!(rest["next_cursor"].is_null());

    assert_eq!(names(&api.get("/buyers?name=acme").await.1), ["Acme Insurance", "Acme Auto"]);
    assert_eq!(names(&api.get("/buyers?name=%25_").await.1), ["100%_Leads"], "% and _ are literal");
    assert_eq!(names(&api.get("/buyers?status=paused").await.1), ["Beta Solar"]);
    assert_eq!(api.get("/buyers?status=sleeping").await.0, 422);
}

#[tokio::test]
async fn analysts_read_buyers_but_only_managers_and_above_change_them() {
    let server = Server::start().await;
    let (_, admin) = server.create_org("Acme Leads", "dana@acme.example");
    let (_, buyer) = admin.post("/buyers", &json!({"name": "Acme Insurance"})).await;
    let id = buyer["id"].as_str().unwrap();
    let (_, analyst_key) =
        admin.post("/api-keys", &json!({"name": "analyst", "role": "analyst"})).await;
    let analyst = Api::new(server.url(""), analyst_key["key"].as_str().unwrap());
    assert_eq!(analyst.get(&format!("/buyers/{id}")).await.0, 200);
    assert_eq!(analyst.post("/buyers", &json!({"name": "Sneaky"})).await.0, 403);
    assert_eq!(analyst.delete(&format!("/buyers/{id}")).await.0, 403);

    let (_, manager_key) =
        admin.post("/api-keys", &json!({"name": "manager", "role": "manager"})).await;
    let manager = Api::new(server.url(""), manager_key["key"].as_str().unwrap());
    assert_eq!(manager.post("/buyers", &json!({"name": "Beta Solar"})).await.0, 201);
}
