//! The DNI snippet in chromium, on a page of another origin under a strict
//! Content-Security-Policy that allows only Bidline's host: the page's default number
//! is swapped in every format and in `tel:` links, content added later is swapped too,
//! the lease is renewed and released; a page on an origin the campaign does not list
//! keeps its default number and nothing breaks.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::{Router, http::header, response::IntoResponse, routing::get};
use bidline_tests::{Browser, NewOrg, Server};
use serde_json::json;

/// The page's number, in every format the snippet must recognise, and what each must
/// read once the visitor's number (+1 310 555 0177) is in.
const FORMATS: [(&str, &str); 8] = [
    ("+1 (213) 555-0134", "+1 (310) 555-0177"),
    ("(213) 555-0134", "(310) 555-0177"),
    ("213-555-0134", "310-555-0177"),
    ("213.555.0134", "310.555.0177"),
    ("213 555 0134", "310 555 0177"),
    ("2135550134", "3105550177"),
    ("1-213-555-0134", "1-310-555-0177"),
    ("+12135550134", "+13105550177"),
];
const POOL_NUMBER: &str = "+13105550177";

/// A site on `ip` (port chosen here) whose page loads the snippet from `bidline`.
async fn site(ip: &str, bidline: &str, key: &str) -> SocketAddr {
    let mut body = String::new();
    for (n, (shown, _)) in FORMATS.iter().enumerate() {
        body.push_str(&format!("<p id=\"f{n}\">Call {shown} today</p>\n"));
    }
    let page = format!(
        "<!doctype html><html><head><title>Solar</title>\
         <script async src=\"{bidline}/dni.js\" data-campaign=\"{key}\"></script></head><body>\
         {body}<a id=\"tel\" href=\"tel:+12135550134\">Call us</a>\
         <p>Number: <span id=\"fill\" data-bidline-number></span></p>\
         <p id=\"fax\">Fax 213-555-0999</p><div id=\"later\"></div></body></html>"
    );
    // Scripts only from Bidline, requests only to Bidline: no inline script, no eval.
    let policy = format!(
        "default-src 'none'; script-src {bidline}; connect-src {bidline}; style-src 'none'"
    );
    let app = Router::new().route(
        "/",
        get(move || {
            let (page, policy) = (page.clone(), policy.clone());
            async move {
                (
                    [
                        (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
                        (header::CONTENT_SECURITY_POLICY, policy),
                    ],
                    page,
                )
                    .into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// How many requests `route` has answered, from Bidline's own metrics.
async fn answered(server: &Server, route: &str) -> u64 {
    let metrics = reqwest::get(server.url("/metrics")).await.unwrap().text().await.unwrap();
    metrics
        .lines()
        .filter(|line| {
            line.starts_with("http_requests_total") && line.contains(&format!("route=\"{route}\""))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<u64>().ok())
        .sum()
}

async fn wait_until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !done().await {
        assert!(started.elapsed() < Duration::from_secs(10), "{what} never happened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_visitor_sees_their_number_in_every_format_and_an_unlisted_site_is_unharmed() {
    let server = Server::start().await;
    let (_, api) = server.create_org("Sunny Leads", "sam@sunny.example");
    let (status, campaign) = api
        .post(
            "/campaigns",
            &json!({"name": "Solar", "time_zone": "America/Los_Angeles",
                    "default_number": "+12135550134", "dni_allowed_domains": ["127.0.0.1"]}),
        )
        .await;
    assert_eq!(status, 201, "{campaign}");
    let (_, pool) = api
        .post(
            "/dni-pools",
            &json!({"campaign_id": campaign["id"], "name": "Website", "lease_minutes": 5}),
        )
        .await;
    let (status, number) = api
        .post(
            "/numbers",
            &json!({"number": POOL_NUMBER, "campaign_id": campaign["id"], "pool_id": pool["id"]}),
        )
        .await;
    assert_eq!(status, 201, "{number}");
    wait_until("the pool going live", async || {
        api.get(&format!("/routing/numbers/{POOL_NUMBER}")).await.0 == 200
    })
    .await;

    let bidline = server.url("");
    let key = campaign["dni_public_key"].as_str().unwrap();
    let listed = site("127.0.0.1", &bidline, key).await;
    let unlisted = site("127.0.0.2", &bidline, key).await;
    let browser = Browser::start().await;
    let client = browser.client();

    // An origin the campaign does not list: no number, the page as it was.
    client.goto(&format!("http://{unlisted}/?utm_source=google")).await.unwrap();
    wait_until("the refused lease", async || answered(&server, "/dni/v1/lease").await >= 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    for (n, (shown, _)) in FORMATS.iter().enumerate() {
        let text = browser.find(&format!("#f{n}")).await.text().await.unwrap();
        assert_eq!(text, format!("Call {shown} today"));
    }
    assert_eq!(browser.find("#fill").await.text().await.unwrap(), "");

    // The campaign's own site: every format swapped, in the page's own format.
    client.goto(&format!("http://{listed}/?utm_source=google&gclid=G-1")).await.unwrap();
    for (n, (_, swapped)) in FORMATS.iter().enumerate() {
        browser
            .wait_for_text(&format!("#f{n}"), |text| text == format!("Call {swapped} today"))
            .await;
    }
    let tel = browser.find("#tel").await.attr("href").await.unwrap();
    assert_eq!(tel.as_deref(), Some("tel:+13105550177"));
    browser.wait_for_text("#fill", |text| text == "(310) 555-0177").await;
    assert_eq!(browser.find("#fax").await.text().await.unwrap(), "Fax 213-555-0999");

    // Content added later is swapped as well.
    client
        .execute(
            "document.getElementById('later').insertAdjacentHTML('beforeend', \
             '<p id=\"added\">Or text 213.555.0134</p>')",
            vec![],
        )
        .await
        .unwrap();
    browser.wait_for_text("#added", |text| text == "Or text 310.555.0177").await;

    // Coming back to the tab renews the lease; leaving the page releases it.
    client.execute("document.dispatchEvent(new Event('visibilitychange'))", vec![]).await.unwrap();
    wait_until("the renewal", async || {
        answered(&server, "/dni/v1/lease/{lease_id}/renew").await == 1
    })
    .await;
    client.goto("about:blank").await.unwrap();
    wait_until("the release", async || {
        answered(&server, "/dni/v1/lease/{lease_id}/release").await == 1
    })
    .await;

    // The campaign's page: the tag to paste, the number leased again (by a visitor from
    // a newsletter), and the day's leases.
    let lease = json!({"campaign": key, "params": {"utm_source": "newsletter"}});
    let leased = reqwest::Client::new()
        .post(server.url("/dni/v1/lease"))
        .header(header::ORIGIN, format!("http://{listed}"))
        .body(lease.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(leased.status(), 200);
    browser.sign_in(&bidline, "sam@sunny.example", NewOrg::PASSWORD).await;
    browser
        .open(&server.url(&format!("/app/campaigns/{}", campaign["id"].as_str().unwrap())))
        .await;
    let tag = browser.wait_for_text("#dni-tag", |text| !text.is_empty()).await;
    assert_eq!(
        tag,
        format!("<script async src=\"{bidline}/dni.js\" data-campaign=\"{key}\"></script>")
    );
    let row = browser.find("#dni-numbers tr[data-state='leased']").await.text().await.unwrap();
    assert!(row.contains("+13105550177") && row.contains("newsletter"), "{row}");
    let hours = browser.find("#dni-hours tbody tr").await.text().await.unwrap();
    assert!(hours.contains(" 2 "), "two leases this hour: {hours}");
    browser.close().await;
}
