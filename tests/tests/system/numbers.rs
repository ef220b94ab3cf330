//! `/api/v1/numbers` on both backends: E.164 normalisation, uniqueness in the
//! organization, references to the organization's own campaigns and publishers, and
//! campaigns that cannot be deleted while numbers point at them.

use bidline_tests::{Server, ServerOptions, TestDatabase};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn numbers_belong_to_a_campaign_and_keep_it_from_being_deleted_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let (_, api) = server.create_org("Acme Leads", "dana@acme.example");
        let (_, campaign) =
            api.post("/campaigns", &json!({"name": "Solar", "time_zone": "America/Denver"})).await;
        let campaign_id = campaign["id"].as_str().unwrap();
        let (_, publisher) = api
            .post(
                "/publishers",
                &json!({"name": "Call Kings", "payout": {"kind": "fixed", "cents": 500}}),
            )
            .await;
        let publisher_id = publisher["id"].as_str().unwrap();

        let (status, number) = api
            .post(
                "/numbers",
                &json!({"number": "(555) 010-0123", "campaign_id": campaign_id, "publisher_id": publisher_id, "provider": "Twilio"}),
            )
            .await;
        assert_eq!(status, 201, "{backend}: {number}");
        assert_eq!(number["number"], "+15550100123");
        assert_eq!(number["status"], "active");
        let id = number["id"].as_str().unwrap();

        let (status, found) = api.get("/numbers?name=0100123&status=active").await;
        assert_eq!(status, 200, "{backend}: {found}");
        assert_eq!(found["items"][0]["id"], number["id"], "{backend}: searched by digits");
        assert_eq!(api.get("/numbers?name=999").await.1["items"], json!([]));

        // The same number twice in one organization is refused, however it is written.
        let (status, twice) = api
            .post("/numbers", &json!({"number": "+1 555 010 0123", "campaign_id": campaign_id}))
            .await;
        assert_eq!(status, 422, "{backend}: {twice}");
        assert_eq!(twice["fields"]["number"], "is already in this organization");

        // Campaign and publisher in use: 409, nothing deleted.
        let (status, refused) = api.delete(&format!("/campaigns/{campaign_id}")).await;
        assert_eq!(status, 409, "{backend}: {refused}");
        assert_eq!(refused["error"], "cannot delete: 1 numbers still use it");
        assert_eq!(api.delete(&format!("/publishers/{publisher_id}")).await.0, 409, "{backend}");
        assert_eq!(api.get(&format!("/campaigns/{campaign_id}")).await.0, 200);

        // Unassign the publisher, then it may go; the number then the campaign too.
        let (status, _) = api
            .call(Method::PATCH, &format!("/numbers/{id}"), Some(&json!({"publisher_id": null})))
            .await;
        assert_eq!(status, 200, "{backend}");
        assert_eq!(api.delete(&format!("/publishers/{publisher_id}")).await.0, 204, "{backend}");
        assert_eq!(api.delete(&format!("/numbers/{id}")).await.0, 204, "{backend}");
        assert_eq!(api.delete(&format!("/campaigns/{campaign_id}")).await.0, 204, "{backend}");
    }
}

#[tokio::test]
async fn a_number_may_point_only_at_its_own_organizations_campaigns() {
    let server = Server::start().await;
    let (_, a) = server.create_org("Org A", "a@a.example");
    let (_, b) = server.create_org("Org B", "b@b.example");
    let (_, a_campaign) = a.post("/campaigns", &json!({"name": "A", "time_zone": "UTC"})).await;
    let (status, answer) = b
        .post("/numbers", &json!({"number": "+15550100124", "campaign_id": a_campaign["id"]}))
        .await;
    assert_eq!(status, 422, "{answer}");
    assert_eq!(answer["fields"]["campaign_id"], "is not a campaign of this organization");

    let (status, answer) = b.post("/numbers", &json!({"number": "not a number"})).await;
    assert_eq!(status, 422);
    assert!(
        answer["fields"]["number"].is_string() && answer["fields"]["campaign_id"].is_string(),
        "{answer}"
    );
}

#[tokio::test]
async fn importing_numbers_reports_each_bad_line_and_stores_nothing_unless_asked() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let (_, api) = server.create_org("Acme Leads", "dana@acme.example");
        let (_, campaign) =
            api.post("/campaigns", &json!({"name": "Solar", "time_zone": "America/Denver"})).await;
        let pasted = "number,provider\n+1 555 010 0401,Twilio\n(555) 010-0402\nnot a number 12\n\n555.010.0401\n";

        let (status, refused) = api
            .post("/numbers/import", &json!({"numbers": pasted, "campaign_id": campaign["id"]}))
            .await;
        assert_eq!(status, 422, "{backend}: {refused}");
        assert_eq!(refused["error"], "2 lines have errors; nothing was imported");
        assert_eq!(
            refused["errors"],
            json!([
                {"line": 4, "text": "not a number 12", "error": "is not a phone number"},
                {"line": 6, "text": "555.010.0401", "error": "repeats line 2"}
            ]),
            "{backend}"
        );
        assert_eq!(api.get("/numbers").await.1["items"], json!([]), "{backend}: nothing stored");

        let (status, imported) = api
            .post(
                "/numbers/import",
                &json!({"numbers": pasted, "campaign_id": campaign["id"], "provider": "Twilio", "import_valid_lines": true}),
            )
            .await;
        assert_eq!(status, 201, "{backend}: {imported}");
        let numbers: Vec<&str> = imported["imported"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["number"].as_str().unwrap())
            .collect();
        assert_eq!(numbers, ["+15550100401", "+15550100402"], "{backend}");
        assert_eq!(imported["errors"].as_array().unwrap().len(), 2);
        assert_eq!(api.get("/numbers").await.1["items"].as_array().unwrap().len(), 2, "{backend}");

        // A second import of the same list finds them already there.
        let (status, again) = api
            .post(
                "/numbers/import",
                &json!({"numbers": "+15550100401", "campaign_id": campaign["id"]}),
            )
            .await;
        assert_eq!(status, 422, "{backend}");
        assert_eq!(again["errors"][0]["error"], "is already in this organization");
    }
}
