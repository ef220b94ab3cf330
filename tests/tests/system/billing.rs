//! Billing organizations through Stripe, against a fake Stripe server that speaks its wire
//! format: usage is metered once each across crashes, failures and rate limits; Stripe's
//! webhooks are verified and deduplicated; an organization past due beyond its grace has
//! its calls turned away; Checkout and the portal take the owner to Stripe.

use std::time::{Duration, Instant};

use bidline_sipp::{Sipp, Transport, free_port};
use bidline_tests::{
    Api, FakeStripe, NewOrg, Server, ServerOptions, SessionClient, TestDatabase,
    fake_stripe::{Misbehaviour, WEBHOOK_SECRET, signed_event},
};
use serde_json::{Value, json};

use crate::calls::{CALLER, Network, carrier, refused};

const METER_EVENTS: &str = "/v1/billing/meter_events";

fn options(database: TestDatabase, fake: &FakeStripe, extra: &[&str]) -> ServerOptions {
    let mut args = fake.args();
    args.extend(extra.iter().map(|arg| (*arg).to_owned()));
    ServerOptions { database: Some(database), args, ..Default::default() }
}

/// An organization with `count` active numbers on a campaign.
async fn org_with_numbers(server: &Server, count: usize) -> (NewOrg, Api) {
    let (org, api) = server.create_org("Acme Leads", "dana@acme.example");
    let (status, campaign) =
        api.post("/campaigns", &json!({"name": "Solar", "time_zone": "UTC"})).await;
    assert_eq!(status, 201, "{campaign}");
    let numbers: Vec<String> = (0..count).map(|i| format!("+1800555{:04}", 1000 + i)).collect();
    let (status, imported) = api
        .post(
            "/numbers/import",
            &json!({"numbers": numbers.join("\n"), "campaign_id": campaign["id"]}),
        )
        .await;
    assert_eq!(status, 201, "{imported}");
    (org, api)
}

fn usage<'a>(billing: &'a Value, meter: &str) -> &'a Value {
    billing["usage"].as_array().unwrap().iter().find(|u| u["meter"] == meter).unwrap()
}

