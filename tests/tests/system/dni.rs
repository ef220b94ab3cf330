//! DNI as websites and callers meet it: the snippet as served, leases through
//! `/dni/v1/lease` from allowed and unlisted origins, leases kept across a restart, the
//! per-address limit, and a SIP call to a leased number carrying its visit's tags.

use std::time::{Duration, Instant};

use bidline_sipp::{Sipp, Transport, free_port, scenario};
use bidline_tests::{Api, Server, ServerOptions, TestDatabase, eventually};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::calls::{CALLER, DIALED, Network};

const ORIGIN: &str = "https://www.shop.example";
const DEFAULT_NUMBER: &str = "+18005550199";

/// A campaign taking leases from `https://*.shop.example`, with a pool of `numbers`.
struct Site {
    key: String,
    campaign: String,
    pool: String,
}

impl Site {
    async fn new(api: &Api, numbers: &[&str]) -> Site {
        let (status, campaign) = api
            .post(
                "/campaigns",
                &json!({"name": "Solar", "time_zone": "America/Chicago",
                        "default_number": DEFAULT_NUMBER, "dni_allowed_domains": ["shop.example"],
                        "dni_params": ["affiliate"]}),
            )
            .await;
        assert_eq!(status, 201, "{campaign}");
        Site::with_campaign(api, &campaign, numbers).await
    }

    async fn with_campaign(api: &Api, campaign: &Value, numbers: &[&str]) -> Site {
        let campaign_id = campaign["id"].as_str().unwrap();
        let (status, pool) = api
            .post(
                "/dni-pools",
                &json!({"campaign_id": campaign_id, "name": "Website", "lease_minutes": 30}),
            )
            .await;
        assert_eq!(status, 201, "{pool}");
        for number in numbers {
            let (status, body) = api
                .post(
                    "/numbers",
                    &json!({"number": number, "campaign_id": campaign_id, "pool_id": pool["id"]}),
                )
                .await;
            assert_eq!(status, 201, "{body}");
        }
        Site {
            key: campaign["dni_public_key"].as_str().unwrap().to_owned(),
            campaign: campaign_id.to_owned(),
            pool: pool["id"].as_str().unwrap().to_owned(),
        }
    }
}

/// Posts `body` to `/dni/v1{path}` from `origin`; the status, the allowed origin the
/// answer names, and the JSON body.
async fn dni(
    server: &Server,
    path: &str,
    origin: Option<&str>,
    body: &str,
) -> (StatusCode, Option<String>, Value) {
    let mut request = reqwest::Client::new()
        .post(server.url(&format!("/dni/v1{path}")))
        .header(header::CONTENT_TYPE, "text/plain;charset=UTF-8")
        .body(body.to_owned());
    if let Some(origin) = origin {
        request = request.header(header::ORIGIN, origin);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let allowed = response
        .headers()
        .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap() };
    (status, allowed, body)
}

async fn lease(server: &Server, site: &Site, visitor: Option<&str>) -> Value {
    let body = json!({"campaign": site.key, "visitor_id": visitor,
        "url": "https://www.shop.example/solar?utm_source=google&gclid=G-123&affiliate=a7&session=s1",
        "referrer": "https://www.google.com/",
        "params": {"utm_source": "google", "gclid": "G-123", "affiliate": "a7", "session": "s1"}});
    let (status, allowed, answer) = dni(server, "/lease", Some(ORIGIN), &body.to_string()).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(allowed.as_deref(), Some(ORIGIN));
    answer
}

