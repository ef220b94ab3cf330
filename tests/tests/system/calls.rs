//! Calls through the whole system: sipp as the carrier sends real SIP calls to Bidline,
//! which screens them, runs the auction against buyers' ping endpoints on loopback and
//! rings sipp buyers in the ranked order; the call record (status, winner, money,
//! timeline, auction) is then read back through the API — on both backends.

use std::time::{Duration, Instant};

use bidline_sipp::{Sipp, Transport, free_port, scenario};
use bidline_tests::{Api, FakeBuyer, Reply, Server, ServerOptions, TestDatabase};
use reqwest::Method;
use serde_json::{Value, json};

pub const DIALED: &str = "+18005550100";
pub const CALLER: &str = "+12125550123";

/// An organization ready to take calls on [`DIALED`] from 127.0.0.1: an inbound trunk,
/// a campaign (with `campaign` merged into its fields), a publisher paid $4 a call
/// after 1 s, and the number.
pub struct Network {
    pub api: Api,
    pub api_key: String,
    pub campaign: String,
    publisher: String,
}

impl Network {
    pub async fn new(server: &Server, campaign: Value) -> Network {
        let (org, api) = server.create_org("Acme Leads", "dana@acme.example");
        let (status, trunk) = api
            .post(
                "/trunks",
                &json!({"name": "Carrier", "direction": "inbound", "allowed_cidrs": ["127.0.0.1"]}),
            )
            .await;
        assert_eq!(status, 201, "{trunk}");
        let mut fields = json!({"name": "Auto insurance", "time_zone": "America/New_York",
                                "conversion_buffer_seconds": 1, "duplicate_window_hours": 24});
        fields.as_object_mut().unwrap().extend(campaign.as_object().unwrap().clone());
        let (status, campaign) = api.post("/campaigns", &fields).await;
        assert_eq!(status, 201, "{campaign}");
        let (status, publisher) = api
            .post(
                "/publishers",
                &json!({"name": "Pub One", "payout": {"kind": "fixed", "cents": 400}}),
            )
            .await;
        assert_eq!(status, 201, "{publisher}");
        Network {
            api,
            api_key: org.api_key,
            campaign: campaign["id"].as_str().unwrap().to_owned(),
            publisher: publisher["id"].as_str().unwrap().to_owned(),
        }
    }

    /// A target of a new buyer ringing `sip:buyer@127.0.0.1:{port}`, paying `revenue`.
    pub async fn target(&self, name: &str, port: u16, revenue: Value) -> String {
        let (_, buyer) = self.api.post("/buyers", &json!({"name": format!("{name} Inc")})).await;
        let (status, target) = self
            .api
            .post(
                "/targets",
                &json!({"buyer_id": buyer["id"], "name": name, "ring_timeout_seconds": 5,
                        "destination": format!("sip:buyer@127.0.0.1:{port}"), "revenue": revenue}),
            )
            .await;
        assert_eq!(status, 201, "{target}");
        target["id"].as_str().unwrap().to_owned()
    }

    /// Puts `targets` in the ring tree (all priority 1) and the number in service, and
    /// waits until this node routes with it.
    pub async fn go_live(&self, targets: &[&str]) {
        let tree: Vec<Value> = targets.iter().map(|t| json!({"target_id": t})).collect();
        self.go_live_with(tree, json!({})).await;
    }