/// Waits until the organization's `meter` shows `quantity` a day (per UTC day the test
/// ran on), all of it reported.
async fn reported(api: &Api, meter: &str, quantity: i64, timeout: Duration) -> Value {
    let started = Instant::now();
    loop {
        let (status, billing) = api.get("/billing").await;
        assert_eq!(status, 200, "{billing}");
        let usage = usage(&billing, meter);
        let used = usage["quantity"].as_i64().unwrap();
        if used > 0 && used % quantity == 0 && usage["reported"] == used {
            return billing;
        }
        assert!(started.elapsed() < timeout, "{meter} never reported {quantity}: {billing:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn usage_is_metered_once_each_across_slow_answers_a_crash_and_a_restart() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let url = database.url().to_owned();
        let fake = FakeStripe::start().await;
        let quick = ["--stripe-timeout-ms", "1000", "--stripe-retry-base-ms", "200"];
        // Numbers are counted when a node starts (and hourly): add them, then restart.
        let mut first = Server::start_with(options(database, &fake, &quick)).await;
        let (org, _) = org_with_numbers(&first, 30).await;
        assert_eq!(first.stop().await.code(), Some(0));

        // Stripe takes the first eight events but answers each too late for Bidline.
        fake.misbehave(METER_EVENTS, vec![Misbehaviour::SlowAnswer(Duration::from_secs(3)); 8]);
        let mut second = Server::start_with(ServerOptions {
            env: vec![("DATABASE_URL".into(), url.clone())],
            ..options(TestDatabase::sqlite(), &fake, &quick)
        })
        .await;
        let started = Instant::now();
        while fake.requests_to(METER_EVENTS).len() < 8 {
            assert!(started.elapsed() < Duration::from_secs(10), "{backend}: nothing sent");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Killed with those eight in flight: Stripe counted them, Bidline never heard.
        second.kill().await;
        assert_eq!(fake.meter_events().len(), 8, "{backend}");

        let third = Server::start_with(ServerOptions {
            env: vec![("DATABASE_URL".into(), url)],
            ..options(TestDatabase::sqlite(), &fake, &quick)
        })
        .await;
        let api = Api::new(third.url(""), &org.api_key);
        // Thirty a day: sixty if the test crossed midnight (UTC).
        let billing = reported(&api, "number_days", 30, Duration::from_secs(30)).await;
        let counted = usage(&billing, "number_days")["quantity"].as_i64().unwrap() as usize;

        let events = fake.meter_events();
        assert_eq!(events.len(), counted, "{backend}: {events:#?}");
        assert!(fake.duplicate_identifiers().is_empty(), "{backend}: billed twice");
        assert!(events.iter().all(|e| e.event_name == "bidline_number_days" && e.value == 1));
        // Every request for a record carried the record's id as its idempotency key.
        for request in fake.requests_to(METER_EVENTS) {
            let identifier = request.field("identifier").unwrap();
            assert_eq!(
                request.idempotency_key.as_deref(),
                Some(&*format!("bidline-usage-{identifier}"))
            );
        }
        // One customer, though two nodes needed it.
        let customers = fake.customers();
        assert_eq!(customers.len(), 1, "{backend}: {customers:?}");
        assert_eq!(customers[0].1["name"], "Acme Leads");
        assert!(events.iter().all(|e| e.customer == customers[0].0));
    }
}

#[tokio::test]
async fn failures_and_timeouts_are_retried_with_growing_pauses_and_a_429_backs_off() {
    let fake = FakeStripe::start().await;
    let database = TestDatabase::sqlite();
    let url = database.url().to_owned();
    let quick = ["--stripe-timeout-ms", "800", "--stripe-retry-base-ms", "300"];
    let mut first = Server::start_with(options(database, &fake, &quick)).await;
    let (org, _) = org_with_numbers(&first, 1).await;
    first.stop().await;
    fake.misbehave(
        METER_EVENTS,
        vec![
            Misbehaviour::Fail(500),
            Misbehaviour::Fail(429),
            // Done at Stripe, answered after Bidline gave up waiting.
            Misbehaviour::SlowAnswer(Duration::from_millis(1500)),
            Misbehaviour::Fail(503),
        ],
    );
    let server = Server::start_with(ServerOptions {
        env: vec![("DATABASE_URL".into(), url)],
        ..options(TestDatabase::sqlite(), &fake, &quick)
    })
    .await;
    let api = Api::new(server.url(""), &org.api_key);
    reported(&api, "number_days", 1, Duration::from_secs(20)).await;

    let requests = fake.requests_to(METER_EVENTS);
    let statuses: Vec<u16> = requests.iter().map(|r| r.status).collect();
    // The fifth is answered from the third's result (same idempotency key).
    assert_eq!(statuses, [500, 429, 200, 503, 200]);
    assert_eq!(fake.meter_events().len(), 1);
    assert!(fake.duplicate_identifiers().is_empty());
    let keys: Vec<_> = requests.iter().map(|r| r.idempotency_key.clone().unwrap()).collect();
    assert!(keys.iter().all(|key| *key == keys[0]), "{keys:?}");
    // Each pause at least doubles (less a fifth of jitter): 300, 600, 1200, 2400 ms.
    for (n, pair) in requests.windows(2).enumerate() {
        let gap = pair[1].at - pair[0].at;
        let least = Duration::from_millis(300 * (1 << n)).mul_f64(0.8);
        assert!(
            gap >= least,
            "attempt {} came {gap:?} after the one before (at least {least:?})",
            n + 2
        );
    }
}

async fn stripe_event(server: &Server, body: &str, signature: Option<&str>) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(server.url("/stripe/webhook"))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(signature) = signature {
        request = request.header("Stripe-Signature", signature);
    }
    let response = request.send().await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap_or(Value::Null))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// An API key with the owner role (org create answers an admin key), made by the owner.
pub async fn owner_api(server: &Server, email: &str) -> Api {
    let session = SessionClient::signed_in(server.url(""), email, NewOrg::PASSWORD).await;
    let (status, created) =
        session.call("create_api_key", &[("name", "Owner"), ("role", "owner")]).await;
    assert_eq!(status, 200, "{created}");
    Api::new(server.url(""), created["secret"].as_str().unwrap())
}

/// The organization's Stripe customer, made by asking for a Checkout page as its owner;
/// answers the owner's API and the customer id.
async fn subscribe(server: &Server, fake: &FakeStripe, email: &str) -> (Api, String) {
    let owner = owner_api(server, email).await;
    let (status, checkout) = owner.post("/billing/checkout", &json!({})).await;
    assert_eq!(status, 200, "{checkout}");
    assert!(checkout["url"].as_str().unwrap().starts_with(&fake.url()), "{checkout}");
    let request = fake.requests_to("/v1/checkout/sessions").pop().unwrap();
    assert_eq!(request.field("mode"), Some("subscription"));
    assert_eq!(request.field("line_items[0][price]"), Some("price_minutes"));
    assert_eq!(request.field("line_items[2][price]"), Some("price_numbers"));
    assert_eq!(request.field("line_items[0][quantity]"), None, "metered prices take no quantity");
    assert!(request.field("success_url").unwrap().ends_with("/app/billing?checkout=done"));
    let customer = request.field("customer").unwrap().to_owned();
    (owner, customer)
}

fn subscription(customer: &str, status: &str) -> Value {
    json!({"id": "sub_fake1", "object": "subscription", "customer": customer, "status": status,
           "items": {"object": "list", "data": [{"id": "si_1", "current_period_start": now() - 86_400,
                                                  "current_period_end": now() + 29 * 86_400}]}})
}

#[tokio::test]
async fn stripe_webhooks_are_verified_and_each_event_is_handled_once() {
    let fake = FakeStripe::start().await;
    let server = Server::start_with(options(TestDatabase::sqlite(), &fake, &[])).await;
    let (_, admin) = server.create_org("Acme Leads", "dana@acme.example");
    let (_, customer) = subscribe(&server, &fake, "dana@acme.example").await;
    let (body, signature) = signed_event(
        "customer.subscription.created",
        subscription(&customer, "active"),
        now(),
        now(),
        WEBHOOK_SECRET,
    );

    let (status, answer) = stripe_event(&server, &body, None).await;
    assert_eq!(status, 400, "{answer}");
    let wrong_secret = bidline_tests::fake_stripe::signature(&body, now(), "whsec_other");
    let (status, answer) = stripe_event(&server, &body, Some(&wrong_secret)).await;
    assert_eq!(status, 400, "signed with another secret: {answer}");
    let (_, other_signature) =
        signed_event("invoice.paid", json!({}), now(), now(), WEBHOOK_SECRET);
    let (status, _) = stripe_event(&server, &body, Some(&other_signature)).await;
    assert_eq!(status, 400, "the signature of another body");
    let stale = bidline_tests::fake_stripe::signature(&body, now() - 600, WEBHOOK_SECRET);
    let (status, answer) = stripe_event(&server, &body, Some(&stale)).await;
    assert_eq!(status, 400, "ten minutes old: {answer}");
    assert!(answer["error"].as_str().unwrap().contains("tolerance"), "{answer}");
    let (_, billing) = admin.get("/billing").await;
    assert_eq!(billing["status"], "none", "nothing applied yet: {billing}");

    let (status, answer) = stripe_event(&server, &body, Some(&signature)).await;
    assert_eq!((status, &answer["handled"]), (200, &json!("applied")), "{answer}");
    let (status, answer) = stripe_event(&server, &body, Some(&signature)).await;
    assert_eq!((status, &answer["handled"]), (200, &json!("duplicate")), "{answer}");
    let (_, billing) = admin.get("/billing").await;
    assert_eq!((&billing["status"], &billing["subscribed"]), (&json!("active"), &json!(true)));

    // An older event delivered late changes nothing.
    let (late, signature) = signed_event(
        "customer.subscription.updated",
        subscription(&customer, "incomplete"),
        now() - 3600,
        now(),
        WEBHOOK_SECRET,
    );
    let (status, _) = stripe_event(&server, &late, Some(&signature)).await;
    assert_eq!(status, 200);
    let (_, billing) = admin.get("/billing").await;
    assert_eq!(billing["status"], "active", "{billing}");
}

#[tokio::test]
async fn without_stripe_billing_is_off_and_its_webhook_is_refused() {
    let server = Server::start().await;
    let (_, admin) = server.create_org("Acme Leads", "dana@acme.example");
    let (status, billing) = admin.get("/billing").await;
    assert_eq!(status, 200);
    assert_eq!((&billing["enabled"], &billing["calls_blocked"]), (&json!(false), &json!(false)));
    let (body, signature) = signed_event("invoice.paid", json!({}), now(), now(), WEBHOOK_SECRET);
    let (status, answer) = stripe_event(&server, &body, Some(&signature)).await;
    assert_eq!(status, 400, "{answer}");
    assert!(answer["error"].as_str().unwrap().contains("not configured"));
}

#[tokio::test]
async fn past_due_beyond_the_grace_turns_calls_away_and_paying_lets_them_in_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let fake = FakeStripe::start().await;
        let server =
            Server::start_with(options(database, &fake, &["--billing-grace-days", "0"])).await;
        let port = free_port();
        let network = Network::new(&server, json!({})).await;
        let target = network
            .target("Closer", port, json!({"kind": "static", "cents": 2500, "buffer_seconds": 1}))
            .await;
        network.go_live(&[&target]).await;
        let (owner, customer) = subscribe(&server, &fake, "dana@acme.example").await;
        let (body, signature) = signed_event(
            "customer.subscription.created",
            subscription(&customer, "active"),
            now() - 1,
            now(),
            WEBHOOK_SECRET,
        );
        assert_eq!(stripe_event(&server, &body, Some(&signature)).await.0, 200);

        let invoice = json!({"id": "in_1", "object": "invoice", "customer": customer,
                             "parent": {"subscription_details": {"subscription": "sub_fake1"}}});
        let (body, signature) =
            signed_event("invoice.payment_failed", invoice.clone(), now(), now(), WEBHOOK_SECRET);
        assert_eq!(stripe_event(&server, &body, Some(&signature)).await.0, 200);
        let (_, billing) = owner.get("/billing").await;
        assert_eq!(billing["status"], "past_due", "{backend}: {billing}");
        assert_eq!(billing["calls_blocked"], true, "{backend}: {billing}");

        refused(&server, CALLER, 402).passes().await;
        let call = network.ended_call(0).await;
        assert_eq!(call["status"], "rejected", "{backend}: {call:#}");
        let refusal = call["events"].as_array().unwrap().iter().find(|e| e["kind"] == "refused");
        assert_eq!(refusal.unwrap()["detail"]["reason"], "the organization's bill is past due");

        let (body, signature) =
            signed_event("invoice.paid", invoice, now() + 1, now(), WEBHOOK_SECRET);
        assert_eq!(stripe_event(&server, &body, Some(&signature)).await.0, 200);
        let buyer = Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), port, Transport::Udp, 1);
        carrier(&server, CALLER, 1500).passes().await;
        buyer.passes().await;
        let call = network.ended_call(1).await;
        assert_eq!(call["status"], "completed", "{backend}: {call:#}");

        // The answered call is on the ledger: 1.5 s of talk is one minute.
        let (_, billing) = owner.get("/billing").await;
        assert_eq!(usage(&billing, "call_minutes")["quantity"], 1, "{backend}: {billing:#}");
    }
}