/// Waits until the node's routing snapshot has every one of `numbers`, so that it hands
/// out all of them, without taking one.
async fn pool_live(api: &Api, numbers: &[&str]) {
    let started = Instant::now();
    for number in numbers {
        while api.get(&format!("/routing/numbers/{number}")).await.0 != 200 {
            assert!(started.elapsed() < Duration::from_secs(2), "{number} never went live");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

#[tokio::test]
async fn visitors_lease_pool_numbers_in_turn_and_keep_them_across_a_restart_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let url = database.url().to_owned();
        let mut server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let (org, api) = server.create_org("Sunny Leads", "sam@sunny.example");
        let site = Site::new(&api, &["+18005550102", "+18005550101"]).await;
        pool_live(&api, &["+18005550102", "+18005550101"]).await;

        let first = lease(&server, &site, None).await;
        assert_eq!(first["number"], "+18005550101", "{backend}: never used, in number order");
        assert_eq!(first["default_number"], DEFAULT_NUMBER);
        assert!(first["lease_id"].is_string() && first["visitor_id"].is_string(), "{first}");
        assert!(first["expires_at"].as_str().unwrap().ends_with('Z'));
        let visitor = first["visitor_id"].as_str().unwrap();
        let again = lease(&server, &site, Some(visitor)).await;
        assert_eq!(
            (&again["number"], &again["lease_id"]),
            (&first["number"], &first["lease_id"]),
            "{backend}: a returning visitor keeps their lease"
        );
        let second = lease(&server, &site, None).await;
        assert_eq!(second["number"], "+18005550102");
        let turned_away = lease(&server, &site, None).await;
        assert_eq!(turned_away["number"], DEFAULT_NUMBER, "{backend}: the pool is exhausted");
        assert_eq!(turned_away["lease_id"], Value::Null);

        let renew = format!("/lease/{}/renew", second["lease_id"].as_str().unwrap());
        let (status, _, renewed) = dni(&server, &renew, Some(ORIGIN), "").await;
        assert_eq!(status, 200, "{renewed}");
        assert_eq!(renewed["number"], "+18005550102");
        let release = format!("/lease/{}/release", second["lease_id"].as_str().unwrap());
        assert_eq!(dni(&server, &release, None, "").await.0, 204);
        assert_eq!(dni(&server, &release, None, "").await.0, 404, "released once");
        assert_eq!(dni(&server, &renew, Some(ORIGIN), "").await.0, 404);
        let next = lease(&server, &site, None).await;
        assert_eq!(next["number"], "+18005550102", "{backend}: the released number is free");

        // The leases outlive the process, the one made just before the stop included.
        assert!(server.stop().await.success(), "{backend}");
        let after = Server::start_with(ServerOptions {
            env: vec![("DATABASE_URL".into(), url)],
            ..Default::default()
        })
        .await;
        for held in [&first, &next] {
            let visitor = held["visitor_id"].as_str().unwrap();
            let back = lease(&after, &site, Some(visitor)).await;
            assert_eq!(
                (&back["number"], &back["lease_id"]),
                (&held["number"], &held["lease_id"]),
                "{backend}: {back}"
            );
        }
        let after_api = Api::new(after.url(""), &org.api_key);
        assert_eq!(after_api.get(&format!("/campaigns/{}", site.campaign)).await.0, 200);
    }
}

#[tokio::test]
async fn leases_refuse_unlisted_origins_and_bad_input_with_a_reason() {
    let server = Server::start().await;
    let (_, api) = server.create_org("Sunny Leads", "sam@sunny.example");
    let site = Site::new(&api, &["+18005550101"]).await;
    pool_live(&api, &["+18005550101"]).await;
    let body = json!({"campaign": site.key, "url": "https://evil.example/"}).to_string();

    for origin in [Some("https://evil.example"), Some("https://notshop.example"), None] {
        let (status, allowed, answer) = dni(&server, "/lease", origin, &body).await;
        assert_eq!(status, 403, "{origin:?}: {answer}");
        assert_eq!(allowed, None, "{origin:?}: no page may read the refusal");
        assert!(answer["error"].is_string(), "{answer}");
    }
    let (status, _, answer) = dni(&server, "/lease", Some(ORIGIN), "{not json").await;
    assert_eq!(status, 400);
    assert!(answer["error"].as_str().unwrap().contains("JSON"), "{answer}");
    let unknown = json!({"campaign": "cmp_nope"}).to_string();
    assert_eq!(dni(&server, "/lease", Some(ORIGIN), &unknown).await.0, 404);
    let forged = json!({"campaign": site.key, "visitor_id": "me"}).to_string();
    let (status, _, answer) = dni(&server, "/lease", Some(ORIGIN), &forged).await;
    assert_eq!(status, 400, "{answer}");
    let long = json!({"campaign": site.key, "url": "x".repeat(3000)}).to_string();
    assert_eq!(dni(&server, "/lease", Some(ORIGIN), &long).await.0, 400);
    // Nothing refused took the number.
    let leased = lease(&server, &site, None).await;
    assert_eq!(leased["number"], "+18005550101");
}

#[tokio::test]
async fn one_address_is_limited_and_told_when_to_come_back() {
    let server = Server::start_with(ServerOptions {
        args: vec!["--dni-requests-per-minute".into(), "8".into()],
        ..Default::default()
    })
    .await;
    let (_, api) = server.create_org("Sunny Leads", "sam@sunny.example");
    let site = Site::new(&api, &["+18005550101"]).await;
    pool_live(&api, &["+18005550101"]).await;
    let body = json!({"campaign": site.key}).to_string();
    // Bursts of a quarter of the minute's allowance: two, then a wait.
    for _ in 0..2 {
        assert_eq!(dni(&server, "/lease", Some(ORIGIN), &body).await.0, 200);
    }
    let response = reqwest::Client::new()
        .post(server.url("/dni/v1/lease"))
        .header(header::ORIGIN, ORIGIN)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 429);
    let wait: u64 = response.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=8).contains(&wait), "{wait}");
}