    /// Like [`Network::go_live`] with `tree` as written, and `number` merged into the
    /// number's fields.
    pub async fn go_live_with(&self, tree: Vec<Value>, number: Value) {
        let (status, body) = self
            .api
            .call(
                Method::PUT,
                &format!("/campaigns/{}/ring-tree", self.campaign),
                Some(&Value::from(tree)),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        let mut fields =
            json!({"number": DIALED, "campaign_id": self.campaign, "publisher_id": self.publisher});
        fields.as_object_mut().unwrap().extend(number.as_object().unwrap().clone());
        let (status, number) = self.api.post("/numbers", &fields).await;
        assert_eq!(status, 201, "{number}");
        live_on(&self.api).await;
    }

    /// The newest call, once there are more than `before` and it has ended, with its
    /// events and bids.
    pub async fn ended_call(&self, before: usize) -> Value {
        let started = Instant::now();
        loop {
            let (status, page) = self.api.get("/calls").await;
            assert_eq!(status, 200, "{page}");
            let calls = page["items"].as_array().unwrap();
            if calls.len() > before
                && let Some(call) = calls.first()
                && call["ended_at"].is_string()
            {
                let (status, detail) =
                    self.api.get(&format!("/calls/{}", call["id"].as_str().unwrap())).await;
                assert_eq!(status, 200, "{detail}");
                return detail;
            }
            assert!(started.elapsed() < Duration::from_secs(5), "no ended call: {page}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Waits until the node `api` speaks to routes [`DIALED`].
async fn live_on(api: &Api) {
    let started = Instant::now();
    while api.get(&format!("/routing/numbers/{DIALED}")).await.0 != 200 {
        assert!(started.elapsed() < Duration::from_secs(2), "the number never went live");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until this node routes with every enabled webhook of the organization: the
/// events of calls that come in from then on are written for them.
pub async fn webhooks_live(api: &Api) {
    let (status, list) = api.get("/webhooks").await;
    assert_eq!(status, 200, "{list}");
    let enabled = list["items"].as_array().unwrap().iter().filter(|w| w["enabled"] == true).count();
    let started = Instant::now();
    while api.get("/routing").await.1["webhooks"]["active"] != enabled {
        assert!(started.elapsed() < Duration::from_secs(2), "the webhooks never went live");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub fn carrier(server: &Server, caller: &str, talk_ms: u64) -> Sipp {
    let fills = vec![("__CALLER__", caller.to_owned()), ("__TALK_MS__", talk_ms.to_string())];
    Sipp::uac_to(scenario("carrier.xml", fills), server.sip_addr(), DIALED, Transport::Udp, 1)
}

/// A call from `caller` that Bidline refuses with `status`.
pub fn refused(server: &Server, caller: &str, status: u16) -> Sipp {
    let fills = vec![("__CALLER__", caller.to_owned()), ("__STATUS__", status.to_string())];
    Sipp::uac_to(
        scenario("carrier_refused.xml", fills),
        server.sip_addr(),
        DIALED,
        Transport::Udp,
        1,
    )
}

fn kinds(call: &Value) -> Vec<&str> {
    call["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

fn bid<'a>(call: &'a Value, target: &str) -> &'a Value {
    call["bids"].as_array().unwrap().iter().find(|b| b["target_id"] == target).unwrap()
}

#[tokio::test]
async fn a_busy_first_choice_falls_back_and_the_call_is_settled_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let network = Network::new(&server, json!({})).await;
        let (busy_port, answer_port) = (free_port(), free_port());
        let busy = network
            .target(
                "Busy",
                busy_port,
                json!({"kind": "static", "cents": 2500, "buffer_seconds": 1}),
            )
            .await;
        let answers = network
            .target(
                "Answers",
                answer_port,
                json!({"kind": "static", "cents": 1500, "buffer_seconds": 1}),
            )
            .await;
        network.go_live(&[&answers, &busy]).await;

        let busy_buyer = Sipp::uas(scenario("uas_busy.xml", vec![]), busy_port, Transport::Udp, 1);
        let buyer =
            Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), answer_port, Transport::Udp, 1);
        carrier(&server, CALLER, 1_500).passes().await;
        busy_buyer.passes().await;
        buyer.passes().await;

        let call = network.ended_call(0).await;
        assert_eq!(call["status"], "completed", "{backend}: {call:#}");
        assert_eq!(call["caller"], CALLER);
        assert_eq!(call["dialed"], DIALED);
        assert_eq!(call["campaign_id"], network.campaign.as_str());
        assert_eq!(call["publisher_id"], network.publisher.as_str());
        assert_eq!(call["target_id"], answers.as_str(), "{backend}: the second choice took it");
        assert_eq!(call["end_reason"], "the caller hung up");
        assert_eq!(call["talk_seconds"], 1, "{backend}: {call:#}");
        assert_eq!(call["duplicate"], false);
        assert_eq!(call["converted"], true);
        assert_eq!(call["revenue_cents"], 1500);
        assert_eq!(call["payout_cents"], 400);
        assert_eq!(call["profit_cents"], 1100);
        assert_eq!(call["tags"]["caller.state"], "NY", "{backend}: {call:#}");
        assert_eq!(call["tags"]["caller.time_zone"], "America/New_York");

        let busy_bid = bid(&call, &busy);
        assert_eq!(
            (&busy_bid["outcome"], &busy_bid["rank"], &busy_bid["won"], &busy_bid["bid_cents"]),
            (&json!("no_answer"), &json!(0), &json!(false), &json!(2500)),
            "{backend}: {call:#}"
        );
        assert_eq!(busy_bid["reason"], "486 Busy Here");
        let won = bid(&call, &answers);
        assert_eq!(
            (&won["outcome"], &won["rank"], &won["won"]),
            (&json!("connected"), &json!(1), &json!(true))
        );

        assert_eq!(
            kinds(&call),
            [
                "initiated",
                "screened",
                "auction",
                "routed",
                "leg.trying",
                "leg.failed",
                "leg.trying",
                "leg.ringing",
                "leg.answered",
                "bridged",
                "ended"
            ],
            "{backend}: {call:#}"
        );

        // The same caller again within the campaign's window is a duplicate, still routed.
        let buyer =
            Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), answer_port, Transport::Udp, 1);
        let busy_buyer = Sipp::uas(scenario("uas_busy.xml", vec![]), busy_port, Transport::Udp, 1);
        carrier(&server, CALLER, 100).passes().await;
        buyer.passes().await;
        busy_buyer.passes().await;
        let again = network.ended_call(1).await;
        assert_ne!(again["id"], call["id"]);
        assert_eq!((&again["duplicate"], &again["status"]), (&json!(true), &json!("completed")));
        assert_eq!(again["converted"], false, "{backend}: 0.1 s is under the 1 s buffer");
        assert_eq!((&again["revenue_cents"], &again["payout_cents"]), (&json!(0), &json!(0)));
        let (_, duplicates) = network.api.get("/calls?duplicate=true").await;
        assert_eq!(duplicates["items"].as_array().unwrap().len(), 1, "{backend}");
    }
}

#[tokio::test]
async fn the_auction_ranks_live_bids_and_records_every_lost_one_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        // Buyers: one bids $30 after 100 ms, one answers garbage, one errors, one declines,
        // one answers after its 300 ms timeout; a static target offers $10.
        let rich = FakeBuyer::scripted(
            Reply::json(json!({"accept": true, "bid": 3000, "bid_id": "b-77", "min_duration": 1}))
                .after(Duration::from_millis(100)),
        )
        .await;
        let garbage = FakeBuyer::scripted(Reply {
            status: 200,
            body: "<html>oops".into(),
            delay: Duration::ZERO,
        })
        .await;
        let broken =
            FakeBuyer::scripted(Reply { status: 500, body: "{}".into(), delay: Duration::ZERO })
                .await;
        let declines = FakeBuyer::start(json!({"accept": false, "bid": 5000})).await;
        let slow = FakeBuyer::scripted(
            Reply::json(json!({"accept": true, "bid": 9000})).after(Duration::from_secs(2)),
        )
        .await;
        let server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let network = Network::new(&server, json!({"floor_cents": 500})).await;
        let rtb = |buyer: &FakeBuyer| json!({"kind": "rtb", "ping_url": buyer.url("/ping"), "timeout_ms": 300, "buffer_seconds": 30});
        let rich_port = free_port();
        let rich_target = network.target("Rich", rich_port, rtb(&rich)).await;
        let garbage_target = network.target("Garbage", free_port(), rtb(&garbage)).await;
        let broken_target = network.target("Broken", free_port(), rtb(&broken)).await;
        let declines_target = network.target("Declines", free_port(), rtb(&declines)).await;
        let slow_target = network.target("Slow", free_port(), rtb(&slow)).await;
        let static_target =
            network.target("Static", free_port(), json!({"kind": "static", "cents": 1000})).await;
        let cheap_target =
            network.target("Cheap", free_port(), json!({"kind": "static", "cents": 100})).await;
        network
            .go_live(&[
                &static_target,
                &garbage_target,
                &broken_target,
                &declines_target,
                &slow_target,
                &rich_target,
                &cheap_target,
            ])
            .await;

        let buyer = Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), rich_port, Transport::Udp, 1);
        carrier(&server, CALLER, 1_200).passes().await;
        buyer.passes().await;

