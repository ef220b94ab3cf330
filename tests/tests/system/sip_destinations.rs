//! Where Bidline sends SIP legs is held to the private-address policy that guards its
//! HTTP requests: without `--allow-private-targets`, a literal loopback, private,
//! link-local or NAT64/6to4 address is refused when configured, and a name that
//! resolves to one is refused when dialed — recorded as the leg's reason, and nothing
//! connects to the address. A buyer's bid may send the call elsewhere only where its
//! target's `dynamic_destinations` allows, numbers only through the target's own trunk.

use bidline_sipp::{Scenario, Sipp, Transport, free_port};
use bidline_tests::{FakeBuyer, Server, ServerOptions, TestDatabase};
use reqwest::Method;
use serde_json::{Value, json};

use crate::calls::{CALLER, Network, carrier, refused};

fn guarded() -> ServerOptions {
    ServerOptions {
        env: vec![("BIDLINE_ALLOW_PRIVATE_TARGETS".into(), "false".into())],
        ..Default::default()
    }
}

#[tokio::test]
async fn private_sip_destinations_are_refused_when_configured() {
    let server = Server::start_with(guarded()).await;
    let (_, api) = server.create_org("Acme Leads", "dana@acme.example");
    let (_, buyer) = api.post("/buyers", &json!({"name": "Buyer"})).await;
    let revenue = json!({"kind": "static", "cents": 1000});
    for destination in ["sip:x@127.0.0.1:6379;transport=tcp", "sip:x@10.1.2.3", "sip:x@[::1]"] {
        let (status, refused) = api
            .post(
                "/targets",
                &json!({"buyer_id": buyer["id"], "name": "T", "destination": destination, "revenue": revenue}),
            )
            .await;
        assert_eq!(status, 422, "{destination}: {refused}");
        let why = refused["fields"]["destination"].as_str().unwrap();
        assert!(why.contains("private"), "{destination}: {why}");
    }
    let (status, body) = api
        .post(
            "/targets",
            &json!({"buyer_id": buyer["id"], "name": "T", "destination": "sip:x@203.0.113.10", "revenue": revenue}),
        )
        .await;
    assert_eq!(status, 201, "{body}");

    for host in ["127.0.0.1", "192.168.1.1", "[::1]", "64:ff9b::a00:1", "169.254.169.254"] {
        let (status, refused) = api
            .post("/trunks", &json!({"name": "Out", "direction": "outbound", "host": host}))
            .await;
        assert_eq!(status, 422, "{host}: {refused}");
        assert!(refused["fields"]["host"].as_str().unwrap().contains("private"), "{refused}");
    }
    let (status, _) = api
        .post(
            "/trunks",
            &json!({"name": "Out", "direction": "outbound", "host": "sip.carrier.example"}),
        )
        .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn a_name_that_resolves_to_a_private_address_is_refused_when_dialed() {
    let server = Server::start_with(guarded()).await;
    let network = Network::new(&server, json!({})).await;
    // Something listening where the name leads, as Redis would.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let (_, buyer) = network.api.post("/buyers", &json!({"name": "Buyer"})).await;
    let (status, target) = network
        .api
        .post(
            "/targets",
            &json!({"buyer_id": buyer["id"], "name": "Local", "ring_timeout_seconds": 5,
                    "destination": format!("sip:x@localhost:{port};transport=tcp"),
                    "revenue": {"kind": "static", "cents": 1000}}),
        )
        .await;
    assert_eq!(status, 201, "a name is checked when it is dialed: {target}");
    network.go_live(&[target["id"].as_str().unwrap()]).await;

    refused(&server, CALLER, 480).passes().await;
    let call = network.ended_call(0).await;
    let bid = &call["bids"][0];
    let reason = bid["reason"].as_str().unwrap();
    assert!(reason.contains("cannot be dialed") && reason.contains("private"), "{call:#}");
    // The call is over: a leg, had one been placed, would have connected by now.
    assert_eq!(
        listener.accept().map_err(|e| e.kind()).err(),
        Some(std::io::ErrorKind::WouldBlock),
        "nothing connected to the private address"
    );
}

/// The bid row of `target` in `call`.
fn bid<'a>(call: &'a Value, target: &str) -> &'a Value {
    call["bids"].as_array().unwrap().iter().find(|b| b["target_id"] == target).unwrap()
}

