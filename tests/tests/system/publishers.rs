//! `/api/v1/publishers` on both backends: payout rules, buffers, validation, history.

use bidline_tests::{Server, ServerOptions, TestDatabase};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn publishers_keep_their_payout_rules_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let (_, api) = server.create_org("Acme Leads", "dana@acme.example");

        let (status, fixed) = api
            .post(
                "/publishers",
                &json!({"name": "Call Kings", "payout": {"kind": "fixed", "cents": 1500}}),
            )
            .await;
        assert_eq!(status, 201, "{backend}: {fixed}");
        assert_eq!(fixed["payout"], json!({"kind": "fixed", "cents": 1500}));
        assert!(fixed["conversion_buffer_seconds"].is_null(), "the campaign's buffer applies");
        assert_eq!(fixed["pay_duplicates"], false);

        let (status, share) = api
            .post(
                "/publishers",
                &json!({
                    "name": "Leadsmith",
                    "payout": {"kind": "percent", "percent": 62.5},
                    "conversion_buffer_seconds": 90,
                    "pay_duplicates": true
                }),
            )
            .await;
        assert_eq!(status, 201, "{backend}: {share}");
        let id = share["id"].as_str().unwrap();
        assert_eq!(api.get(&format!("/publishers/{id}")).await.1, share, "{backend}");

        // Switching the rule replaces it whole; null hands the buffer back to the campaign.
        let (status, switched) = api
            .call(
                Method::PATCH,
                &format!("/publishers/{id}"),
                Some(&json!({"payout": {"kind": "fixed", "cents": 900}, "conversion_buffer_seconds": null})),
            )
            .await;
        assert_eq!(status, 200, "{backend}: {switched}");
        assert_eq!(switched["payout"], json!({"kind": "fixed", "cents": 900}));
        assert!(switched["conversion_buffer_seconds"].is_null());
        assert_eq!(switched["pay_duplicates"], true, "untouched fields stay");
        assert_eq!(api.get(&format!("/publishers/{id}")).await.1, switched, "{backend}");

        let (_, history) = api.get(&format!("/publishers/{id}/history")).await;
        assert_eq!(history["items"][0]["before"]["payout"]["percent"], 62.5, "{backend}");
        let (_, listed) = api.get("/publishers?name=lead").await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{backend}: {listed}");
    }
}

#[tokio::test]
async fn bad_payouts_and_buffers_are_422_and_nothing_is_saved() {
    let server = Server::start().await;
    let (_, api) = server.create_org("Acme Leads", "dana@acme.example");
    for (body, field) in [
        (json!({"name": "X"}), "payout"),
        (json!({"name": "X", "payout": {"kind": "fixed", "cents": -5}}), "payout.cents"),
        (json!({"name": "X", "payout": {"kind": "percent", "percent": 101}}), "payout.percent"),
        (json!({"name": "X", "payout": {"kind": "percent", "percent": 33.333}}), "payout.percent"),
        (json!({"name": "X", "payout": {"kind": "share", "percent": 5}}), "payout.kind"),
        (
            json!({"name": "X", "payout": {"kind": "fixed", "cents": 5}, "conversion_buffer_seconds": -1}),
            "conversion_buffer_seconds",
        ),
    ] {
        let (status, answer) = api.post("/publishers", &body).await;
        assert_eq!(status, 422, "{body}: {answer}");
        assert!(answer["fields"][field].is_string(), "{body}: {answer}");
    }
    assert_eq!(api.get("/publishers").await.1["items"], json!([]));
}
