//! A network invoices its buyers through its own Stripe account (the fake): real calls
//! converted, one adjusted by the buyer's postback, last week's cycle invoiced with a line
//! per campaign and a statement of the calls; a run that Stripe cut short is finished by
//! the next, and running the cycle again never makes a second invoice.

use bidline_sipp::{Sipp, Transport, free_port, scenario};
use bidline_tests::{
    Api, FakeStripe, Server, ServerOptions, TestDatabase,
    fake_stripe::{Misbehaviour, SECRET_KEY},
};
use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::{Connection, postgres::PgConnection, sqlite::SqliteConnection};

use crate::{
    billing::owner_api,
    calls::{CALLER, Network, carrier},
};

/// Moves every call a week back, as if it had been taken last week.
async fn a_week_ago(database: &TestDatabase) {
    const SELECT: &str = "SELECT id, started_at, answered_at, ended_at FROM calls";
    const UPDATE: &str =
        "UPDATE calls SET started_at = $2, answered_at = $3, ended_at = $4 WHERE id = $1";
    type Times = (uuid::Uuid, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
    let week = chrono::Duration::days(7);
    macro_rules! shift {
        ($connection:expr) => {{
            let mut connection = $connection;
            let calls: Vec<Times> =
                sqlx::query_as(SELECT).fetch_all(&mut connection).await.unwrap();
            for (id, started, answered, ended) in calls {
                sqlx::query(UPDATE)
                    .bind(id)
                    .bind(started - week)
                    .bind(answered.map(|at| at - week))
                    .bind(ended.map(|at| at - week))
                    .execute(&mut connection)
                    .await
                    .unwrap();
            }
        }};
    }
    match database.backend() {
        "sqlite" => shift!(SqliteConnection::connect(database.url()).await.unwrap()),
        _ => shift!(PgConnection::connect(database.url()).await.unwrap()),
    }
}

const SOLAR: &str = "+18005550199";
const SOLAR_NAME: &str = r#"=HYPERLINK("https://evil.example","Solar")"#;

/// Waits until the node routes `number`.
async fn live(api: &Api, number: &str) {
    let started = std::time::Instant::now();
    while api.get(&format!("/routing/numbers/{number}")).await.0 != 200 {
        assert!(started.elapsed() < std::time::Duration::from_secs(2), "{number} never went live");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_buyers_cycle_is_invoiced_once_with_a_line_per_campaign_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let fake = FakeStripe::start().await;
        let server = Server::start_with(ServerOptions {
            database: Some(database),
            args: [
                "--stripe-api-base",
                &fake.url(),
                "--invoice-after-hours",
                "0",
                "--public-url",
                "https://calls.acme.example",
            ]
            .map(str::to_owned)
            .to_vec(),
            ..Default::default()
        })
        .await;
        let port = free_port();
        let network = Network::new(&server, json!({})).await;
        let target = network
            .target("Closer", port, json!({"kind": "static", "cents": 2500, "buffer_seconds": 1}))
            .await;
        network.go_live(&[&target]).await;
        // A second campaign, ringing the same buyer, named by someone who hopes a
        // spreadsheet will run it.
        let (_, solar) = network
            .api
            .post(
                "/campaigns",
                &json!({"name": SOLAR_NAME, "time_zone": "UTC", "conversion_buffer_seconds": 1}),
            )
            .await;
        let tree = json!([{"target_id": target}]);
        let path = format!("/campaigns/{}/ring-tree", solar["id"].as_str().unwrap());
        assert_eq!(network.api.call(reqwest::Method::PUT, &path, Some(&tree)).await.0, 200);
        let (status, number) = network
            .api
            .post("/numbers", &json!({"number": SOLAR, "campaign_id": solar["id"]}))
            .await;
        assert_eq!(status, 201, "{number}");
        let answering = Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), port, Transport::Udp, 3);
        carrier(&server, CALLER, 1500).passes().await;
        let first = network.ended_call(0).await;
        carrier(&server, "+13125550188", 1500).passes().await;
        let second = network.ended_call(1).await;
        live(&network.api, SOLAR).await;
        let fills =
            vec![("__CALLER__", "+14155550123".to_owned()), ("__TALK_MS__", "1500".to_owned())];
        Sipp::uac_to(scenario("carrier.xml", fills), server.sip_addr(), SOLAR, Transport::Udp, 1)
            .passes()
            .await;
        answering.passes().await;
        network.ended_call(2).await;
        let buyer = first["buyer_id"].as_str().unwrap().to_owned();

        // The buyer says the second call's sale was worth $40.
        let (status, key) =
            network.api.post(&format!("/buyers/{buyer}/postback-keys"), &json!({})).await;
        assert_eq!(status, 201, "{key}");
        let adjusted = reqwest::Client::new()
            .post(server.url(&format!("/postback/v1/{}", key["key"].as_str().unwrap())))
            .json(&json!({"call_id": second["id"], "converted": true, "revenue_cents": 4000}))
            .send()
            .await
            .unwrap();
        assert_eq!(adjusted.status(), 200);
        a_week_ago(server.database()).await;

        // Not yet: invoicing off, then no Stripe account.
        let run = format!("/buyers/{buyer}/invoices/run");
        let (status, body) = network.api.post(&run, &json!({})).await;
        assert_eq!(status, 409, "{backend}: {body}");
        let (status, body) = network
            .api
            .call(
                reqwest::Method::PATCH,
                &format!("/buyers/{buyer}"),
                Some(&json!({"invoicing": {"enabled": true, "cycle": "weekly"},
                             "contact": {"email": "ap@closer.example"}})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["invoicing"], json!({"enabled": true, "cycle": "weekly"}));
        let (status, body) = network.api.post(&run, &json!({})).await;
        assert_eq!(
            (status.as_u16(), &body["error"]),
            (409, &json!("the organization has not connected a Stripe account"))
        );

        let owner = owner_api(&server, "dana@acme.example").await;
        let (status, body) = owner
            .call(
                reqwest::Method::PUT,
                "/invoicing",
                Some(&json!({"stripe_secret_key": "sk_test_wrong_key"})),
            )
            .await;
        assert_eq!(status, 422, "Stripe refuses the key: {body}");
        let (status, body) = owner
            .call(
                reqwest::Method::PUT,
                "/invoicing",
                Some(&json!({"stripe_secret_key": SECRET_KEY})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["key_hint"], "sk_test_…fake");
        let (_, read) = owner.get("/invoicing").await;
        assert_eq!(read["connected"], true);
        assert!(!read.to_string().contains(SECRET_KEY), "the key is never shown again");

        // Stripe takes the first line and fails the second: the invoice stays pending.
        fake.misbehave("/v1/invoiceitems", vec![Misbehaviour::AsUsual, Misbehaviour::Fail(500)]);
        let (status, body) = network.api.post(&run, &json!({})).await;
        assert_eq!(status, 503, "{backend}: {body}");
        let (_, list) = network.api.get(&format!("/buyers/{buyer}/invoices")).await;
        let pending = &list["items"][0];
        assert_eq!(
            (&pending["status"], &pending["calls"]),
            (&json!("pending"), &json!(3)),
            "{list}"
        );
        assert!(pending["last_error"].is_string(), "{pending}");

        // The next run adds only the missing line and finalizes; the one after changes nothing.
        let (status, invoice) = network.api.post(&run, &json!({})).await;
        assert_eq!(status, 200, "{backend}: {invoice}");
        assert_eq!(
            (&invoice["status"], &invoice["total_cents"]),
            (&json!("open"), &json!(9000)),
            "{invoice}"
        );
        assert_eq!(invoice["id"], pending["id"]);
        let (status, again) = network.api.post(&run, &json!({})).await;
        assert_eq!(status, 200);
        assert_eq!(again["id"], invoice["id"]);

        let invoices = fake.invoices();
        assert_eq!(invoices.len(), 1, "{backend}: {invoices:#?}");
        let lines = invoices[0]["lines"]["data"].as_array().unwrap();
        assert_eq!(lines.len(), 2, "one line a campaign, each once: {lines:#?}");
        // In the campaigns' name order ('=' before letters).
        assert_eq!(lines[0]["amount"], 2500);
        assert_eq!(lines[0]["description"], format!("{SOLAR_NAME}: 1 converted call"));
        assert_eq!(lines[1]["amount"], 6500);
        assert_eq!(lines[1]["description"], "Auto insurance: 2 converted calls");
        assert_eq!(invoices[0]["status"], "open");
        assert_eq!(invoice["hosted_invoice_url"], invoices[0]["hosted_invoice_url"]);
        let customers = fake.customers();
        assert_eq!(customers.len(), 1);
        assert_eq!(customers[0].1["name"], "Closer Inc");
        let statement_url = invoice["statement_url"].as_str().unwrap();
        assert!(
            invoices[0]["description"].as_str().unwrap().ends_with(statement_url),
            "the invoice links its statement: {}",
            invoices[0]["description"]
        );

        // The statement lists the calls, at the revenue invoiced.
        let statement_url =
            statement_url.replace("https://calls.acme.example", &server.url("")).to_owned();
        let statement_url = statement_url.as_str();
        let page = reqwest::get(statement_url).await.unwrap();
        assert_eq!(page.status(), 200);
        let page = page.text().await.unwrap();
        assert!(
            page.contains("Calls invoiced to Closer Inc") && page.contains("90.00 USD"),
            "{page}"
        );
        assert!(page.contains("+12125550123") && page.contains("40.00"), "{page}");
        let csv = reqwest::get(format!("{statement_url}?format=csv"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let rows: Vec<&str> = csv.lines().collect();
        assert_eq!(rows.len(), 4, "{csv}");
        assert!(
            rows[1].starts_with(first["id"].as_str().unwrap()) && rows[1].ends_with(",25.00"),
            "{csv}"
        );
        // No cell starts a formula: the campaign's name and the callers' E.164 numbers
        // (which OWASP's rule covers too) are written after a `'`, quoted where needed.
        assert!(rows[1].contains(",'+12125550123,"), "{csv}");
        assert!(
            rows[3]
                .contains(r#","'=HYPERLINK(""https://evil.example"",""Solar"")",'+14155550123,"#),
            "{csv}"
        );
        assert_eq!(reqwest::get(server.url("/statements/st_unknown")).await.unwrap().status(), 404);

        // Another organization reaches none of it.
        let (_, other) = server.create_org("Other Leads", "olga@other.example");
        let (status, _) = other.post(&run, &json!({})).await;
        assert_eq!(status, 404);
        let (status, _) = other.get(&format!("/buyers/{buyer}/invoices")).await;
        assert_eq!(status, 404);
    }
}