#[tokio::test]
async fn within_the_grace_period_the_owner_is_told_when_calls_will_be_turned_away() {
    let fake = FakeStripe::start().await;
    let server = Server::start_with(options(TestDatabase::sqlite(), &fake, &[])).await;
    let (_, admin) = server.create_org("Acme Leads", "dana@acme.example");
    let (_, customer) = subscribe(&server, &fake, "dana@acme.example").await;
    let (body, signature) = signed_event(
        "customer.subscription.updated",
        subscription(&customer, "past_due"),
        now(),
        now(),
        WEBHOOK_SECRET,
    );
    assert_eq!(stripe_event(&server, &body, Some(&signature)).await.0, 200);
    let (_, billing) = admin.get("/billing").await;
    assert_eq!(
        (&billing["status"], &billing["calls_blocked"]),
        (&json!("past_due"), &json!(false))
    );
    let from = seconds(&billing["calls_blocked_from"]);
    let past_due = seconds(&billing["past_due_since"]);
    assert_eq!(from - past_due, 7 * 86_400, "the default grace is a week: {billing}");
    let owner =
        SessionClient::signed_in(server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;
    let (_, viewer) = owner.call("current_viewer", &[]).await;
    let alert = viewer["billing_alert"].as_str().unwrap_or_default();
    assert!(alert.contains("will be turned away from"), "{viewer}");
}

#[tokio::test]
async fn cancelling_while_past_due_keeps_calls_away_and_a_late_paid_invoice_revives_nothing() {
    let fake = FakeStripe::start().await;
    let server =
        Server::start_with(options(TestDatabase::sqlite(), &fake, &["--billing-grace-days", "0"]))
            .await;
    let (_, admin) = server.create_org("Acme Leads", "dana@acme.example");
    let (owner, customer) = subscribe(&server, &fake, "dana@acme.example").await;
    let deliver = |kind: &str, object: Value, created: i64| {
        let (body, signature) = signed_event(kind, object, created, now(), WEBHOOK_SECRET);
        let server = &server;
        async move { stripe_event(server, &body, Some(&signature)).await.0 }
    };
    let t = now() - 100;
    assert_eq!(
        deliver("customer.subscription.created", subscription(&customer, "active"), t).await,
        200
    );
    let (status, answer) = owner.post("/billing/checkout", &json!({})).await;
    assert_eq!(status, 409, "a second subscription would bill twice: {answer}");
    assert_eq!(
        deliver("customer.subscription.updated", subscription(&customer, "past_due"), t + 1).await,
        200
    );
    assert_eq!(
        deliver("customer.subscription.deleted", subscription(&customer, "canceled"), t + 2).await,
        200
    );
    let (_, billing) = admin.get("/billing").await;
    assert_eq!(
        (&billing["status"], &billing["calls_blocked"]),
        (&json!("canceled"), &json!(true)),
        "{billing}"
    );
    // The final invoice, paid after the cancel: the subscription stays canceled.
    let invoice = json!({"id": "in_final", "customer": customer, "subscription": "sub_fake1"});
    assert_eq!(deliver("invoice.paid", invoice, t + 3).await, 200);
    let (_, billing) = admin.get("/billing").await;
    assert_eq!(
        (&billing["status"], &billing["subscribed"]),
        (&json!("canceled"), &json!(false)),
        "{billing}"
    );
}

fn seconds(value: &Value) -> i64 {
    let text = value.as_str().unwrap_or_else(|| panic!("not a time: {value}"));
    chrono::DateTime::parse_from_rfc3339(text).expect("RFC 3339").timestamp()
}

#[tokio::test]
async fn the_owner_reaches_the_customer_portal_and_only_owners_reach_checkout() {
    let fake = FakeStripe::start().await;
    let server = Server::start_with(options(TestDatabase::sqlite(), &fake, &[])).await;
    let (_, admin) = server.create_org("Acme Leads", "dana@acme.example");
    let (status, answer) = admin.post("/billing/checkout", &json!({})).await;
    assert_eq!(status, 403, "an admin key: {answer}");
    let (owner, customer) = subscribe(&server, &fake, "dana@acme.example").await;
    let (status, portal) = owner.post("/billing/portal", &json!({})).await;
    assert_eq!(status, 200, "{portal}");
    assert!(portal["url"].as_str().unwrap().contains("/hosted/bps_"), "{portal}");
    let request = fake.requests_to("/v1/billing_portal/sessions").pop().unwrap();
    assert_eq!(request.field("customer"), Some(customer.as_str()));

    // Stripe unreachable: a clear 503, not a hang or a 500.
    fake.misbehave("/v1/billing_portal/sessions", vec![Misbehaviour::Fail(500)]);
    let (status, answer) = owner.post("/billing/portal", &json!({})).await;
    assert_eq!(status, 503, "{answer}");
}
