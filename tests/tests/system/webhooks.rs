//! Webhooks through the whole system: a real SIP call makes events, and receivers on
//! loopback that fail, stall or answer garbage still get each event exactly once (by
//! delivery id), in the order it happened, signed — across a restart too.

use std::time::Duration;

use bidline_sipp::{Sipp, Transport, free_port, scenario};
use bidline_tests::{Api, Behaviour, Received, Receiver, Server, ServerOptions, TestDatabase};
use reqwest::Method;
use serde_json::{Value, json};

use crate::calls::{CALLER, DIALED, Network, carrier, refused, webhooks_live};

/// The events of a converted call, in the order they happen.
const CALL_EVENTS: [&str; 6] = [
    "call.incoming",
    "call.routed",
    "call.answered",
    "bid.won",
    "call.completed",
    "call.converted",
];

/// Retries come quickly, and a stalled receiver is given up on soon.
fn quick_retries() -> Vec<String> {
    retries_every(100)
}

fn retries_every(base_ms: u64) -> Vec<String> {
    vec![
        "--webhook-retry-base-ms".into(),
        base_ms.to_string(),
        "--webhook-timeout-ms".into(),
        "700".into(),
    ]
}

/// A network with one static target answered by a sipp buyer on `port`, live.
async fn network(server: &Server, port: u16) -> Network {
    let network = Network::new(server, json!({})).await;
    let target = network
        .target("Closer", port, json!({"kind": "static", "cents": 2500, "buffer_seconds": 1}))
        .await;
    network.go_live(&[&target]).await;
    network
}

/// An endpoint for every call event at `url`; answers it with its secret.
async fn endpoint(api: &Api, name: &str, url: &str) -> Value {
    let (status, webhook) =
        api.post("/webhooks", &json!({"name": name, "url": url, "events": CALL_EVENTS})).await;
    assert_eq!(status, 201, "{webhook}");
    assert!(webhook["secret"].as_str().unwrap().starts_with("whsec_"), "{webhook}");
    webhooks_live(api).await;
    webhook
}

/// One converted call: 1.5 s of talk against a 1 s buffer.
async fn converted_call(server: &Server, port: u16) {
    let buyer = Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), port, Transport::Udp, 1);
    carrier(server, CALLER, 1500).passes().await;
    buyer.passes().await;
}

fn events(delivered: &[Received]) -> Vec<String> {
    delivered.iter().map(|r| r.header("bidline-event").unwrap().to_owned()).collect()
}

/// The README's receiver example (Python), run on one request: whether it verifies.
fn readme_verifies(secret: &str, request: &Received, now: i64) -> bool {
    let readme =
        std::fs::read_to_string(bidline_tests::workspace_root().join("README.md")).unwrap();
    let start =
        readme.find("```python\n# Verifying a Bidline webhook").expect("the README's example");
    let code = &readme[start + "```python\n".len()..];
    let code = &code[..code.find("```").unwrap()];
    let driver = "\nimport json, sys\nq = json.load(sys.stdin)\n\
        sys.exit(0 if verify(q['secret'], q['header'], q['body'].encode(), now=q['now']) else 1)\n";
    let mut child = std::process::Command::new("python3")
        .args(["-c", &format!("{code}{driver}")])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    let input = json!({"secret": secret, "header": request.header("bidline-signature").unwrap(),
                       "body": request.body, "now": now});
    use std::io::Write;
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    child.wait().unwrap().success()
}

fn sent_at(request: &Received) -> i64 {
    let header = request.header("bidline-signature").unwrap();
    header.split(',').find_map(|p| p.strip_prefix("t=")).unwrap().parse().unwrap()
}

