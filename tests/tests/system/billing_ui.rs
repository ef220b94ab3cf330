//! The Billing page in chromium: the owner subscribes through (fake) Stripe Checkout,
//! sees the bill past due in a banner on every page and on the Billing page, the
//! invoices Stripe holds, and reaches the customer portal.

use bidline_tests::{
    Browser, FakeStripe, NewOrg, Server, ServerOptions,
    fake_stripe::{WEBHOOK_SECRET, signed_event},
};
use serde_json::json;

#[tokio::test]
async fn the_owner_subscribes_sees_the_bill_past_due_and_reaches_the_portal() {
    let fake = FakeStripe::start().await;
    let mut args = fake.args();
    args.extend(["--billing-grace-days".to_owned(), "0".to_owned()]);
    let server = Server::start_with(ServerOptions { args, ..Default::default() }).await;
    let (_, admin) = server.create_org("Acme Leads", "dana@acme.example");
    let (status, _) = admin.post("/campaigns", &json!({"name": "Solar", "time_zone": "UTC"})).await;
    assert_eq!(status, 201);

    let browser = Browser::start().await;
    browser.sign_in(&server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;
    browser.open(&server.url("/app/billing")).await;
    browser.wait_for_text("#billing-state", |text| text == "Not subscribed").await;
    browser.find("#billing-usage tr[data-meter='call_minutes']").await;
    browser.click("#subscribe").await;
    browser.wait_for_path_where(|path| path.starts_with("/hosted/cs_test_")).await;
    let request = fake.requests_to("/v1/checkout/sessions").pop().unwrap();
    let customer = request.field("customer").unwrap().to_owned();

    // Stripe's invoice run: one paid invoice, then a failed payment.
    fake.add_invoice(json!({"id": "in_fake1", "object": "invoice", "customer": customer,
        "number": "ACME-0001", "status": "open", "currency": "usd", "total": 4218,
        "amount_due": 4218, "created": chrono::Utc::now().timestamp(),
        "hosted_invoice_url": format!("{}hosted/in_fake1", fake.url())}));
    let invoice = json!({"id": "in_fake1", "object": "invoice", "customer": customer,
                         "subscription": "sub_fake1"});
    let now = chrono::Utc::now().timestamp();
    let subscription = json!({"id": "sub_fake1", "object": "subscription", "customer": customer, "status": "active"});
    for (kind, object, created) in [
        ("customer.subscription.created", subscription, now - 1),
        ("invoice.payment_failed", invoice, now),
    ] {
        let (body, signature) = signed_event(kind, object, created, now, WEBHOOK_SECRET);
        let response = reqwest::Client::new()
            .post(server.url("/stripe/webhook"))
            .header("Stripe-Signature", signature)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
    }

    browser.open(&server.url("/app")).await;
    let alert = browser.find("#billing-alert").await.text().await.unwrap();
    assert!(alert.contains("turned away"), "{alert}");
    browser.open(&server.url("/app/billing")).await;
    browser.wait_for_text("#billing-state", |text| text == "Past due").await;
    let blocked = browser.find("#billing-blocked").await.text().await.unwrap();
    assert!(blocked.contains("SIP 402"), "{blocked}");
    let invoices = browser.find("#invoices").await.text().await.unwrap();
    assert!(invoices.contains("ACME-0001") && invoices.contains("42.18 USD"), "{invoices}");

    browser.click("#manage-billing").await;
    browser.wait_for_path_where(|path| path.starts_with("/hosted/bps_")).await;
    let portal = fake.requests_to("/v1/billing_portal/sessions").pop().unwrap();
    assert_eq!(portal.field("customer"), Some(customer.as_str()));
    assert!(portal.field("return_url").unwrap().ends_with("/app/billing"));
    browser.close().await;
}

#[tokio::test]
async fn the_owner_connects_stripe_and_invoices_a_buyer_from_its_page() {
    let fake = FakeStripe::start().await;
    let server = Server::start_with(ServerOptions {
        args: vec![
            "--stripe-api-base".into(),
            fake.url(),
            "--public-url".into(),
            "https://calls.acme.example".into(),
        ],
        ..Default::default()
    })
    .await;
    let (_, admin) = server.create_org("Acme Leads", "dana@acme.example");
    let (status, buyer) = admin
        .post(
            "/buyers",
            &json!({"name": "Closer Inc", "contact": {"email": "ap@closer.example"},
                    "invoicing": {"enabled": true, "cycle": "weekly"}}),
        )
        .await;
    assert_eq!(status, 201, "{buyer}");

    let browser = Browser::start().await;
    browser.sign_in(&server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;
    browser.open(&server.url("/app/billing")).await;
    browser.find("#billing-off").await;
    browser.fill("#field-stripe-secret-key", "sk_test_not_this_one").await;
    browser.click("#connect-invoicing button[type=submit]").await;
    browser
        .wait_for_text("#connect-invoicing .form-error", |text| text.contains("Stripe refused"))
        .await;
    browser.fill("#field-stripe-secret-key", bidline_tests::fake_stripe::SECRET_KEY).await;
    browser.click("#connect-invoicing button[type=submit]").await;
    let connected =
        browser.wait_for_text("#invoicing-connected", |text| text.contains("sk_test_")).await;
    assert!(!connected.contains(bidline_tests::fake_stripe::SECRET_KEY), "{connected}");

    // Nothing was converted last week: the cycle's invoice is empty, and Stripe is spared.
    browser.open(&server.url(&format!("/app/buyers/{}", buyer["id"].as_str().unwrap()))).await;
    browser.find("#no-invoices").await;
    browser.click("#run-invoice").await;
    browser.wait_for_text("#buyer-invoices .status", |text| text == "empty").await;
    assert!(fake.invoices().is_empty());
    browser.close().await;
}
