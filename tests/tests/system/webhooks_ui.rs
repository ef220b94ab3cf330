//! The webhooks page in chromium: an endpoint made in the dashboard shows its secret
//! once; a real call's delivery appears in its log, and resending it from there sends the
//! same delivery again.

use std::time::Duration;

use bidline_sipp::{Sipp, Transport, free_port};
use bidline_tests::{Browser, NewOrg, Receiver, Server, ServerOptions};
use serde_json::json;

use crate::calls::{CALLER, Network, carrier, webhooks_live};

#[tokio::test]
async fn an_endpoint_made_in_the_dashboard_logs_a_calls_delivery_and_resends_it() {
    let server = Server::start_with(ServerOptions {
        args: vec!["--webhook-retry-base-ms".into(), "100".into()],
        ..Default::default()
    })
    .await;
    let port = free_port();
    let network = Network::new(&server, json!({})).await;
    let target = network.target("Closer", port, json!({"kind": "static", "cents": 2500})).await;
    network.go_live(&[&target]).await;
    let receiver = Receiver::start(vec![]).await;

    let browser = Browser::start().await;
    browser.sign_in(&server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;
    browser.open(&server.url("/app/webhooks/new")).await;
    browser.fill("#field-name", "CRM").await;
    browser.fill("#field-url", &receiver.url("/hook")).await;
    // Events are ticked, call.completed from the start.
    let completed = browser.find("#field-events-call-completed").await;
    assert_eq!(completed.prop("checked").await.unwrap().as_deref(), Some("true"));
    browser.click("#field-events-call-converted").await;
    browser.click("#save").await;
    let secret = browser.find("#new-secret").await.prop("value").await.unwrap().unwrap_or_default();
    assert!(secret.starts_with("whsec_"), "{secret}");
    browser.click("#open-created").await;
    let path = browser
        .wait_for_path_where(|path| {
            path.strip_prefix("/app/webhooks/").is_some_and(|id| id.len() == 36)
        })
        .await;
    browser.find("#no-deliveries").await;
    let webhook_id = path.trim_start_matches("/app/webhooks/");
    let (_, webhook) = network.api.get(&format!("/webhooks/{webhook_id}")).await;
    assert_eq!(webhook["events"], json!(["call.completed", "call.converted"]), "{webhook}");
    assert!(!browser.source().await.contains(&secret), "the secret is shown again");
    webhooks_live(&network.api).await;

    let buyer = Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), port, Transport::Udp, 1);
    carrier(&server, CALLER, 500).passes().await;
    buyer.passes().await;
    let delivered = receiver.wait_for(1, Duration::from_secs(10)).await;
    let delivery = delivered[0].header("bidline-delivery").unwrap().to_owned();

    // The log shows it (the page refreshes itself), then a resend sends it again.
    let row = format!("#deliveries tr[data-delivery='{delivery}']");
    browser.wait_for_text(&format!("{row} .status"), |text| text == "delivered").await;
    browser.wait_for_text(&format!("{row} .attempts"), |text| text == "1").await;
    browser.click(&format!("{row} .resend")).await;
    let started = std::time::Instant::now();
    while receiver.received().len() < 2 {
        assert!(started.elapsed() < Duration::from_secs(10), "not resent from {path}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let resent = receiver.received().pop().unwrap();
    assert_eq!(resent.header("bidline-delivery"), Some(delivery.as_str()));
    assert_eq!(resent.header("bidline-event"), Some("call.completed"));
    browser.wait_for_text(&format!("{row} .attempts"), |text| text == "2").await;

    // A new secret, shown once; the old one still signs for the overlap.
    browser.click("#rotate-secret").await;
    browser.click("#confirm-rotate").await;
    let rotated =
        browser.find("#rotated-secret").await.prop("value").await.unwrap().unwrap_or_default();
    assert!(rotated.starts_with("whsec_") && rotated != secret, "{rotated}");
    let id = path.rsplit('/').next().unwrap();
    let (_, webhook) = network.api.get(&format!("/webhooks/{id}")).await;
    assert!(webhook["previous_secret_until"].is_string(), "{webhook}");
    browser.close().await;
}

#[tokio::test]
async fn a_buyers_postback_key_is_made_on_its_page_and_stops_working_when_revoked() {
    let server = Server::start().await;
    let (_, api) = server.create_org("Acme Leads", "dana@acme.example");
    let (_, buyer) = api.post("/buyers", &json!({"name": "Acme Insurance"})).await;
    let buyer = buyer["id"].as_str().unwrap().to_owned();
    let browser = Browser::start().await;
    browser.sign_in(&server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;
    browser.open(&server.url(&format!("/app/buyers/{buyer}"))).await;
    browser.find("#no-postback-keys").await;
    browser.click("#new-postback-key").await;
    let key =
        browser.find("#new-postback-secret").await.prop("value").await.unwrap().unwrap_or_default();
    assert!(key.starts_with("pbk_"), "{key}");
    browser
        .wait_for_text("#postback-keys .postback-key code", |text| {
            key.starts_with(text.trim_end_matches('…'))
        })
        .await;

    let report = |key: String| {
        let url = server.url(&format!("/postback/v1/{key}"));
        async move {
            let body =
                json!({"call_id": "0190b2a4-0000-7000-8000-000000000000", "converted": true});
            reqwest::Client::new().post(url).json(&body).send().await.unwrap().status().as_u16()
        }
    };
    // A live key: the call is simply not one of this buyer's.
    assert_eq!(report(key.clone()).await, 404);
    browser.click("#postback-keys .revoke").await;
    browser
        .wait_for_text("#postback-keys .postback-key td:last-child", |text| {
            text.starts_with("Revoked")
        })
        .await;
    assert_eq!(report(key).await, 401);
    browser.close().await;
}