#[tokio::test]
async fn every_event_reaches_flaky_receivers_once_in_order_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let server = Server::start_with(ServerOptions {
            database: Some(database),
            args: quick_retries(),
            ..Default::default()
        })
        .await;
        let port = free_port();
        let network = network(&server, port).await;
        let failing = Receiver::start(vec![Behaviour::Status(500); 3]).await;
        let stalling = Receiver::start(vec![Behaviour::Stall]).await;
        let garbled = Receiver::start(vec![Behaviour::Garbage, Behaviour::Status(302)]).await;
        let mut secrets = Vec::new();
        for (name, receiver) in
            [("Failing", &failing), ("Stalling", &stalling), ("Garbled", &garbled)]
        {
            let webhook = endpoint(&network.api, name, &receiver.url("/hooks?src=bidline")).await;
            secrets.push((
                webhook["id"].as_str().unwrap().to_owned(),
                webhook["secret"].as_str().unwrap().to_owned(),
            ));
        }

        converted_call(&server, port).await;
        let call = network.ended_call(0).await;
        for (receiver, (_, secret)) in [&failing, &stalling, &garbled].into_iter().zip(&secrets) {
            let delivered = receiver.wait_for(CALL_EVENTS.len(), Duration::from_secs(15)).await;
            assert_eq!(events(&delivered), CALL_EVENTS, "{backend}: {delivered:#?}");
            // Nothing more comes: each event exactly once.
            tokio::time::sleep(Duration::from_millis(300)).await;
            assert_eq!(receiver.delivered_once().len(), CALL_EVENTS.len(), "{backend}");
            for request in &delivered {
                assert_eq!(
                    (request.method.as_str(), request.target.as_str()),
                    ("POST", "/hooks?src=bidline")
                );
                assert_eq!(request.header("content-type"), Some("application/json"));
                let body: Value = serde_json::from_str(&request.body).unwrap();
                assert_eq!(body["id"].as_str(), request.header("bidline-delivery"), "{body}");
                assert_eq!(body["event"].as_str(), request.header("bidline-event"));
                assert_eq!(body["call"]["id"], call["id"], "{body}");
                assert!(
                    readme_verifies(secret, request, sent_at(request)),
                    "{backend}: {request:#?}"
                );
            }
            let last: Value = serde_json::from_str(&delivered[5].body).unwrap();
            assert_eq!(
                (last["call"]["converted"].clone(), last["call"]["revenue_cents"].clone()),
                (json!(true), json!(2500))
            );
            let won: Value = serde_json::from_str(&delivered[3].body).unwrap();
            assert_eq!(won["bid"]["won"], true, "{won}");
        }
        // The stalled and garbled attempts were retried; so were the three 500s.
        assert_eq!(failing.received().len(), 9, "{backend}");
        assert!(stalling.received().len() >= 7 && garbled.received().len() >= 8, "{backend}");

        // The delivery log says what happened.
        let (status, log) =
            network.api.get(&format!("/webhooks/{}/deliveries", secrets[0].0)).await;
        assert_eq!(status, 200, "{log}");
        let items = log["items"].as_array().unwrap();
        assert_eq!(items.len(), 6, "{log}");
        assert!(
            items.iter().all(|d| d["status"] == "delivered" && d["last_status_code"] == 200),
            "{log:#}"
        );
        assert_eq!(
            items.iter().map(|d| d["attempts"].as_i64().unwrap()).sum::<i64>(),
            9,
            "{log:#}"
        );
        let incoming = items.iter().find(|d| d["event"] == "call.incoming").unwrap();
        assert_eq!(incoming["attempts"], 4, "{log:#}");
        let (status, _) = Api::new(server.url(""), "bl_unknown")
            .get(&format!("/webhooks/{}/deliveries", secrets[0].0))
            .await;
        assert_eq!(status, 401);
    }
}