        let call = network.ended_call(0).await;
        assert_eq!(call["target_id"], rich_target.as_str(), "{backend}: {call:#}");
        assert_eq!(call["bid_cents"], 3000);
        assert_eq!(call["buffer_seconds"], 1, "the bid's minimum duration wins over the target's");
        assert_eq!((&call["converted"], &call["revenue_cents"]), (&json!(true), &json!(3000)));

        let won = bid(&call, &rich_target);
        assert_eq!(
            (&won["outcome"], &won["won"], &won["rank"]),
            (&json!("connected"), &json!(true), &json!(0))
        );
        assert_eq!(won["http_status"], 200);
        assert!(won["latency_ms"].as_i64().unwrap() >= 100, "{won}");
        assert!(won["pinged_at"].is_string());
        let lost = |target: &str| {
            let b = bid(&call, target);
            (
                b["outcome"].as_str().unwrap().to_owned(),
                b["reason"].as_str().unwrap_or("").to_owned(),
            )
        };
        let (outcome, reason) = lost(&garbage_target);
        assert_eq!(outcome, "failed");
        assert!(reason.starts_with("the answer is not JSON"), "{reason}");
        assert_eq!(lost(&broken_target), ("failed".into(), "the buyer answered HTTP 500".into()));
        assert_eq!(bid(&call, &broken_target)["http_status"], 500);
        assert_eq!(lost(&declines_target), ("no_bid".into(), "declined".into()));
        assert_eq!(lost(&slow_target), ("failed".into(), "no answer within 300 ms".into()));
        assert_eq!(lost(&static_target), ("ranked".into(), "not rung".into()));
        assert_eq!(bid(&call, &static_target)["rank"], 1);
        assert_eq!(
            lost(&cheap_target),
            ("below_floor".into(), "under the floor of 500 cents".into())
        );
        for buyer in [&rich, &garbage, &broken, &declines, &slow] {
            let pings = buyer.received();
            assert_eq!(pings.len(), 1);
            let ping: Value = serde_json::from_str(&pings[0].body).unwrap();
            assert_eq!(ping["caller"]["number"], CALLER);
            assert_eq!(ping["ping_id"], call["id"]);
        }
        // The auction closed when the last buyer was done (the 300 ms timeout), not later.
        let auction =
            call["events"].as_array().unwrap().iter().find(|e| e["kind"] == "auction").unwrap();
        let took = auction["detail"]["ms"].as_f64().unwrap();
        assert!((250.0..1_000.0).contains(&took), "{auction}");
    }
}

