//! Buyer postbacks through the whole system: a real call the buyer took, then the buyer's
//! key reports a sale (by call id, then by caller and time); the call, its timeline, the
//! reports and the webhooks follow. Unknown and revoked keys get 401; another
//! organization's call is 404.

use std::time::Duration;

use bidline_sipp::{Sipp, Transport, free_port};
use bidline_tests::{NewOrg, Receiver, Server, ServerOptions, SessionClient, TestDatabase};
use serde_json::{Value, json};

use crate::calls::{CALLER, Network, carrier, webhooks_live};

async fn postback(server: &Server, key: &str, body: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(server.url(&format!("/postback/v1/{key}")))
        .json(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

/// Every kind of report (from rollups, and from the calls) counts the adjusted call.
async fn reports_show(api: &bidline_tests::Api, converted: i64, revenue: i64, backend: &str) {
    for query in ["group_by=campaign,day", "group_by=buyer", "group_by=campaign,publisher"] {
        let (status, report) = api.get(&format!("/reports?{query}")).await;
        assert_eq!(status, 200, "{backend} {query}: {report}");
        assert_eq!(
            (&report["totals"]["converted"], &report["totals"]["revenue_cents"]),
            (&json!(converted), &json!(revenue)),
            "{backend} {query}: {report}"
        );
        assert_eq!(report["rows"].as_array().unwrap().len(), 1, "{backend} {query}: {report}");
    }
    // The same rows as a file.
    let (status, kind, csv) = api.get_text("/reports?group_by=campaign,day&format=csv").await;
    assert_eq!((status.as_u16(), kind.as_str()), (200, "text/csv; charset=utf-8"), "{csv}");
    let lines: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(&lines[0][..4], ["campaign_id", "campaign_name", "day", "calls"], "{csv}");
    let revenue_at = lines[0].iter().position(|c| *c == "revenue_cents").unwrap();
    assert_eq!(lines.len(), 2, "{csv}");
    assert_eq!(lines[1][revenue_at], revenue.to_string(), "{backend}: {csv}");
}

#[tokio::test]
async fn a_buyer_reports_a_sale_and_the_call_its_reports_and_webhooks_follow_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let server = Server::start_with(ServerOptions {
            database: Some(database),
            args: vec!["--webhook-retry-base-ms".into(), "100".into()],
            ..Default::default()
        })
        .await;
        let port = free_port();
        let network = Network::new(&server, json!({})).await;
        // The sale needs 30 s of talk: the call's 1.5 s do not convert it by themselves.
        let target = network
            .target("Closer", port, json!({"kind": "static", "cents": 2500, "buffer_seconds": 30}))
            .await;
        network.go_live(&[&target]).await;
        let receiver = Receiver::start(vec![]).await;
        let (status, _) = network
            .api
            .post("/webhooks", &json!({"name": "CRM", "url": receiver.url("/"), "events": ["call.adjusted", "call.converted"]}))
            .await;
        assert_eq!(status, 201);
        webhooks_live(&network.api).await;
        let buyer = Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), port, Transport::Udp, 1);
        carrier(&server, CALLER, 1500).passes().await;
        buyer.passes().await;
        let call = network.ended_call(0).await;
        assert_eq!(
            (&call["converted"], &call["revenue_cents"]),
            (&json!(false), &json!(0)),
            "{call:#}"
        );
        let (call_id, buyer_id) =
            (call["id"].as_str().unwrap(), call["buyer_id"].as_str().unwrap());

        let (status, created) =
            network.api.post(&format!("/buyers/{buyer_id}/postback-keys"), &json!({})).await;
        assert_eq!(status, 201, "{created}");
        let key = created["key"].as_str().unwrap().to_owned();
        assert!(key.starts_with(created["key_prefix"].as_str().unwrap()), "{created}");

        // By call id: converted, at the winning bid; the publisher's $4 stands.
        let (status, answer) =
            postback(&server, &key, &json!({"call_id": call_id, "converted": true})).await;
        assert_eq!(status, 200, "{backend}: {answer}");
        // The answer never tells the buyer what the publisher is paid.
        assert_eq!(
            answer,
            json!({"call_id": call_id, "converted": true, "revenue_cents": 2500, "changed": true})
        );
        let (_, detail) = network.api.get(&format!("/calls/{call_id}")).await;
        assert_eq!(
            (&detail["converted"], &detail["revenue_cents"], &detail["profit_cents"]),
            (&json!(true), &json!(2500), &json!(2100))
        );
        let entry = detail["events"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "postback")
            .expect("a timeline entry");
        assert_eq!(
            entry["detail"]["revenue_cents"],
            json!({"before": 0, "after": 2500}),
            "{entry}"
        );
        assert_eq!(entry["detail"]["buyer_id"], buyer_id);
        let (_, converted) = network.api.get("/calls?converted=true").await;
        assert_eq!(converted["items"][0]["id"], call_id, "{converted}");
        let owner =
            SessionClient::signed_in(server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;
        let (status, today) =
            owner.call("campaign_today", &[("campaign_id", &network.campaign)]).await;
        assert_eq!(status, 200, "{today}");
        assert_eq!(
            (&today["converted"], &today["revenue_cents"]),
            (&json!(1), &json!(2500)),
            "{backend}: {today}"
        );
        reports_show(&network.api, 1, 2500, backend).await;

        // By caller and time, as a URL: the revenue is adjusted.
        let query = [
            ("caller", "(212) 555-0123"),
            ("at", call["started_at"].as_str().unwrap()),
            ("revenue_cents", "1800"),
        ];
        let response = reqwest::Client::new()
            .get(server.url(&format!("/postback/v1/{key}")))
            .query(&query)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(
            (&answer["revenue_cents"], &answer["converted"]),
            (&json!(1800), &json!(true)),
            "{answer}"
        );
        reports_show(&network.api, 1, 1800, backend).await;

        // Webhooks: adjusted and converted, then adjusted again.
        let delivered = receiver.wait_for(3, Duration::from_secs(10)).await;
        let events: Vec<&str> =
            delivered.iter().map(|r| r.header("bidline-event").unwrap()).collect();
        assert_eq!(events, ["call.adjusted", "call.converted", "call.adjusted"], "{backend}");
        let last: Value = serde_json::from_str(&delivered[2].body).unwrap();
        assert_eq!(last["call"]["revenue_cents"], 1800);

        // Not a report: nothing named, or nothing said.
        let (status, body) = postback(&server, &key, &json!({"converted": true})).await;
        assert_eq!(status, 422, "{body}");
        let (status, body) = postback(&server, &key, &json!({"call_id": call_id})).await;
        assert_eq!(status, 422, "{body}");
        let (status, _) =
            postback(&server, &key, &json!({"call_id": call_id, "revenue_cents": -5})).await;
        assert_eq!(status, 422);

        // Another organization's buyer cannot touch this call.
        let (_, other) = server.create_org("Other Net", "olga@other.example");
        let (_, other_buyer) = other.post("/buyers", &json!({"name": "Theirs"})).await;
        let (_, other_key) = other
            .post(
                &format!("/buyers/{}/postback-keys", other_buyer["id"].as_str().unwrap()),
                &json!({}),
            )
            .await;
        let (status, _) = postback(
            &server,
            other_key["key"].as_str().unwrap(),
            &json!({"call_id": call_id, "converted": false}),
        )
        .await;
        assert_eq!(status, 404, "{backend}");
        let (status, _) = network
            .api
            .get(&format!("/buyers/{}/postback-keys", other_buyer["id"].as_str().unwrap()))
            .await;
        assert_eq!(status, 404);

        // Unknown and revoked keys.
        let (status, body) =
            postback(&server, "pbk_nonsense", &json!({"call_id": call_id, "converted": false}))
                .await;
        assert_eq!(
            (status, body["error"].as_str()),
            (401, Some("unknown or revoked postback key"))
        );
        let key_id = created["id"].as_str().unwrap();
        let (status, _) =
            network.api.delete(&format!("/buyers/{buyer_id}/postback-keys/{key_id}")).await;
        assert_eq!(status, 204);
        let (status, _) =
            postback(&server, &key, &json!({"call_id": call_id, "converted": false})).await;
        assert_eq!(status, 401);
        let (_, keys) = network.api.get(&format!("/buyers/{buyer_id}/postback-keys")).await;
        assert!(keys["items"][0]["revoked_at"].is_string(), "{keys}");
        let (_, detail) = network.api.get(&format!("/calls/{call_id}")).await;
        assert_eq!(detail["revenue_cents"], 1800, "{backend}: a refused postback changed the call");
    }
}
