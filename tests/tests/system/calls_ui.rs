//! The calls pages in chromium: a call made in the test appears in the live view within
//! a second of its INVITE and moves through ringing, connected and completed; the call
//! log lists it, its dates read in the organization's zone set in Settings; its page
//! shows the auction table.

use std::time::{Duration, Instant};

use bidline_sipp::{Sipp, Transport, free_port, scenario};
use bidline_tests::{Browser, NewOrg, Server};
use serde_json::json;

use super::calls::{CALLER, Network, carrier};

/// Waits until the live row of the only call reads `status`, and answers how long that
/// took from `since`.
async fn live_status(browser: &Browser, status: &str, since: Instant) -> Duration {
    browser.find(&format!("#live-calls tr[data-status='{status}']")).await;
    since.elapsed()
}

#[tokio::test]
async fn a_call_is_followed_live_and_its_auction_is_shown() {
    let server = Server::start().await;
    let network = Network::new(&server, json!({})).await;
    let (ringing_port, busy_port) = (free_port(), free_port());
    let answers = network
        .target(
            "Acme East",
            ringing_port,
            json!({"kind": "static", "cents": 1800, "buffer_seconds": 1}),
        )
        .await;
    let busy =
        network.target("Acme West", busy_port, json!({"kind": "static", "cents": 2400})).await;
    network.go_live(&[&answers, &busy]).await;

    let browser = Browser::start().await;
    browser.sign_in(&server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;

    // The owner reads dates in Chicago time.
    browser.open(&server.url("/app/settings")).await;
    browser.fill("#field-time_zone", "America/Chicago").await;
    browser.click("#zone-form button[type=submit]").await;
    browser.wait_for_text("#current-zone", |zone| zone == "America/Chicago").await;

    browser.open(&server.url("/app/calls")).await;
    browser.find("#live-calls").await;

    let busy_buyer = Sipp::uas(scenario("uas_busy.xml", vec![]), busy_port, Transport::Udp, 1);
    let buyer = Sipp::uas(
        scenario("uas_rings_then_answers.xml", vec![("__RING_MS__", "1500".into())]),
        ringing_port,
        Transport::Udp,
        1,
    );
    let started = Instant::now();
    let call = carrier(&server, CALLER, 1_500);
    let ringing = live_status(&browser, "ringing", started).await;
    assert!(ringing < Duration::from_secs(1), "the call appeared after {ringing:?}");
    live_status(&browser, "connected", started).await;
    live_status(&browser, "completed", started).await;
    call.passes().await;
    buyer.passes().await;
    busy_buyer.passes().await;

    // The log has it (after a reload); its page has the auction.
    browser.open(&server.url("/app/calls")).await;
    browser.wait_for_text("#call-log-zone", |text| text.contains("America/Chicago")).await;
    let row = browser.find("#call-log tbody tr").await;
    let text = row.text().await.unwrap();
    assert!(
        text.contains(CALLER) && text.contains("completed") && text.contains("$18.00"),
        "{text}"
    );
    browser.click("#call-log tbody tr a").await;
    browser.wait_for_path_where(|path| path.starts_with("/app/calls/")).await;
    let won = browser.find("#auction tr[data-outcome='connected']").await.text().await.unwrap();
    assert!(won.contains("Acme East") && won.contains("$18.00") && won.contains("#2"), "{won}");
    let lost = browser.find("#auction tr[data-outcome='no_answer']").await.text().await.unwrap();
    assert!(lost.contains("Acme West") && lost.contains("486 Busy Here"), "{lost}");
    assert_eq!(browser.find("#call-status").await.text().await.unwrap(), "completed");
    assert_eq!(browser.find("#call-revenue").await.text().await.unwrap(), "$18.00");

    // The campaign's page counts it in today's figures.
    browser.open(&server.url(&format!("/app/campaigns/{}", network.campaign))).await;
    assert_eq!(browser.find("#today-calls").await.text().await.unwrap(), "1");
    assert_eq!(browser.find("#today-converted").await.text().await.unwrap(), "1");
    assert_eq!(browser.find("#today-revenue").await.text().await.unwrap(), "$18.00");
    assert_eq!(browser.find("#today-payout").await.text().await.unwrap(), "$4.00");
    browser.close().await;
}