#[tokio::test]
async fn a_node_killed_mid_retry_resumes_after_a_restart_without_loss_or_repeats() {
    let database = TestDatabase::sqlite();
    let url = database.url().to_owned();
    let args = retries_every(400);
    let mut first = Server::start_with(ServerOptions {
        database: Some(database),
        args: args.clone(),
        ..Default::default()
    })
    .await;
    let port = free_port();
    let network = network(&first, port).await;
    let receiver = Receiver::start(vec![Behaviour::Status(503); 1000]).await;
    endpoint(&network.api, "Down for now", &receiver.url("/")).await;
    converted_call(&first, port).await;
    // The first event is being retried (the others wait behind it) when the node dies.
    let started = std::time::Instant::now();
    while receiver.received().len() < 2 {
        assert!(started.elapsed() < Duration::from_secs(10), "never attempted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    first.kill().await;
    receiver.then(vec![]);

    let second = Server::start_with(ServerOptions {
        env: vec![("DATABASE_URL".into(), url)],
        args,
        ..Default::default()
    })
    .await;
    let delivered = receiver.wait_for(CALL_EVENTS.len(), Duration::from_secs(15)).await;
    assert_eq!(events(&delivered), CALL_EVENTS);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.delivered_once().len(), CALL_EVENTS.len());
    let accepted = receiver.received().into_iter().filter(Received::delivered).count();
    assert_eq!(accepted, CALL_EVENTS.len(), "an acknowledged delivery was sent again");
    drop(second);
}

#[tokio::test]
async fn a_delivery_gives_up_after_its_window_and_can_be_resent() {
    let mut args = quick_retries();
    args.extend(["--webhook-give-up-seconds".into(), "1".into()]);
    let server = Server::start_with(ServerOptions { args, ..Default::default() }).await;
    let port = free_port();
    let network = network(&server, port).await;
    let receiver = Receiver::start(vec![Behaviour::Status(500); 1000]).await;
    let (status, webhook) = network
        .api
        .post("/webhooks", &json!({"name": "Pixel", "kind": "pixel", "url": receiver.url("/pb?caller={{caller.number}}&rev={{call.revenue}}&src={{tag.utm_source}}")}))
        .await;
    assert_eq!(status, 201, "{webhook}");
    assert_eq!(
        (&webhook["method"], &webhook["events"]),
        (&json!("GET"), &json!(["call.converted"]))
    );
    let id = webhook["id"].as_str().unwrap();
    webhooks_live(&network.api).await;
    converted_call(&server, port).await;

    let log = |api: Api| async move {
        let started = std::time::Instant::now();
        loop {
            let (_, log) = api.get(&format!("/webhooks/{id}/deliveries")).await;
            if log["items"][0]["status"] == "failed" {
                return log;
            }
            assert!(started.elapsed() < Duration::from_secs(10), "never gave up: {log:#}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let failed = log(network.api.clone()).await;
    let delivery = &failed["items"][0];
    assert_eq!(delivery["last_status_code"], 500, "{failed:#}");
    assert!(delivery["next_attempt_at"].is_null());
    assert_eq!(
        delivery["request"]["url"],
        receiver.url("/pb?caller=%2B12125550123&rev=25.00&src=")
    );
    assert!(delivery["request"]["body"].is_null());

    // Fixed: resent by hand, it lands with the same delivery id.
    receiver.then(vec![]);
    let delivery_id = delivery["id"].as_str().unwrap();
    let (status, _) = network
        .api
        .post(&format!("/webhooks/{id}/deliveries/{delivery_id}/resend"), &json!({}))
        .await;
    assert_eq!(status, 202);
    let delivered = receiver.wait_for(1, Duration::from_secs(5)).await;
    assert_eq!(
        (delivered[0].method.as_str(), delivered[0].header("bidline-delivery")),
        ("GET", Some(delivery_id))
    );
    let (status, _) = network
        .api
        .post(&format!("/webhooks/{id}/deliveries/{}/resend", uuid_like()), &json!({}))
        .await;
    assert_eq!(status, 404);
}

fn uuid_like() -> &'static str {
    "0190b2a4-0000-7000-8000-000000000000"
}

#[tokio::test]
async fn signatures_refuse_a_wrong_secret_an_old_timestamp_and_honour_a_rotated_one() {
    let server =
        Server::start_with(ServerOptions { args: quick_retries(), ..Default::default() }).await;
    let port = free_port();
    let network = network(&server, port).await;
    let receiver = Receiver::start(vec![]).await;
    let webhook = endpoint(&network.api, "Signed", &receiver.url("/")).await;
    let (id, old) = (webhook["id"].as_str().unwrap(), webhook["secret"].as_str().unwrap());
    converted_call(&server, port).await;
    let first = receiver.wait_for(1, Duration::from_secs(10)).await.remove(0);
    let t = sent_at(&first);
    assert!(readme_verifies(old, &first, t));
    assert!(!readme_verifies("whsec_wrong", &first, t), "a wrong secret verified");
    assert!(!readme_verifies(old, &first, t + 301), "an old timestamp verified");
    let mut tampered = first.clone();
    tampered.body.push(' ');
    assert!(!readme_verifies(old, &tampered, t), "a changed body verified");

    // Rotated: the new secret is shown once; for the overlap both sign.
    let (status, rotated) = network
        .api
        .post(&format!("/webhooks/{id}/rotate-secret"), &json!({"overlap_hours": 1}))
        .await;
    assert_eq!(status, 200, "{rotated}");
    let new = rotated["secret"].as_str().unwrap();
    assert_ne!(new, old);
    let (_, shown) = network.api.get(&format!("/webhooks/{id}")).await;
    assert!(!shown.to_string().contains(new) && shown["secret"].is_null(), "{shown}");
    let (_, log) = network.api.get(&format!("/webhooks/{id}/deliveries")).await;
    let delivery = log["items"][0]["id"].as_str().unwrap().to_owned();
    let before = receiver.received().len();
    let (status, _) =
        network.api.post(&format!("/webhooks/{id}/deliveries/{delivery}/resend"), &json!({})).await;
    assert_eq!(status, 202);
    let started = std::time::Instant::now();
    while receiver.received().len() == before {
        assert!(started.elapsed() < Duration::from_secs(5), "not resent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let resent = receiver.received().pop().unwrap();
    let t = sent_at(&resent);
    assert!(readme_verifies(new, &resent, t), "the new secret does not verify");
    assert!(
        readme_verifies(old, &resent, t),
        "the old secret stopped verifying during the overlap"
    );
    assert!(!readme_verifies("whsec_other", &resent, t));
    let (status, body) = network
        .api
        .call(
            Method::POST,
            &format!("/webhooks/{id}/rotate-secret"),
            Some(&json!({"overlap_hours": 1000})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
}

#[tokio::test]
async fn a_stuck_endpoint_holds_only_itself_and_each_keeps_to_its_concurrency() {
    // Attempts may take 5 s: the slow endpoint's 1.5 s answers are answers.
    let args = ["--webhook-retry-base-ms", "100", "--webhook-timeout-ms", "5000"]
        .map(String::from)
        .to_vec();
    let server = Server::start_with(ServerOptions { args, ..Default::default() }).await;
    let port = free_port();
    let network = network(&server, port).await;
    let stuck = Receiver::start(vec![Behaviour::Stall; 100]).await;
    let slow = Receiver::start(vec![Behaviour::SlowOk(Duration::from_millis(1500)); 100]).await;
    let healthy = Receiver::start(vec![]).await;
    for (name, receiver, concurrency) in [("Stuck", &stuck, 1), ("Slow", &slow, 2)] {
        let (status, body) = network
            .api
            .post("/webhooks", &json!({"name": name, "url": receiver.url("/"), "events": ["call.completed"], "max_concurrency": concurrency}))
            .await;
        assert_eq!(status, 201, "{body}");
    }
    endpoint(&network.api, "Healthy", &healthy.url("/")).await;

    // Six calls within a second: six call.completed events at once for each endpoint.
    let calls = 6;
    let buyer = Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), port, Transport::Udp, calls);
    let fills = vec![("__CALLER__", CALLER.to_owned()), ("__TALK_MS__", "200".to_owned())];
    Sipp::uac_to(scenario("carrier.xml", fills), server.sip_addr(), DIALED, Transport::Udp, calls)
        .passes()
        .await;
    buyer.passes().await;
    let ended = std::time::Instant::now();
    // The healthy endpoint has every event at once, whatever the others do.
    healthy.wait_for(calls * 5, Duration::from_secs(3)).await;
    assert!(ended.elapsed() < Duration::from_secs(3));
    slow.wait_for(calls, Duration::from_secs(20)).await;
    assert_eq!(
        slow.peak_in_flight(),
        2,
        "the slow endpoint's two slots were not both used, or more were"
    );
    assert!(stuck.delivered_once().is_empty());
    assert_eq!(
        stuck.peak_in_flight(),
        1,
        "the stuck endpoint was sent more than its one at a time"
    );

    // Outcomes are counted.
    let metrics = reqwest::get(server.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(
        metrics.contains("bidline_webhook_deliveries_total{outcome=\"delivered\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn deliveries_to_private_addresses_are_refused_unless_the_operator_allows_them() {
    let server = Server::start_with(ServerOptions {
        args: quick_retries(),
        env: vec![("BIDLINE_ALLOW_PRIVATE_TARGETS".into(), "false".into())],
        ..Default::default()
    })
    .await;
    // SIP legs are held to the same policy, so the call cannot reach a buyer here: its
    // target's name resolves to loopback and is refused when dialed. The call's events
    // are sent all the same.
    let network = Network::new(&server, json!({})).await;
    let (_, buyer) = network.api.post("/buyers", &json!({"name": "Local"})).await;
    let (status, target) = network
        .api
        .post(
            "/targets",
            &json!({"buyer_id": buyer["id"], "name": "Local", "destination": format!("sip:buyer@localhost:{}", free_port()),
                    "revenue": {"kind": "static", "cents": 2500}}),
        )
        .await;
    assert_eq!(status, 201, "{target}");
    network.go_live(&[target["id"].as_str().unwrap()]).await;
    let receiver = Receiver::start(vec![]).await;
    let webhook = endpoint(&network.api, "Internal", &receiver.url("/")).await;
    let id = webhook["id"].as_str().unwrap();
    refused(&server, CALLER, 480).passes().await;
    let started = std::time::Instant::now();
    let log = loop {
        let (_, log) = network.api.get(&format!("/webhooks/{id}/deliveries")).await;
        if log["items"].as_array().unwrap().iter().any(|d| d["attempts"].as_i64() > Some(0)) {
            break log;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "never attempted: {log:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let attempted =
        log["items"].as_array().unwrap().iter().find(|d| d["attempts"].as_i64() > Some(0)).unwrap();
    assert!(
        attempted["last_error"].as_str().unwrap().contains("loopback, private or link-local"),
        "{attempted:#}"
    );
    assert_eq!(attempted["status"], "pending");
    assert!(receiver.received().is_empty(), "a private address was reached");
}

#[tokio::test]
async fn a_call_its_crashed_node_left_open_is_reported_completed_when_it_is_closed() {
    let database = TestDatabase::sqlite();
    let url = database.url().to_owned();
    let mut first = Server::start_with(ServerOptions {
        database: Some(database),
        args: quick_retries(),
        ..Default::default()
    })
    .await;
    let port = free_port();
    let network = network(&first, port).await;
    let receiver = Receiver::start(vec![]).await;
    let (status, _) = network
        .api
        .post("/webhooks", &json!({"name": "CRM", "url": receiver.url("/"), "events": ["call.answered", "call.completed"]}))
        .await;
    assert_eq!(status, 201);
    webhooks_live(&network.api).await;
    let buyer = Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), port, Transport::Udp, 1);
    let _carrier = carrier(&first, CALLER, 30_000);
    receiver.wait_for(1, Duration::from_secs(10)).await;
    first.kill().await;
    drop(buyer);

    let _second = Server::start_with(ServerOptions {
        env: vec![("DATABASE_URL".into(), url)],
        args: quick_retries(),
        ..Default::default()
    })
    .await;
    let delivered = receiver.wait_for(2, Duration::from_secs(10)).await;
    assert_eq!(events(&delivered), ["call.answered", "call.completed"]);
    let completed: Value = serde_json::from_str(&delivered[1].body).unwrap();
    assert_eq!(completed["call"]["status"], "interrupted", "{completed}");
}