/// An RTB target whose own destination nobody answers, pinging `buyer`, with `fields`
/// merged in.
async fn rtb_target(network: &Network, name: &str, buyer: &FakeBuyer, fields: Value) -> String {
    let (_, owner) = network.api.post("/buyers", &json!({"name": format!("{name} Inc")})).await;
    let mut target = json!({"buyer_id": owner["id"], "name": name, "ring_timeout_seconds": 5,
                            "destination": format!("sip:nobody@127.0.0.1:{}", free_port()),
                            "revenue": {"kind": "rtb", "ping_url": buyer.url("/ping")}});
    target.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
    let (status, target) = network.api.post("/targets", &target).await;
    assert_eq!(status, 201, "{target}");
    target["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_bid_sends_the_call_to_a_sip_uri_only_where_its_target_allows() {
    for database in TestDatabase::all().await {
        let port = free_port();
        let elsewhere = format!("sip:buyer@127.0.0.1:{port}");
        let buyer = FakeBuyer::start(json!({"bid": 2000, "destination": elsewhere})).await;
        let server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let network = Network::new(&server, json!({})).await;
        let target = rtb_target(&network, "Mover", &buyer, json!({})).await;
        network.go_live(&[&target]).await;

        // No list: the bid's destination is not taken, and the bid loses.
        refused(&server, CALLER, 480).passes().await;
        let call = network.ended_call(0).await;
        let lost = bid(&call, &target);
        assert_eq!(
            (&lost["outcome"], &lost["reason"]),
            (&json!("failed"), &json!("destination not allowed"))
        );
        assert_eq!((&lost["destination"], &lost["bid_cents"]), (&json!(elsewhere), &json!(2000)));

        for (list, why) in
            [(json!(["0.0.0.0/0"]), "wider than /8"), (json!(["sip:a@b.example"]), "host name")]
        {
            let (status, refused) = network
                .api
                .call(
                    Method::PATCH,
                    &format!("/targets/{target}"),
                    Some(&json!({"dynamic_destinations": list})),
                )
                .await;
            assert_eq!(status, 422, "{refused}");
            assert!(
                refused["fields"]["dynamic_destinations"].as_str().unwrap().contains(why),
                "{refused}"
            );
        }
        let (status, allowed) = network
            .api
            .call(
                Method::PATCH,
                &format!("/targets/{target}"),
                Some(&json!({"dynamic_destinations": ["127.0.0.1", "*.buyer.example"]})),
            )
            .await;
        assert_eq!(status, 200, "{allowed}");
        assert_eq!(allowed["dynamic_destinations"], json!(["127.0.0.1/32", "*.buyer.example"]));

        let answering = Sipp::uas(Scenario::Builtin("uas"), port, Transport::Udp, 1);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        carrier(&server, CALLER, 100).passes().await;
        answering.passes().await;
        let call = network.ended_call(1).await;
        let won = bid(&call, &target);
        assert_eq!(
            (&won["outcome"], &won["destination"]),
            (&json!("connected"), &json!(elsewhere)),
            "{call:#}"
        );
    }
}

#[tokio::test]
async fn a_number_a_bid_names_is_dialed_only_if_allowed_through_the_targets_trunk() {
    let port = free_port();
    let toll_fraud = FakeBuyer::start(json!({"bid": 3000, "destination": "+442071234567"})).await;
    let honest = FakeBuyer::start(json!({"bid": 2000, "destination": "+15550100200"})).await;
    let server = Server::start().await;
    let network = Network::new(&server, json!({})).await;
    let (status, trunk) = network
        .api
        .post(
            "/trunks",
            &json!({"name": "Out", "direction": "outbound", "host": "127.0.0.1", "port": port}),
        )
        .await;
    assert_eq!(status, 201, "{trunk}");
    let (status, refused) = network
        .api
        .post(
            "/targets",
            &json!({"name": "No trunk", "destination": "sip:a@buyer.example",
                    "dynamic_destinations": ["+1555"], "revenue": {"kind": "static", "cents": 1}}),
        )
        .await;
    assert_eq!(status, 422, "{refused}");
    let why = refused["fields"]["dynamic_destinations"].as_str().unwrap();
    assert!(why.contains("outbound trunk"), "{why}");
    // Each target dials its own number through the trunk; a bid may name another.
    let numbers = json!({"destination": "+15550100999", "outbound_trunk_id": trunk["id"],
                         "dynamic_destinations": ["+1555"]});
    let fraud = rtb_target(&network, "Fraud", &toll_fraud, numbers.clone()).await;
    let target = rtb_target(&network, "Honest", &honest, numbers).await;
    network.go_live(&[&fraud, &target]).await;

    let answering = Sipp::uas(Scenario::Builtin("uas"), port, Transport::Udp, 1);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    carrier(&server, CALLER, 100).passes().await;
    answering.passes().await;
    let call = network.ended_call(0).await;
    let lost = bid(&call, &fraud);
    assert_eq!(
        (&lost["outcome"], &lost["reason"]),
        (&json!("failed"), &json!("destination not allowed")),
        "{call:#}"
    );
    let won = bid(&call, &target);
    assert_eq!(
        (&won["outcome"], &won["destination"]),
        (&json!("connected"), &json!("+15550100200")),
        "{call:#}"
    );
}
