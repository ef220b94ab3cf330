//! Test pings to RTB targets: the buyer receives the target's request with the sample
//! call's values, the answer is read with the target's JSONPaths; loopback addresses
//! are refused unless the operator allows them.

use bidline_tests::{Api, FakeBuyer, Server, ServerOptions};
use serde_json::{Value, json};

async fn rtb_target(api: &Api, ping_url: &str) -> String {
    let (_, buyer) = api.post("/buyers", &json!({"name": "Acme Insurance"})).await;
    let (status, target) = api
        .post(
            "/targets",
            &json!({
                "buyer_id": buyer["id"], "name": "Acme RTB", "destination": "sip:rtb@acme.example",
                "revenue": {"kind": "rtb", "ping_url": ping_url,
                            "headers": {"X-Api-Key": "k-123", "X-Caller": "{{caller.number}}"},
                            "body_template": "{\"cid\":\"{{caller.number}}\",\"state\":\"{{caller.state}}\",\"src\":\"{{tag.utm_source}}\"}",
                            "bid_path": "$.bidAmount", "bid_unit": "dollars",
                            "destination_path": "$.phoneNumber",
                            "min_duration_path": "$.bidTerms[0].callMinDuration"}
            }),
        )
        .await;
    assert_eq!(status, 201, "{target}");
    target["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_test_ping_reaches_the_buyer_and_reads_a_ringba_style_bid() {
    let buyer = FakeBuyer::start(json!({
        "bidAmount": 12.5, "phoneNumber": "+15550100200", "bidTerms": [{"callMinDuration": 90}]
    }))
    .await;
    let server = Server::start().await;
    let (_, api) = server.create_org("Acme Leads", "dana@acme.example");
    let target = rtb_target(&api, &buyer.url("/ping")).await;

    let (status, report) = api.post(&format!("/targets/{target}/test-ping"), &json!({})).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["error"], Value::Null, "{report}");
    assert_eq!(report["response"]["status"], 200);
    assert_eq!(
        report["bid"],
        json!({"accepted": true, "bid_cents": 1250, "destination": "+15550100200", "min_duration_seconds": 90,
               "bid_id": null, "expires_in_seconds": null})
    );
    assert!(report["latency_ms"].as_u64().unwrap() < 1000, "{report}");

    let received = buyer.received();
    assert_eq!(received.len(), 1);
    let ping = &received[0];
    assert_eq!(ping.method, "POST");
    assert_eq!(ping.body, r#"{"cid":"+12125550123","state":"NY","src":"bidline-test"}"#);
    let header = |name: &str| ping.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    assert_eq!(header("x-api-key"), Some("k-123"));
    assert_eq!(header("x-caller"), Some("+12125550123"));
    assert_eq!(header("content-type"), Some("application/json"));

    // A static target has nothing to ping.
    let (_, static_target) = api
        .post(
            "/targets",
            &json!({"buyer_id": api.get("/buyers").await.1["items"][0]["id"], "name": "Static",
                    "destination": "sip:s@acme.example", "revenue": {"kind": "static", "cents": 100}}),
        )
        .await;
    let (status, refused) = api
        .post(&format!("/targets/{}/test-ping", static_target["id"].as_str().unwrap()), &json!({}))
        .await;
    assert_eq!(status, 422, "{refused}");
}

#[tokio::test]
async fn pings_to_loopback_are_refused_unless_the_operator_allows_them() {
    let buyer = FakeBuyer::start(json!({"bid": 100})).await;
    let server = Server::start_with(ServerOptions {
        env: vec![("BIDLINE_ALLOW_PRIVATE_TARGETS".into(), "false".into())],
        ..Default::default()
    })
    .await;
    let (_, api) = server.create_org("Acme Leads", "dana@acme.example");
    let target = rtb_target(&api, &buyer.url("/ping")).await;
    let (status, report) = api.post(&format!("/targets/{target}/test-ping"), &json!({})).await;
    assert_eq!(status, 200, "{report}");
    let error = report["error"].as_str().unwrap();
    assert!(
        error.contains("loopback, private or link-local") && error.contains("127.0.0.1"),
        "{error}"
    );
    assert_eq!(report["response"], Value::Null);
    assert!(buyer.received().is_empty(), "nothing reached the buyer");
}

#[tokio::test]
async fn tokens_in_a_ping_url_are_url_encoded_and_may_not_choose_its_host() {
    let buyer = FakeBuyer::start(json!({"bidAmount": 1})).await;
    let server = Server::start().await;
    let (_, api) = server.create_org("Acme Leads", "dana@acme.example");
    let target =
        rtb_target(&api, &buyer.url("/ping?cid={{caller.number}}&src={{tag.utm_source}}")).await;
    let (status, report) = api.post(&format!("/targets/{target}/test-ping"), &json!({})).await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(buyer.received()[0].uri, "/ping?cid=%2B12125550123&src=bidline-test");

    for url in [
        "http://{{tag.host}}/ping",
        "{{tag.scheme}}://acme.example/",
        "http://acme.example:{{tag.port}}/",
    ] {
        let (_, buyer) = api.post("/buyers", &json!({"name": "B"})).await;
        let (status, refused) = api
            .post(
                "/targets",
                &json!({"buyer_id": buyer["id"], "name": "T", "destination": "sip:rtb@acme.example",
                        "revenue": {"kind": "rtb", "ping_url": url}}),
            )
            .await;
        assert_eq!(status, 422, "{url}: {refused}");
        let why = refused["fields"]["revenue.ping_url"].as_str().unwrap();
        assert!(why.contains("scheme, host or port"), "{url}: {why}");
    }
}