#[tokio::test]
async fn screening_refuses_withheld_callers_and_numbers_nobody_has() {
    let server = Server::start().await;
    let network = Network::new(&server, json!({"reject_anonymous": true})).await;
    let busy_port = free_port();
    let target = network.target("Busy", busy_port, json!({"kind": "static", "cents": 1000})).await;
    network.go_live(&[&target]).await;

    refused(&server, "anonymous", 403).passes().await;
    let call = network.ended_call(0).await;
    assert_eq!(call["status"], "rejected", "{call:#}");
    assert_eq!((&call["caller"], &call["caller_anonymous"]), (&Value::Null, &json!(true)));
    assert_eq!(call["end_reason"], "the caller withheld their number");
    assert_eq!(call["sip_status"], 403);
    assert_eq!(kinds(&call), ["initiated", "refused", "ended"]);

    // A blocked caller is refused on every campaign; a paused block lets them through.
    let (status, blocked) = network
        .api
        .post("/blocked-callers", &json!({"number": "(212) 555-0123", "reason": "abusive"}))
        .await;
    assert_eq!(status, 201, "{blocked}");
    assert_eq!(blocked["number"], CALLER);
    blocked_in_routing(&network.api, 1, 0).await;
    refused(&server, CALLER, 403).passes().await;
    let call = network.ended_call(1).await;
    assert_eq!(
        (&call["status"], &call["end_reason"]),
        (&json!("rejected"), &json!("the caller is blocked"))
    );
    let path = format!("/blocked-callers/{}", blocked["id"].as_str().unwrap());
    let (status, _) =
        network.api.call(Method::PATCH, &path, Some(&json!({"status": "paused"}))).await;
    assert_eq!(status, 200);
    blocked_in_routing(&network.api, 0, 1).await;
    let busy = Sipp::uas(scenario("uas_busy.xml", vec![]), busy_port, Transport::Udp, 1);
    refused(&server, CALLER, 486).passes().await;
    busy.passes().await;
    let call = network.ended_call(2).await;
    assert_eq!(
        (&call["status"], &call["end_reason"]),
        (&json!("failed"), &json!("no buyer answered"))
    );

    // A number no organization has is refused and recorded nowhere.
    let unknown = Sipp::uac_to(
        scenario(
            "carrier_refused.xml",
            vec![("__CALLER__", CALLER.to_owned()), ("__STATUS__", "404".to_owned())],
        ),
        server.sip_addr(),
        "+18005559999",
        Transport::Udp,
        1,
    );
    unknown.passes().await;
    let (_, page) = network.api.get("/calls").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 3, "{page}");
}