#[tokio::test]
async fn the_snippet_is_small_cached_and_free_of_eval() {
    let server = Server::start().await;
    let client = reqwest::Client::new();
    let gzipped = client
        .get(server.url("/dni.js"))
        .header(header::ACCEPT_ENCODING, "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.status(), 200);
    assert_eq!(gzipped.headers()[header::CONTENT_ENCODING], "gzip");
    let size = gzipped.bytes().await.unwrap().len();
    assert!(size <= 2048, "dni.js is {size} bytes gzipped; the budget is 2 KB");

    let plain = client.get(server.url("/dni.js")).send().await.unwrap();
    let headers = plain.headers().clone();
    assert!(headers[header::CONTENT_TYPE].to_str().unwrap().starts_with("text/javascript"));
    assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=300");
    let script = plain.text().await.unwrap();
    for banned in ["eval(", "new Function", "setTimeout(\"", "innerHTML"] {
        assert!(!script.contains(banned), "dni.js uses {banned}");
    }
    let etag = headers[header::ETAG].clone();
    let revalidated =
        client.get(server.url("/dni.js")).header(header::IF_NONE_MATCH, etag).send().await.unwrap();
    assert_eq!(revalidated.status(), 304);
}

#[tokio::test]
async fn a_call_to_a_leased_number_carries_the_visits_tags_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let network = Network::new(
            &server,
            json!({"dni_allowed_domains": ["shop.example"], "dni_params": ["affiliate"]}),
        )
        .await;
        let (_, campaign) = network.api.get(&format!("/campaigns/{}", network.campaign)).await;
        let site = Site::with_campaign(&network.api, &campaign, &[]).await;
        let port = free_port();
        let target = network
            .target("Solar Co", port, json!({"kind": "static", "cents": 3000, "buffer_seconds": 1}))
            .await;
        // A better-paying target that wants only Bing's visitors: the visit's tags keep
        // the call from it.
        let bing = network
            .target("Bing only", free_port(), json!({"kind": "static", "cents": 5000}))
            .await;
        let only_bing = json!({"conditions": [
            {"attribute": "tag.utm_source", "operator": "equals", "value": "bing"}]});
        let (status, body) = network
            .api
            .call(reqwest::Method::PATCH, &format!("/targets/{bing}"), Some(&only_bing))
            .await;
        assert_eq!(status, 200, "{body}");
        network
            .go_live_with(
                vec![json!({"target_id": bing}), json!({"target_id": target})],
                json!({"pool_id": site.pool}),
            )
            .await;

        let leased = lease(&server, &site, None).await;
        assert_eq!(leased["number"], DIALED, "{backend}: {leased}");
        let buyer = Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), port, Transport::Udp, 1);
        let fills = vec![("__CALLER__", CALLER.to_owned()), ("__TALK_MS__", "1000".to_owned())];
        Sipp::uac_to(scenario("carrier.xml", fills), server.sip_addr(), DIALED, Transport::Udp, 1)
            .passes()
            .await;
        buyer.passes().await;

        let call = network.ended_call(0).await;
        let tags = &call["tags"];
        assert_eq!(tags["tag.utm_source"], "google", "{backend}: {call:#}");
        assert_eq!(tags["tag.gclid"], "G-123");
        assert_eq!(tags["tag.affiliate"], "a7", "a parameter the campaign lists");
        assert_eq!(tags["tag.session"], Value::Null, "a parameter nobody asked for");
        assert_eq!(tags["tag.referrer"], "https://www.google.com/");
        assert!(
            tags["tag.landing_page"]
                .as_str()
                .unwrap()
                .starts_with("https://www.shop.example/solar")
        );
        assert_eq!(tags["tag.visitor_id"], leased["visitor_id"]);
        assert_eq!(tags["tag.visit"], "first");
        assert_eq!(call["status"], "completed", "{backend}: {call:#}");
        assert_eq!(call["target_id"], target.as_str());
        let passed_over = call["bids"].as_array().unwrap().iter().find(|b| b["target_id"] == bing);
        let reason = passed_over.unwrap()["reason"].as_str().unwrap();
        assert!(reason.starts_with("condition not met"), "{reason}");
    }
}

