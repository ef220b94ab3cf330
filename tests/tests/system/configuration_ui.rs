//! The configuration pages in chromium: a campaign, a publisher, a buyer with a static
//! and an RTB target, both in the campaign's ring tree, and three numbers imported with
//! one bad line shown as an error — checked through the REST API as well.

use bidline_tests::{Browser, FakeBuyer, NewOrg, Server};
use serde_json::{Value, json};

/// Waits for the object page a create leads to, and answers the new object's id.
async fn created(browser: &Browser, plural: &str) -> String {
    let prefix = format!("/app/{plural}/");
    let path = browser
        .wait_for_path_where(|path| path.strip_prefix(&prefix).is_some_and(|id| id.len() == 36))
        .await;
    path.rsplit('/').next().unwrap().to_owned()
}

async fn new_object(browser: &Browser, server: &Server, plural: &str) {
    browser.open(&server.url(&format!("/app/{plural}/new"))).await;
}

#[tokio::test]
async fn a_network_is_configured_from_the_dashboard() {
    let server = Server::start().await;
    let (_, api) = server.create_org("Acme Leads", "dana@acme.example");
    let browser = Browser::start().await;
    browser.sign_in(&server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;

    // A campaign, a publisher, a buyer and an outbound trunk.
    new_object(&browser, &server, "campaigns").await;
    browser.fill("#field-name", "Medicare Inbound").await;
    browser.fill("#field-time_zone", "America/New_York").await;
    browser.click("#save").await;
    let campaign = created(&browser, "campaigns").await;
    browser.wait_for_text("main h1", |text| text == "Medicare Inbound").await;

    new_object(&browser, &server, "publishers").await;
    browser.fill("#field-name", "Call Source").await;
    browser.fill("#field-payout-cents", "$12").await;
    browser.click("#save").await;
    let publisher = created(&browser, "publishers").await;
    let (_, stored) = api.get(&format!("/publishers/{publisher}")).await;
    assert_eq!(stored["payout"]["cents"], 1200, "dollars typed, cents stored: {stored}");

    new_object(&browser, &server, "buyers").await;
    browser.fill("#field-name", "Acme Insurance").await;
    browser.click("#save").await;
    let buyer = created(&browser, "buyers").await;

    new_object(&browser, &server, "trunks").await;
    browser.fill("#field-name", "Carrier Out").await;
    browser.fill("#field-host", "sip.carrier.example").await;
    browser.click("#save").await;
    let trunk = created(&browser, "trunks").await;
    let inbound =
        json!({"name": "Carrier In", "direction": "inbound", "allowed_cidrs": ["203.0.113.0/24"]});
    assert_eq!(api.post("/trunks", &inbound).await.0, 201);

    // A static target: a schedule that makes no sense is refused next to its field.
    new_object(&browser, &server, "targets").await;
    browser.select("#field-buyer_id", &buyer).await;
    browser.fill("#field-name", "Acme East").await;
    browser.fill("#field-destination", "+1 555 010 0200").await;
    browser.select("#field-outbound_trunk_id", &trunk).await;
    let trunks = browser.find("#field-outbound_trunk_id").await.text().await.unwrap();
    assert!(!trunks.contains("Carrier In"), "an inbound trunk is offered as outbound: {trunks}");
    browser.fill("#field-caps-day", "100").await;
    browser.fill("#field-schedule-weekly", "mon 17:00-09:00").await;
    browser.fill("#field-revenue-cents", "35.00").await;
    browser.click("#save").await;
    browser
        .wait_for_text("#field-schedule-weekly-error", |text| {
            text.contains("after the opening time")
        })
        .await;
    // Focus moves to the field in error, which says so and points at its message.
    let focused = browser
        .client()
        .execute(
            "const e = document.activeElement; \
             return [e.id, e.getAttribute('aria-invalid'), e.getAttribute('aria-describedby')];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(focused[0], "field-schedule-weekly", "{focused}");
    assert_eq!(focused[1], "true", "{focused}");
    assert!(focused[2].as_str().unwrap().contains("field-schedule-weekly-error"), "{focused}");
    browser.fill("#field-schedule-weekly", "mon 09:00-17:00\ntue 09:00-17:00").await;
    browser.click("#save").await;
    let static_target = created(&browser, "targets").await;
    let (_, stored) = api.get(&format!("/targets/{static_target}")).await;
    assert_eq!(stored["revenue"]["cents"], 3500, "{stored}");
    // The list shows each target's buyer by name and its price in dollars.
    browser.open(&server.url("/app/targets")).await;
    browser
        .wait_for_text("#objects tbody", |rows| {
            rows.contains("Acme East") && rows.contains("Acme Insurance") && rows.contains("$35.00")
        })
        .await;

    // An RTB target, pinged for a bid.
    new_object(&browser, &server, "targets").await;
    browser.select("#field-buyer_id", &buyer).await;
    browser.fill("#field-name", "Acme RTB").await;
    browser.fill("#field-destination", "sip:rtb@acme.example").await;
    browser.select("#field-revenue-kind", "rtb").await;
    browser.fill("#field-revenue-ping_url", "https://acme.example/ping").await;
    // The buyer answers as Ringba's buyers do: its preset fills the answer's fields.
    browser.click("#preset-ringba").await;
    browser.click("#save").await;
    let rtb_target = created(&browser, "targets").await;
    let (_, rtb) = api.get(&format!("/targets/{rtb_target}")).await;
    assert_eq!(rtb["revenue"]["kind"], "rtb", "{rtb}");
    assert_eq!(rtb["revenue"]["bid_path"], "$.bidAmount");
    assert_eq!(rtb["revenue"]["bid_unit"], "dollars");
    assert_eq!(rtb["revenue"]["destination_path"], "$.phoneNumber");

    // Its test ping, against a buyer's endpoint on this machine.
    let buyer_endpoint = FakeBuyer::start(serde_json::json!({"bidAmount": 12.5})).await;
    browser.fill("#field-revenue-ping_url", &buyer_endpoint.url("/ping")).await;
    browser.click("#save").await;
    browser.wait_for_text("#object-form [role=status]", |text| text == "Saved.").await;
    browser.open(&server.url(&format!("/app/targets/{rtb_target}"))).await;
    browser.click("#send-test-ping").await;
    browser.wait_for_text("#test-ping-outcome", |text| text.contains("Bid 1250¢")).await;
    assert_eq!(buyer_endpoint.received().len(), 1);

    // Both in the campaign's ring tree.
    browser.open(&server.url(&format!("/app/campaigns/{campaign}"))).await;
    for target in [&static_target, &rtb_target] {
        browser.select("#ring-tree-add", target).await;
        browser.click("#ring-tree-add-button").await;
    }
    browser.click("#ring-tree-save").await;
    browser.wait_for_text("#ring-tree [role=status]", |text| text.contains("saved")).await;
    let (_, tree) = api.get(&format!("/campaigns/{campaign}/ring-tree")).await;
    let ids: Vec<&str> =
        tree.as_array().unwrap().iter().map(|e| e["target_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [static_target.as_str(), rtb_target.as_str()]);
    browser
        .wait_for_text("#ring-tree-entries", |text| {
            text.contains("day 100") && text.contains("mon 09:00-17:00")
        })
        .await;
    browser.open(&server.url(&format!("/app/campaigns/{campaign}"))).await;
    browser
        .wait_for_text("#history", |text| {
            text.contains("ring_tree") && text.contains("dana@acme.example")
        })
        .await;

    // Three numbers, one of them wrong: previewed, refused whole, then the valid ones.
    browser.open(&server.url("/app/numbers/import")).await;
    browser.fill("#import-text", "+1 555 010 0301\n555 01\n(555) 010-0302").await;
    browser.select("#import-campaign", &campaign).await;
    browser.click("#import-preview").await;
    let report =
        browser.wait_for_text("#import-report", |text| text.contains("lines have errors")).await;
    assert!(
        report.contains("555 01")
            && report.contains("is not a phone number")
            && report.contains("+15550100301"),
        "{report}"
    );
    browser.click("#import-submit").await;
    browser.wait_for_text("#import-errors", |text| text.contains("2")).await;
    assert_eq!(count(&api.get("/numbers").await.1), 0, "nothing stored while a line is wrong");
    browser.click("#import-valid-lines").await;
    browser.click("#import-submit").await;
    browser.wait_for_text("#import-report", |text| text.contains("Imported 2 numbers")).await;
    let (_, numbers) = api.get("/numbers").await;
    assert_eq!(count(&numbers), 2, "{numbers}");

    browser.close().await;
}

fn count(list: &Value) -> usize {
    list["items"].as_array().map_or(0, Vec::len)
}