/// Waits until the node `api` speaks to routes with this many active and paused blocked
/// callers.
async fn blocked_in_routing(api: &Api, active: u64, paused: u64) {
    let started = Instant::now();
    while api.get("/routing").await.1["blocked_callers"]
        != json!({"active": active, "paused": paused})
    {
        assert!(started.elapsed() < Duration::from_secs(2), "the change never reached routing");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn two_nodes_on_one_postgresql_share_a_targets_concurrency_cap() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let url = database.url().to_owned();
    let a =
        Server::start_with(ServerOptions { database: Some(database), ..Default::default() }).await;
    let b = Server::start_with(ServerOptions {
        env: vec![("DATABASE_URL".into(), url)],
        ..Default::default()
    })
    .await;
    let network = Network::new(&a, json!({})).await;
    let (capped_port, other_port) = (free_port(), free_port());
    let capped =
        network.target("Capped", capped_port, json!({"kind": "static", "cents": 2000})).await;
    let (status, body) = network
        .api
        .call(Method::PATCH, &format!("/targets/{capped}"), Some(&json!({"concurrency_cap": 1})))
        .await;
    assert_eq!(status, 200, "{body}");
    let other = network.target("Other", other_port, json!({"kind": "static", "cents": 2000})).await;
    network
        .go_live_with(
            vec![
                json!({"target_id": capped, "priority": 0}),
                json!({"target_id": other, "priority": 1}),
            ],
            json!({}),
        )
        .await;
    live_on(&Api::new(b.url(""), &network.api_key)).await;

    // Both buyers could take both calls; only the cap stops the second at `capped`.
    let capped_buyer =
        Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), capped_port, Transport::Udp, 1);
    let other_buyer =
        Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), other_port, Transport::Udp, 1);
    let on_a = carrier(&a, CALLER, 2_000);
    let on_b = carrier(&b, "+13125550188", 2_000);
    on_a.passes().await;
    on_b.passes().await;
    capped_buyer.passes().await;
    other_buyer.passes().await;

    let started = Instant::now();
    let calls = loop {
        let (_, page) = network.api.get("/calls?status=completed").await;
        let calls = page["items"].as_array().unwrap().clone();
        if calls.len() == 2 {
            break calls;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "{page}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let mut targets: Vec<&str> = calls.iter().map(|c| c["target_id"].as_str().unwrap()).collect();
    targets.sort();
    let mut expected = vec![capped.as_str(), other.as_str()];
    expected.sort();
    assert_eq!(targets, expected, "{calls:#?}");
    let second = calls.iter().find(|c| c["target_id"] == other.as_str()).unwrap();
    let (_, detail) = network.api.get(&format!("/calls/{}", second["id"].as_str().unwrap())).await;
    let refused = bid(&detail, &capped);
    assert_eq!(refused["outcome"], "ineligible", "{detail:#}");
    assert_eq!(refused["reason"], "concurrency cap reached (1 live)");
}

#[tokio::test]
async fn a_standing_bid_is_reused_and_a_hidden_caller_is_never_told() {
    let buyer = FakeBuyer::start(
        json!({"accept": true, "bid": 2000, "bid_id": "b-9", "expires_in": 60, "min_duration": 1}),
    )
    .await;
    let server = Server::start().await;
    let network = Network::new(&server, json!({})).await;
    let port = free_port();
    let target = network
        .target(
            "Careful",
            port,
            json!({"kind": "rtb", "ping_url": buyer.url("/ping"), "hide_caller": true}),
        )
        .await;
    network.go_live(&[&target]).await;

    let answering = Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), port, Transport::Udp, 2);
    carrier(&server, CALLER, 100).passes().await;
    let first = network.ended_call(0).await;
    carrier(&server, CALLER, 100).passes().await;
    answering.passes().await;
    let second = network.ended_call(1).await;

    let pings = buyer.received();
    assert_eq!(pings.len(), 1, "the second call reused the standing bid");
    let ping: Value = serde_json::from_str(&pings[0].body).unwrap();
    assert_eq!(ping["caller"], json!({"number": null, "area_code": "212", "state": "NY"}));
    assert_eq!(ping["expires_in_ms"], 1000);
    let (asked, reused) = (bid(&first, &target), bid(&second, &target));
    assert_eq!((&asked["reused"], &asked["bid_id"]), (&json!(false), &json!("b-9")));
    assert_eq!((&reused["reused"], &reused["bid_id"]), (&json!(true), &json!("b-9")));
    assert_eq!((&reused["outcome"], &reused["bid_cents"]), (&json!("connected"), &json!(2000)));
    assert_eq!(reused["pinged_at"], Value::Null);
    assert_eq!(second["target_id"], target.as_str());

    // The usage ledger: one ping (a reused bid is none), a minute for each answered call.
    let (_, billing) = network.api.get("/billing").await;
    let usage = |meter: &str| {
        let usage = billing["usage"].as_array().unwrap().iter().find(|u| u["meter"] == meter);
        usage.unwrap()["quantity"].clone()
    };
    assert_eq!((usage("rtb_pings"), usage("call_minutes")), (json!(1), json!(2)), "{billing}");
}

