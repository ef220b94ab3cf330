//! The configuration pages in chromium: a campaign, a publisher, a buyer with a static
//! and an RTB target, both in the campaign's ring tree, and three numbers imported with
//! one bad line shown as an error — checked through the REST API as well.

use bidline_tests::{Browser, FakeBuyer, NewOrg, Server};
use serde_json::Value;

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
    browser.fill("#field-payout-cents", "1200").await;
    browser.click("#save").await;
    created(&browser, "publishers").await;

    new_object(&browser, &server, "buyers").await;
    browser.fill("#field-name", "Acme Insurance").await;
    browser.click("#save").await;
    let buyer = created(&browser, "buyers").await;

    new_object(&browser, &server, "trunks").await;
    browser.fill("#field-name", "Carrier Out").await;
    browser.fill("#field-host", "sip.carrier.example").await;
    browser.click("#save").await;
    let trunk = created(&browser, "trunks").await;

    // A static target: a schedule that makes no sense is refused next to its field.
    new_object(&browser, &server, "targets").await;
    browser.select("#field-buyer_id", &buyer).await;
    browser.fill("#field-name", "Acme East").await;
    browser.fill("#field-destination", "+1 555 010 0200").await;
    browser.select("#field-outbound_trunk_id", &trunk).await;
    browser.fill("#field-caps-day", "100").await;
    browser.fill("#field-schedule-weekly", "mon 17:00-09:00").await;
    browser.fill("#field-revenue-cents", "3500").await;
    browser.click("#save").await;
    browser
        .wait_for_text("#field-schedule-weekly-error", |text| {
            text.contains("after the opening time")
        })
        .await;
    browser.fill("#field-schedule-weekly", "mon 09:00-17:00\ntue 09:00-17:00").await;
    browser.click("#save").await;
    let static_target = created(&browser, "targets").await;

    // An RTB target, pinged for a bid.
    new_object(&browser, &server, "targets").await;
    browser.select("#field-buyer_id", &buyer).await;
    browser.fill("#field-name", "Acme RTB").await;
    browser.fill("#field-destination", "sip:rtb@acme.example").await;
    browser.select("#field-revenue-kind", "rtb").await;
    browser.fill("#field-revenue-ping_url", "https://acme.example/ping").await;
    browser.fill("#field-revenue-bid_path", "$.bidAmount").await;
    browser.click("#save").await;
    let rtb_target = created(&browser, "targets").await;
    let (_, rtb) = api.get(&format!("/targets/{rtb_target}")).await;
    assert_eq!(rtb["revenue"]["kind"], "rtb", "{rtb}");
    assert_eq!(rtb["revenue"]["bid_path"], "$.bidAmount");

    // Its test ping, against a buyer's endpoint on this machine.
    let buyer_endpoint = FakeBuyer::start(serde_json::json!({"bidAmount": 12.5})).await;
    browser.fill("#field-revenue-ping_url", &buyer_endpoint.url("/ping")).await;
    browser.select("#field-revenue-bid_unit", "dollars").await;
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
