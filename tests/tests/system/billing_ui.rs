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
    let (body, signature) =
        signed_event("invoice.payment_failed", invoice, now, now, WEBHOOK_SECRET);
    let response = reqwest::Client::new()
        .post(server.url("/stripe/webhook"))
        .header("Stripe-Signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

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