#[tokio::test]
async fn a_caller_who_hangs_up_during_the_auction_stops_it() {
    let slow = FakeBuyer::scripted(
        Reply::json(json!({"accept": true, "bid": 5000})).after(Duration::from_secs(3)),
    )
    .await;
    let server = Server::start().await;
    let network = Network::new(&server, json!({})).await;
    let target = network
        .target(
            "Slow",
            free_port(),
            json!({"kind": "rtb", "ping_url": slow.url("/ping"), "timeout_ms": 5000}),
        )
        .await;
    network.go_live(&[&target]).await;

    let fills = vec![("__CALLER__", CALLER.to_owned()), ("__WAIT_MS__", "300".to_owned())];
    let started = Instant::now();
    Sipp::uac_to(
        scenario("carrier_cancels.xml", fills),
        server.sip_addr(),
        DIALED,
        Transport::Udp,
        1,
    )
    .passes()
    .await;
    let call = network.ended_call(0).await;
    assert!(started.elapsed() < Duration::from_secs(2), "waited for the buyer: {call:#}");
    assert_eq!(call["status"], "abandoned", "{call:#}");
    assert_eq!(call["sip_status"], 487);
    assert!(!kinds(&call).contains(&"auction"), "the auction was stopped: {call:#}");
    assert_eq!(slow.received().len(), 1, "the buyer had been asked");
}

