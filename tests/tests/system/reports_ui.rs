//! Reports in chromium: calls made through the SIP edge appear on the Overview's tiles
//! and chart and in a campaign×day report within a second of ending, without a reload;
//! the report's CSV download holds what its table shows.

use std::time::{Duration, Instant};

use bidline_sipp::{Sipp, Transport, free_port, scenario};
use bidline_tests::{Browser, NewOrg, Server};
use serde_json::json;

use super::calls::{CALLER, Network, carrier};

/// The longest a call may take to show once it ended.
const FRESH: Duration = Duration::from_secs(1);

#[tokio::test]
async fn ended_calls_appear_in_the_overview_and_a_report_without_a_reload() {
    let server = Server::start().await;
    let network = Network::new(&server, json!({})).await;
    let port = free_port();
    let revenue = json!({"kind": "static", "cents": 1800, "buffer_seconds": 1});
    let target = network.target("Acme East", port, revenue).await;
    network.go_live(&[&target]).await;

    let overview = Browser::start().await;
    overview.sign_in(&server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;
    overview.open(&server.url("/app")).await;
    // No calls yet: the setup steps, in order.
    let setup =
        overview.wait_for_text("#setup", |text| text.contains("Add an inbound trunk")).await;
    assert!(setup.find("trunk") < setup.find("tracking number"), "{setup}");
    let report = Browser::start().await;
    report.sign_in(&server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;
    report.open(&server.url("/app/reports?group_by=campaign,day")).await;
    report.wait_for_text("#report-range", |text| text.contains("0 rows")).await;

    for n in 1..=2_i64 {
        let buyer = Sipp::uas(
            scenario("uas_rings_then_answers.xml", vec![("__RING_MS__", "200".into())]),
            port,
            Transport::Udp,
            1,
        );
        carrier(&server, CALLER, 1_500).passes().await;
        let ended = Instant::now();
        let calls = n.to_string();
        let revenue = format!("${}.00", 18 * n);
        overview
            .wait_for_text("#overview-tiles [data-metric=calls] .tile-value", |t| t == calls)
            .await;
        overview
            .wait_for_text("#overview-tiles [data-metric=revenue_cents] .tile-value", |t| {
                t == revenue
            })
            .await;
        overview.wait_for_text("#chart-calls-readout", |t| t == format!("Total: {n}")).await;
        report
            .wait_for_text("#report-table tfoot", |t| t.contains(&revenue) && t.contains(&calls))
            .await;
        let shown = ended.elapsed();
        assert!(shown < FRESH, "call {n} showed {shown:?} after it ended");
        buyer.passes().await;
    }

    // The chart has a bar for the hour of the calls, holding both.
    let bars = overview
        .client()
        .execute(
            "return [...document.querySelectorAll('#chart-calls .bar title')].map(t => t.textContent)",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        bars.as_array().unwrap().iter().any(|bar| bar.as_str().unwrap().ends_with(": 2 calls")),
        "{bars}"
    );
    let top = overview.wait_for_text("#top-campaigns tbody", |t| t.contains("$")).await;
    assert!(top.contains("Auto insurance") && top.contains('2'), "{top}");

    // The CSV the page offers holds the table's row.
    let row = report.find("#report-table tbody tr").await.text().await.unwrap();
    let csv = report
        .client()
        .execute_async(
            "const done = arguments[arguments.length - 1];
             fetch(document.querySelector('#report-csv').href).then(r => r.text()).then(done);",
            vec![],
        )
        .await
        .unwrap();
    let csv = csv.as_str().unwrap().to_owned();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    let header: Vec<&str> = lines[0].split(',').collect();
    let cells: Vec<&str> = lines[1].split(',').collect();
    let cell = |name: &str| cells[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(cell("calls"), "2");
    assert_eq!(cell("revenue_cents"), "3600");
    for shown in [cell("campaign_name"), cell("day"), "$36.00", "100.0%"] {
        assert!(row.contains(shown), "the table's row {row:?} lacks {shown:?} of the CSV");
    }
    overview.close().await;
    report.close().await;
}
