//! The calls pages in chromium: a call made in the test appears in the live view within
//! a second of its INVITE and moves through ringing and connected; once it ends it leaves
//! the live view and enters the call log and its totals without a reload; the log's
//! filters go into the URL, its dates read in the organization's zone set in Settings;
//! the call's page shows the auction and a timeline in sentences.

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
    call.passes().await;
    let ended = Instant::now();
    buyer.passes().await;
    busy_buyer.passes().await;

    // Ended, it leaves Live and enters the log and its totals, without a reload.
    browser.wait_for_text("#live-calls tbody", |rows| rows.trim().is_empty()).await;
    let text = browser
        .wait_for_text("#call-log tbody tr", |row| {
            row.contains("completed") && row.contains("$18.00")
        })
        .await;
    assert!(text.contains(CALLER), "{text}");
    let logged = ended.elapsed();
    assert!(logged < Duration::from_secs(2), "the ended call entered the log after {logged:?}");
    browser
        .wait_for_text("#call-log-totals", |totals| {
            totals.contains("1 call in all")
                && totals.contains("$18.00")
                && totals.contains("$4.00")
        })
        .await;
    browser.wait_for_text("#call-log-zone", |text| text.contains("America/Chicago")).await;

    // Filters go into the URL, and a filter that matches nothing empties log and totals.
    browser.select("#filter-status", "failed").await;
    browser.click("#call-filters button[type=submit]").await;
    browser.wait_for_path("/app/calls?status=failed").await;
    browser.wait_for_text("#call-log-totals", |totals| totals.contains("0 calls in all")).await;
    browser.open(&server.url("/app/calls?status=completed")).await;
    browser.wait_for_text("#call-log-totals", |totals| totals.contains("1 call in all")).await;

    // The call's page has the auction and the timeline, with names.
    browser.click("#call-log tbody tr a").await;
    browser.wait_for_path_where(|path| path.starts_with("/app/calls/")).await;
    let won = browser.find("#auction tr[data-outcome='connected']").await.text().await.unwrap();
    assert!(won.contains("Acme East") && won.contains("$18.00") && won.contains("#2"), "{won}");
    let lost = browser.find("#auction tr[data-outcome='no_answer']").await.text().await.unwrap();
    assert!(lost.contains("Acme West") && lost.contains("486 Busy Here"), "{lost}");
    let failed = browser.find("#timeline tr[data-kind='leg.failed']").await.text().await.unwrap();
    assert!(failed.contains("Acme West did not take the call: 486 Busy Here."), "{failed}");
    let bridged = browser.find("#timeline tr[data-kind='bridged']").await.text().await.unwrap();
    assert!(bridged.contains("Connected the caller to Acme East."), "{bridged}");
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