#[tokio::test]
async fn a_crashed_node_leaves_no_call_open_and_its_counts_survive() {
    let database = TestDatabase::sqlite();
    let url = database.url().to_owned();
    let mut first =
        Server::start_with(ServerOptions { database: Some(database), ..Default::default() }).await;
    let network = Network::new(&first, json!({})).await;
    let (capped_port, other_port) = (free_port(), free_port());
    let capped =
        network.target("Capped", capped_port, json!({"kind": "static", "cents": 3000})).await;
    let path = format!("/targets/{capped}");
    let (status, body) =
        network.api.call(Method::PATCH, &path, Some(&json!({"caps": {"total": 1}}))).await;
    assert_eq!(status, 200, "{body}");
    let other = network.target("Other", other_port, json!({"kind": "static", "cents": 1000})).await;
    network.go_live(&[&capped, &other]).await;

    // A call connected to the capped target, then the node dies (SIGKILL).
    let buyer = Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), capped_port, Transport::Udp, 1);
    let _abandoned_carrier = carrier(&first, CALLER, 30_000);
    let started = Instant::now();
    loop {
        let (_, page) = network.api.get("/calls?status=connected").await;
        if page["items"].as_array().unwrap().len() == 1 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(5), "never connected: {page}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().await;
    drop(buyer);

    // The next node on the same database closes it, and still counts the capped target's call.
    let second = Server::start_with(ServerOptions {
        env: vec![("DATABASE_URL".into(), url)],
        ..Default::default()
    })
    .await;
    let api = Api::new(second.url(""), &network.api_key);
    let (_, page) = api.get("/calls").await;
    let call = &page["items"][0];
    assert_eq!(call["status"], "interrupted", "{page}");
    assert_eq!(call["end_reason"], "its node stopped while the call was live");
    assert!(call["ended_at"].is_string());
    live_on(&api).await;
    let answering =
        Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), other_port, Transport::Udp, 1);
    carrier(&second, "+13125550188", 100).passes().await;
    answering.passes().await;
    let (_, page) = api.get("/calls?status=completed").await;
    let next = &page["items"][0];
    assert_eq!(next["target_id"], other.as_str(), "{page}");
    let (_, detail) = api.get(&format!("/calls/{}", next["id"].as_str().unwrap())).await;
    assert_eq!(bid(&detail, &capped)["reason"], "total cap reached (1 call)");
    // Both answered calls are billed: the interrupted one up to its node's last heartbeat.
    let (_, billing) = api.get("/billing").await;
    let minutes =
        billing["usage"].as_array().unwrap().iter().find(|u| u["meter"] == "call_minutes");
    assert_eq!(minutes.unwrap()["quantity"], 2, "{billing}");
}

#[tokio::test]
async fn a_repeat_caller_goes_back_to_the_target_that_took_their_last_call() {
    let server = Server::start().await;
    let network = Network::new(&server, json!({"repeat_caller_same_target": true})).await;
    let (rich_port, usual_port) = (free_port(), free_port());
    let rich = network.target("Rich", rich_port, json!({"kind": "static", "cents": 2000})).await;
    let usual = network.target("Usual", usual_port, json!({"kind": "static", "cents": 1000})).await;
    network.go_live(&[&rich, &usual]).await;

    // The first call: the richer target is busy, the other takes it.
    let busy = Sipp::uas(scenario("uas_busy.xml", vec![]), rich_port, Transport::Udp, 1);
    let usual_buyer =
        Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), usual_port, Transport::Udp, 2);
    carrier(&server, CALLER, 100).passes().await;
    busy.passes().await;
    assert_eq!(network.ended_call(0).await["target_id"], usual.as_str());

    // The caller again: the richer target would answer, but their last target rings first.
    carrier(&server, CALLER, 100).passes().await;
    usual_buyer.passes().await;
    let again = network.ended_call(1).await;
    assert_eq!(again["target_id"], usual.as_str(), "{again:#}");
    let first_choice = bid(&again, &usual);
    assert_eq!(
        (&first_choice["rank"], &first_choice["reason"]),
        (&json!(0), &json!("the caller's previous target"))
    );
    assert_eq!(bid(&again, &rich)["rank"], 1);
}