/// The stored visit of the newest lease: its tags and its `ip` column.
async fn stored_visit(server: &Server) -> (Value, Option<String>) {
    use sqlx::Connection;
    let mut db = sqlx::SqliteConnection::connect(server.database().url()).await.unwrap();
    let started = Instant::now();
    loop {
        let row: Option<(String, Option<String>)> =
            sqlx::query_as("SELECT tags, ip FROM dni_leases ORDER BY leased_at DESC LIMIT 1")
                .fetch_optional(&mut db)
                .await
                .unwrap();
        if let Some((tags, ip)) = row {
            return (serde_json::from_str(&tags).unwrap(), ip);
        }
        assert!(started.elapsed() < Duration::from_secs(2), "the lease was never written");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_visitors_place_comes_from_the_geoip_database_and_their_address_is_kept_only_if_asked() {
    let geoip = bidline_tests::workspace_root().join("testing/geo/city.mmdb");
    for keep_ip in [false, true] {
        let mut args = vec![
            "--geoip-db".to_owned(),
            geoip.display().to_string(),
            "--trusted-proxy".to_owned(),
            "127.0.0.1".to_owned(),
        ];
        if keep_ip {
            args.push("--dni-keep-ip".to_owned());
        }
        let server = Server::start_with(ServerOptions { args, ..Default::default() }).await;
        let (_, api) = server.create_org("Sunny Leads", "sam@sunny.example");
        let site = Site::new(&api, &["+18005550101"]).await;
        pool_live(&api, &["+18005550101"]).await;
        // The visitor (an Austin address), as the trusted proxy in front reports them.
        let response = reqwest::Client::new()
            .post(server.url("/dni/v1/lease"))
            .header(header::ORIGIN, ORIGIN)
            .header("X-Forwarded-For", "192.0.2.44, 127.0.0.1")
            .body(json!({"campaign": site.key}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let (tags, ip) = stored_visit(&server).await;
        assert_eq!(
            (
                &tags["geo_country"],
                &tags["geo_region"],
                &tags["geo_city"],
                &tags["geo_postal_code"]
            ),
            (&json!("US"), &json!("TX"), &json!("Austin"), &json!("78701")),
            "{tags}"
        );
        assert_eq!(ip.as_deref(), keep_ip.then_some("192.0.2.44"));
    }
}

#[tokio::test]
async fn a_geoip_database_that_cannot_be_opened_stops_the_start_with_one_line() {
    let output = bidline_tests::bidline_command(
        "sqlite://unused.db",
        &[
            "serve",
            "--http",
            "127.0.0.1:0",
            "--sip",
            "127.0.0.1:0",
            "--geoip-db",
            "/nonexistent/city.mmdb",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--geoip-db") && stderr.contains("/nonexistent/city.mmdb"), "{stderr}");
}

#[tokio::test]
async fn two_nodes_on_one_postgresql_share_leases_and_attribution() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let url = database.url().to_owned();
    let a =
        Server::start_with(ServerOptions { database: Some(database), ..Default::default() }).await;
    let b = Server::start_with(ServerOptions {
        env: vec![("DATABASE_URL".into(), url)],
        ..Default::default()
    })
    .await;
    let network = Network::new(
        &a,
        json!({"dni_allowed_domains": ["shop.example"], "dni_params": ["affiliate"]}),
    )
    .await;
    let (_, campaign) = network.api.get(&format!("/campaigns/{}", network.campaign)).await;
    let site =
        Site::with_campaign(&network.api, &campaign, &["+18005550101", "+18005550102"]).await;
    let port = free_port();
    let target = network
        .target("Solar Co", port, json!({"kind": "static", "cents": 3000, "buffer_seconds": 1}))
        .await;
    network.go_live_with(vec![json!({"target_id": target})], json!({"pool_id": site.pool})).await;
    let on_b = Api::new(b.url(""), &network.api_key);
    pool_live(&on_b, &[DIALED, "+18005550101", "+18005550102"]).await;

    // A visitor leases on node A; node B learns of it: it hands out another number,
    // renews the visitor's lease, and gives a call to that number the visit's tags.
    let on_a = lease(&a, &site, None).await;
    let visitor = on_a["visitor_id"].as_str().unwrap().to_owned();
    let renew = format!("/lease/{}/renew", on_a["lease_id"].as_str().unwrap());
    eventually("node B knowing node A's lease", async || {
        dni(&b, &renew, Some(ORIGIN), "").await.0 == 200
    })
    .await;
    let back_on_b = lease(&b, &site, Some(&visitor)).await;
    assert_eq!(back_on_b["lease_id"], on_a["lease_id"], "the returning visitor's own lease");
    let other = lease(&b, &site, None).await;
    assert!(other["lease_id"].is_string(), "{other}");
    assert_ne!(other["number"], on_a["number"], "node B does not hand out a leased number");

    let leased_number = on_a["number"].as_str().unwrap();
    let buyer = Sipp::uas(bidline_sipp::Scenario::Builtin("uas"), port, Transport::Udp, 1);
    let fills = vec![("__CALLER__", CALLER.to_owned()), ("__TALK_MS__", "500".to_owned())];
    Sipp::uac_to(scenario("carrier.xml", fills), b.sip_addr(), leased_number, Transport::Udp, 1)
        .passes()
        .await;
    buyer.passes().await;
    let call = network.ended_call(0).await;
    assert_eq!(call["dialed"], leased_number);
    assert_eq!(call["tags"]["tag.visitor_id"], visitor.as_str(), "{call:#}");
    assert_eq!(call["tags"]["tag.gclid"], "G-123");
}

/// A lease request as a trusted proxy forwards it from `client`, with `cookie` if any;
/// the status, the `Set-Cookie` header and the answer.
async fn lease_from(
    server: &Server,
    site: &Site,
    client: &str,
    cookie: Option<&str>,
) -> (StatusCode, Option<String>, Value) {
    let mut request = reqwest::Client::new()
        .post(server.url("/dni/v1/lease"))
        .header(header::ORIGIN, ORIGIN)
        .header("X-Forwarded-For", client)
        .body(json!({"campaign": site.key}).to_string());
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let set_cookie =
        response.headers().get(header::SET_COOKIE).map(|value| value.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    (status, set_cookie, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn behind_the_proxy(more: &[&str]) -> ServerOptions {
    let mut args = vec!["--trusted-proxy".to_owned(), "127.0.0.1".to_owned()];
    args.extend(more.iter().map(|arg| (*arg).to_owned()));
    ServerOptions { args, ..Default::default() }
}

#[tokio::test]
async fn one_address_hammering_a_50_number_pool_leaves_at_least_40_free() {
    let server =
        Server::start_with(behind_the_proxy(&["--dni-requests-per-minute", "100000"])).await;
    let (_, api) = server.create_org("Sunny Leads", "sam@sunny.example");
    let numbers: Vec<String> = (0..50).map(|n| format!("+1800555{:04}", 1000 + n)).collect();
    let numbers: Vec<&str> = numbers.iter().map(String::as_str).collect();
    let site = Site::new(&api, &numbers).await;
    pool_live(&api, &numbers).await;

    // New visitor after new visitor, as far as the lease endpoint can tell.
    let mut taken = std::collections::BTreeSet::new();
    for _ in 0..50 {
        let (status, _, answer) = lease_from(&server, &site, "203.0.113.9", None).await;
        assert_eq!(status, 200, "{answer}");
        if answer["lease_id"].is_string() {
            taken.insert(answer["number"].as_str().unwrap().to_owned());
        } else {
            assert_eq!(answer["number"], DEFAULT_NUMBER, "{answer}");
        }
    }
    assert!(taken.len() <= 10, "one address took {} of 50 numbers", taken.len());
    // Everyone else still gets a number of their own.
    let mut others = std::collections::BTreeSet::new();
    for n in 0..40 {
        let (status, _, answer) =
            lease_from(&server, &site, &format!("198.51.100.{n}"), None).await;
        assert_eq!(status, 200, "{answer}");
        assert!(answer["lease_id"].is_string(), "visitor {n} was shown the default: {answer}");
        others.insert(answer["number"].as_str().unwrap().to_owned());
    }
    assert_eq!(others.len(), 40);
    assert!(others.is_disjoint(&taken));
}

#[tokio::test]
async fn ipv6_visitors_are_limited_by_their_64_and_ipv4_ones_by_address() {
    // Bursts of 2 (a quarter of 8 a minute).
    let server = Server::start_with(behind_the_proxy(&["--dni-requests-per-minute", "8"])).await;
    let (_, api) = server.create_org("Sunny Leads", "sam@sunny.example");
    let site = Site::new(&api, &["+18005550101"]).await;
    pool_live(&api, &["+18005550101"]).await;

    for address in ["2001:db8:1:2::1", "2001:db8:1:2:ffff::2"] {
        assert_eq!(lease_from(&server, &site, address, None).await.0, 200, "{address}");
    }
    let (status, _, _) = lease_from(&server, &site, "2001:db8:1:2:abcd::3", None).await;
    assert_eq!(status, 429, "a new address of the same /64 is the same visitor");
    assert_eq!(lease_from(&server, &site, "2001:db8:1:3::1", None).await.0, 200, "another /64");

    for _ in 0..2 {
        assert_eq!(lease_from(&server, &site, "192.0.2.1", None).await.0, 200);
    }
    assert_eq!(lease_from(&server, &site, "192.0.2.1", None).await.0, 429);
    assert_eq!(lease_from(&server, &site, "192.0.2.2", None).await.0, 200, "IPv4: per address");
}

#[tokio::test]
async fn a_lease_request_without_a_visitor_id_is_the_visitor_its_cookie_names() {
    let server = Server::start_with(behind_the_proxy(&[])).await;
    let (_, api) = server.create_org("Sunny Leads", "sam@sunny.example");
    let site = Site::new(&api, &["+18005550101", "+18005550102"]).await;
    pool_live(&api, &["+18005550101", "+18005550102"]).await;

    let (status, set_cookie, first) = lease_from(&server, &site, "192.0.2.10", None).await;
    assert_eq!(status, 200, "{first}");
    let set_cookie = set_cookie.expect("the answer sets the visitor's cookie");
    let visitor = first["visitor_id"].as_str().unwrap();
    let cookie = format!("bidline_visitor_{}={visitor}", site.key);
    assert!(set_cookie.starts_with(&cookie), "{set_cookie}");
    for attribute in ["HttpOnly", "Secure", "SameSite=None", "Partitioned", "Path=/dni/v1/lease"] {
        assert!(set_cookie.contains(attribute), "{attribute}: {set_cookie}");
    }

    // Its storage cleared, the page asks without an id: the cookie says who it is.
    let (status, _, again) = lease_from(&server, &site, "192.0.2.10", Some(&cookie)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        (&again["visitor_id"], &again["lease_id"], &again["number"]),
        (&first["visitor_id"], &first["lease_id"], &first["number"]),
        "the same visitor keeps their lease"
    );
    // Another campaign's cookie, or none, is another visitor.
    let other = format!("bidline_visitor_cmp_other={visitor}");
    let (_, _, stranger) = lease_from(&server, &site, "192.0.2.11", Some(&other)).await;
    assert_ne!(stranger["visitor_id"], first["visitor_id"]);
}

/// A database as (backend, URL), readable while its server is stopped and restarted.
type Database<'a> = (&'a str, &'a str);

/// Sets the `ended_at` of the lease `id` in the database.
async fn ended_at(database: Database<'_>, id: &str, at: chrono::DateTime<chrono::Utc>) {
    use sqlx::Connection;
    const UPDATE: &str = "UPDATE dni_leases SET ended_at = $1 WHERE id = $2";
    let id = uuid::Uuid::parse_str(id).unwrap();
    let updated = match database.0 {
        "sqlite" => {
            let mut db = sqlx::SqliteConnection::connect(database.1).await.unwrap();
            sqlx::query(UPDATE).bind(at).bind(id).execute(&mut db).await.unwrap().rows_affected()
        }
        _ => {
            let mut db = sqlx::PgConnection::connect(database.1).await.unwrap();
            sqlx::query(UPDATE).bind(at).bind(id).execute(&mut db).await.unwrap().rows_affected()
        }
    };
    assert_eq!(updated, 1);
}

/// Whether the lease `id`'s row says it ended; `None` when there is no row.
async fn stored_ended(database: Database<'_>, id: &str) -> Option<bool> {
    use sqlx::Connection;
    const SELECT: &str = "SELECT ended_at IS NOT NULL FROM dni_leases WHERE id = $1";
    let id = uuid::Uuid::parse_str(id).unwrap();
    match database.0 {
        "sqlite" => {
            let mut db = sqlx::SqliteConnection::connect(database.1).await.unwrap();
            sqlx::query_scalar(SELECT).bind(id).fetch_optional(&mut db).await.unwrap()
        }
        _ => {
            let mut db = sqlx::PgConnection::connect(database.1).await.unwrap();
            sqlx::query_scalar(SELECT).bind(id).fetch_optional(&mut db).await.unwrap()
        }
    }
}

#[tokio::test]
async fn ended_leases_are_deleted_after_the_retention_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let url = database.url().to_owned();
        let mut server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let (_, api) = server.create_org("Sunny Leads", "sam@sunny.example");
        let site = Site::new(&api, &["+18005550101", "+18005550102"]).await;
        pool_live(&api, &["+18005550101", "+18005550102"]).await;
        let mut ids = Vec::new();
        for _ in 0..2 {
            let id = lease(&server, &site, None).await["lease_id"].as_str().unwrap().to_owned();
            let release = format!("/lease/{id}/release");
            assert_eq!(dni(&server, &release, None, "").await.0, 204);
            ids.push(id);
        }
        let database = (backend, url.as_str());
        for id in &ids {
            eventually("the release is written", async || {
                stored_ended(database, id).await == Some(true)
            })
            .await;
        }
        let now = chrono::Utc::now();
        ended_at(database, &ids[0], now - chrono::Duration::days(31)).await;
        ended_at(database, &ids[1], now - chrono::Duration::days(29)).await;

        // The next start prunes (as every hour does), by the default 30 days.
        assert!(server.stop().await.success(), "{backend}");
        let _after = Server::start_with(ServerOptions {
            env: vec![("DATABASE_URL".into(), url.clone())],
            ..Default::default()
        })
        .await;
        eventually("the old lease is deleted", async || {
            stored_ended(database, &ids[0]).await.is_none()
        })
        .await;
        assert_eq!(stored_ended(database, &ids[1]).await, Some(true), "{backend}: kept 30 days");
    }
}
