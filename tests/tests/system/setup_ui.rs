//! The Overview's guided setup in chromium: an empty organization follows its steps —
//! each ticked when done, the forms they open prefilled — to a test call placed from the
//! Overview through the SIP edge to a buyer (sipp), whose outcome the Overview shows.

use bidline_sipp::{Sipp, Transport, free_port, scenario};
use bidline_tests::{Browser, NewOrg, Server};
use serde_json::json;

async fn ticked(browser: &Browser, count: usize) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let done =
            browser.client().find_all(fantoccini::Locator::Css("#setup li.done")).await.unwrap();
        if done.len() == count {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{} steps ticked, not {count}", done.len());
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Saves the form; the new object's page opens with a notice. Answers its id.
async fn saved(browser: &Browser, plural: &str, notice: &str) -> String {
    browser.click("#save").await;
    let prefix = format!("/app/{plural}/");
    let path = browser
        .wait_for_path_where(|path| path.strip_prefix(&prefix).is_some_and(|id| id.len() == 36))
        .await;
    browser.wait_for_text("#notice", |text| text == notice).await;
    path.rsplit('/').next().unwrap().to_owned()
}

#[tokio::test]
async fn the_guided_setup_takes_an_empty_organization_to_a_completed_test_call() {
    let server = Server::start().await;
    let (_, api) = server.create_org("Acme Leads", "dana@acme.example");
    let browser = Browser::start().await;
    browser.sign_in(&server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;
    browser.open(&server.url("/app")).await;
    browser.wait_for_text("#setup h2", |text| text == "Set up your first campaign").await;
    ticked(&browser, 0).await;
    let offered = browser.find("#setup").await.text().await.unwrap();
    assert!(offered.contains("conversion buffer (60 s"), "the buffer trap is explained: {offered}");
    assert!(offered.contains("an inbound trunk cannot carry calls out"), "{offered}");
    assert!(offered.contains("Add a tracking number first"), "{offered}");

    // An empty list says what its objects are for and how to add one.
    browser.open(&server.url("/app/campaigns")).await;
    let empty = browser.find("#empty-list").await.text().await.unwrap();
    assert!(empty.starts_with("No campaigns yet. A campaign is the offer"), "{empty}");
    assert!(empty.contains("“New campaign”"), "{empty}");
    browser.open(&server.url("/app")).await;

    // The trunk step opens the trunk form set to inbound.
    browser.click("#setup a[href='/app/trunks/new?direction=inbound']").await;
    browser.wait_for_path("/app/trunks/new?direction=inbound").await;
    let direction = browser.find("#field-direction").await.prop("value").await.unwrap();
    assert_eq!(direction.as_deref(), Some("inbound"));
    browser.fill("#field-name", "Carrier").await;
    browser.fill("#field-allowed_cidrs", "203.0.113.0/24").await;
    saved(&browser, "trunks", "Trunk created.").await;
    browser.open(&server.url("/app")).await;
    ticked(&browser, 1).await;

    browser.click("#setup a[href='/app/campaigns/new']").await;
    browser.fill("#field-name", "Medicare").await;
    browser.fill("#field-time_zone", "America/New_York").await;
    let campaign = saved(&browser, "campaigns", "Campaign created.").await;
    browser.open(&server.url("/app")).await;
    ticked(&browser, 2).await;

    browser.click("#setup a[href='/app/buyers/new']").await;
    browser.fill("#field-name", "Acme Insurance").await;
    let buyer = saved(&browser, "buyers", "Buyer created.").await;
    browser.open(&server.url("/app")).await;
    ticked(&browser, 3).await;

    // The target step opens the target form with the buyer chosen.
    browser.click(&format!("#setup a[href='/app/targets/new?buyer_id={buyer}']")).await;
    let chosen = browser.find("#field-buyer_id").await.prop("value").await.unwrap();
    assert_eq!(chosen.as_deref(), Some(buyer.as_str()));
    let port = free_port();
    browser.fill("#field-name", "Acme East").await;
    browser.fill("#field-destination", &format!("sip:buyer@127.0.0.1:{port}")).await;
    browser.fill("#field-revenue-cents", "20.00").await;
    let target = saved(&browser, "targets", "Target created.").await;
    browser.open(&server.url("/app")).await;
    ticked(&browser, 4).await;

    // The ring-tree step opens the campaign whose tree is empty.
    browser.click(&format!("#setup a[href='/app/campaigns/{campaign}']")).await;
    browser.select("#ring-tree-add", &target).await;
    browser.click("#ring-tree-add-button").await;
    browser.click("#ring-tree-save").await;
    browser.wait_for_text("#ring-tree [role=status]", |text| text.contains("saved")).await;
    browser.open(&server.url("/app")).await;
    ticked(&browser, 5).await;

    // The number step opens the number form in that campaign.
    browser.click(&format!("#setup a[href='/app/numbers/new?campaign_id={campaign}']")).await;
    let in_campaign = browser.find("#field-campaign_id").await.prop("value").await.unwrap();
    assert_eq!(in_campaign.as_deref(), Some(campaign.as_str()));
    browser.fill("#field-number", "+1 555 010 0300").await;
    saved(&browser, "numbers", "Number created.").await;
    browser.open(&server.url("/app")).await;
    ticked(&browser, 6).await;

    // The test call: through the edge to the buyer, who answers; the caller hangs up.
    let buyer_phone = Sipp::uas(
        scenario("uas_rings_then_answers.xml", vec![("__RING_MS__", "500".into())]),
        port,
        Transport::Udp,
        1,
    );
    browser.click("#place-test-call").await;
    browser.wait_for_text("#test-call-outcome", |text| text.contains("Calling")).await;
    let outcome =
        browser.wait_for_text("#test-call-outcome", |text| text.starts_with("Test call:")).await;
    assert!(outcome.contains("+15550100300 was answered after"), "{outcome}");
    assert!(outcome.contains("the test caller hung up"), "{outcome}");
    buyer_phone.passes().await;

    // Its record is the organization's first call, and the Overview now shows figures.
    browser.click("#test-call-outcome a").await;
    browser.wait_for_path_where(|path| path.starts_with("/app/calls/")).await;
    assert_eq!(browser.find("#call-status").await.text().await.unwrap(), "completed");
    let (_, calls) = api.get("/calls").await;
    assert_eq!(calls["items"].as_array().unwrap().len(), 1, "{calls}");
    assert_eq!(calls["items"][0]["inbound_trunk_id"], json!(null));
    browser.open(&server.url("/app")).await;
    browser.find("#overview-tiles").await;
    browser.close().await;
}