#[tokio::test]
async fn a_bid_may_name_where_the_call_goes_where_its_target_allows() {
    let port = free_port();
    let buyer = FakeBuyer::start(
        json!({"accept": true, "bid": 1500, "destination": format!("sip:sales@127.0.0.1:{port};transport=tcp")}),
    )
    .await;
    let server = Server::start().await;
    let network = Network::new(&server, json!({})).await;
    // The target's own destination has nobody behind it.
    let target = network
        .target(
            "Routes itself",
            free_port(),
            json!({"kind": "rtb", "ping_url": buyer.url("/ping")}),
        )
        .await;
    let allow = json!({"dynamic_destinations": ["127.0.0.0/24"]});
    let (status, body) =
        network.api.call(Method::PATCH, &format!("/targets/{target}"), Some(&allow)).await;
    assert_eq!(status, 200, "{body}");
    network.go_live(&[&target]).await;
    let answering = Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), port, Transport::Tcp, 1);
    carrier(&server, CALLER, 100).passes().await;
    answering.passes().await;
    let call = network.ended_call(0).await;
    assert_eq!((&call["status"], &call["target_id"]), (&json!("completed"), &json!(target)));
    let trying =
        call["events"].as_array().unwrap().iter().find(|e| e["kind"] == "leg.trying").unwrap();
    assert_eq!(trying["detail"]["uri"], format!("sip:sales@127.0.0.1:{port};transport=tcp"));
    assert_eq!(
        bid(&call, &target)["destination"],
        format!("sip:sales@127.0.0.1:{port};transport=tcp")
    );
}

#[tokio::test]
async fn a_node_stopped_mid_call_writes_the_call_before_it_exits() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let url = database.url().to_owned();
        let mut server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let network = Network::new(&server, json!({})).await;
        let port = free_port();
        let target =
            network.target("Long talker", port, json!({"kind": "static", "cents": 900})).await;
        network.go_live(&[&target]).await;
        let _buyer = Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), port, Transport::Udp, 1);
        let _carrier = carrier(&server, CALLER, 30_000);
        let started = Instant::now();
        while network.api.get("/calls?status=connected").await.1["items"]
            .as_array()
            .unwrap()
            .is_empty()
        {
            assert!(started.elapsed() < Duration::from_secs(5), "{backend}: never connected");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(server.stop().await.success(), "{backend}");

        let after = Server::start_with(ServerOptions {
            env: vec![("DATABASE_URL".into(), url)],
            ..Default::default()
        })
        .await;
        let (_, page) = Api::new(after.url(""), &network.api_key).get("/calls").await;
        let call = &page["items"][0];
        assert_eq!(
            (&call["status"], &call["end_reason"], &call["target_id"]),
            (&json!("interrupted"), &json!("the node stopped"), &json!(target)),
            "{backend}: {page}"
        );
        assert!(call["talk_seconds"].is_number(), "{backend}: {call}");
    }
}

#[tokio::test]
async fn a_dead_nodes_claims_are_released_by_the_nodes_that_live() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let url = database.url().to_owned();
    let mut doomed =
        Server::start_with(ServerOptions { database: Some(database), ..Default::default() }).await;
    let survivor = Server::start_with(ServerOptions {
        env: vec![("DATABASE_URL".into(), url)],
        ..Default::default()
    })
    .await;
    let network = Network::new(&doomed, json!({})).await;
    let port = free_port();
    let capped = network.target("Capped", port, json!({"kind": "static", "cents": 2000})).await;
    let (status, body) = network
        .api
        .call(Method::PATCH, &format!("/targets/{capped}"), Some(&json!({"concurrency_cap": 1})))
        .await;
    assert_eq!(status, 200, "{body}");
    network.go_live(&[&capped]).await;
    let on_survivor = Api::new(survivor.url(""), &network.api_key);
    live_on(&on_survivor).await;

    // The doomed node holds the target's only place, then dies without a word.
    let buyer = Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), port, Transport::Udp, 1);
    let _carrier = carrier(&doomed, CALLER, 60_000);
    let started = Instant::now();
    while network.api.get("/calls?status=connected").await.1["items"].as_array().unwrap().is_empty()
    {
        assert!(started.elapsed() < Duration::from_secs(5), "never connected");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    doomed.kill().await;
    drop(buyer);

    // The survivor notices the silence (30 s without a heartbeat), closes the call and
    // frees the place: the target takes a call again.
    let started = Instant::now();
    loop {
        let (_, page) = on_survivor.get("/calls?status=interrupted").await;
        if page["items"].as_array().unwrap().len() == 1 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "the dead node's call stayed open");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let answering = Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), port, Transport::Udp, 1);
    carrier(&survivor, "+13125550188", 100).passes().await;
    answering.passes().await;
    let (_, page) = on_survivor.get("/calls?status=completed").await;
    assert_eq!(page["items"][0]["target_id"], capped.as_str(), "{page}");
}
