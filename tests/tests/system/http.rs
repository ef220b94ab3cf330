//! Operations endpoints: health, metrics, request ids, static site files.

use bidline_tests::{Server, ServerOptions, TestDatabase};
use serde_json::Value;

async fn healthz(server: &Server) -> (u16, Value) {
    let response = reqwest::get(server.url("/healthz")).await.expect("GET /healthz");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON health"))
}

#[tokio::test]
async fn healthz_names_the_backend_on_sqlite_and_postgres() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let mut server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let (status, body) = healthz(&server).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "ok");
        assert_eq!(body["database"], backend);
        assert!(body["node_id"].as_str().is_some_and(|id| id.len() == 36), "{body}");
        assert!(server.stop().await.success());
    }
}

#[tokio::test]
async fn healthz_is_503_when_the_database_goes_away() {
    let Some(database) = TestDatabase::postgres().await else { return };
    let TestDatabase::Postgres { admin_url, name, .. } = &database else { unreachable!() };
    let (admin_url, name) = (admin_url.clone(), name.clone());
    let server =
        Server::start_with(ServerOptions { database: Some(database), ..Default::default() }).await;
    assert_eq!(healthz(&server).await.0, 200);

    // Take the database away under the running server.
    use sqlx::{Connection, Executor};
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    admin.execute(format!("DROP DATABASE {name} WITH (FORCE)").as_str()).await.unwrap();

    let (status, body) = healthz(&server).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "unavailable");
    assert_eq!(body["database"], "postgres");
    assert!(body["error"].as_str().is_some_and(|error| !error.is_empty()), "{body}");
    // The database's own words (which name it) are for the log, never the public body.
    assert!(!body.to_string().contains(&name), "{body}");
    bidline_tests::eventually("the log names the database error", async || {
        server
            .log()
            .iter()
            .any(|line| line.contains("database unavailable") && line.contains(&name))
    })
    .await;
}

#[tokio::test]
async fn metrics_need_the_token_when_one_is_set() {
    let server = Server::start_with(ServerOptions {
        env: vec![("BIDLINE_METRICS_TOKEN".into(), "scrape-me-7".into())],
        ..Default::default()
    })
    .await;
    let client = reqwest::Client::new();
    let scrape = |token: Option<&str>| {
        let mut request = client.get(server.url("/metrics"));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    for token in [None, Some("wrong"), Some("scrape-me-")] {
        let response = scrape(token).await.unwrap();
        assert_eq!(response.status(), 401, "{token:?}");
        assert!(!response.text().await.unwrap().contains("http_requests_total"));
    }
    let response = scrape(Some("scrape-me-7")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("# TYPE"));
    // The flag says the same.
    let flagged = Server::start_with(ServerOptions {
        args: vec!["--metrics-token".into(), "t-2".into()],
        ..Default::default()
    })
    .await;
    assert_eq!(reqwest::get(flagged.url("/metrics")).await.unwrap().status(), 401);
}

#[tokio::test]
async fn metrics_count_and_time_requests_by_route() {
    let server = Server::start().await;
    for _ in 0..3 {
        healthz(&server).await;
    }
    let text = reqwest::get(server.url("/metrics")).await.unwrap().text().await.unwrap();
    assert!(
        text.contains(r#"http_requests_total{method="GET",route="/healthz",status="200"} 3"#),
        "{text}"
    );
    assert!(text.contains("# TYPE http_request_duration_seconds histogram"), "{text}");
    assert!(
        text.contains(r#"http_request_duration_seconds_count{method="GET",route="/healthz"} 3"#),
        "{text}"
    );
}

#[tokio::test]
async fn every_response_carries_a_request_id_that_the_log_names() {
    let server = Server::start().await;
    let response = reqwest::get(server.url("/healthz")).await.unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 36, "{id}");

    // A caller's own id is kept, so a request can be followed across systems.
    let response = reqwest::Client::new()
        .get(server.url("/healthz"))
        .header("x-request-id", "caller-chosen-id")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "caller-chosen-id");

    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let log = server.log();
    assert!(
        log.iter().any(|line| line.contains(&id) && line.contains("/healthz")),
        "no log line names request {id}:\n{}",
        log.join("\n")
    );
}

/// The build's asset folder (`/pkg/<hash>`) as the start page names it.
async fn asset_folder(server: &Server) -> String {
    let html = reqwest::get(server.url("/")).await.unwrap().text().await.unwrap();
    let start = html.find("/pkg/").unwrap_or_else(|| panic!("no asset folder in {html}"));
    let folder = &html[start..start + "/pkg/".len() + 16];
    assert!(
        folder["/pkg/".len()..].bytes().all(|b| b.is_ascii_hexdigit()),
        "the asset folder is not named by a hash: {folder}"
    );
    folder.to_owned()
}

#[tokio::test]
async fn the_built_site_is_served_with_its_wasm_kept_for_a_year() {
    let server = Server::start().await;
    let page = reqwest::get(server.url("/")).await.unwrap();
    assert_eq!(page.headers()["cache-control"], "no-cache", "pages are revalidated");
    let html = page.text().await.unwrap();
    let pkg = asset_folder(&server).await;
    for name in ["bidline.js", "bidline_bg.wasm", "bidline.css"] {
        assert!(html.contains(&format!("{pkg}/{name}")), "the page does not link {name}: {html}");
    }

    for (path, content_type) in [
        (format!("{pkg}/bidline.js"), "text/javascript"),
        (format!("{pkg}/bidline_bg.wasm"), "application/wasm"),
        (format!("{pkg}/bidline.css"), "text/css"),
    ] {
        let response = reqwest::get(server.url(&path)).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let served = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(served.starts_with(content_type), "{path} served as {served}");
        assert_eq!(
            response.headers()["cache-control"],
            "public, max-age=31536000, immutable",
            "{path}"
        );
    }

    let favicon = reqwest::get(server.url("/favicon.svg")).await.unwrap();
    assert_eq!(favicon.status(), 200);
    assert!(favicon.headers()["content-type"].to_str().unwrap().starts_with("image/svg+xml"));

    let missing = reqwest::get(server.url(&format!("{pkg}/no-such-file.wasm"))).await.unwrap();
    assert_eq!(missing.status(), 404);
    assert_ne!(missing.headers()["cache-control"], "public, max-age=31536000, immutable");
}

#[tokio::test]
async fn an_unknown_page_is_a_404_page() {
    let server = Server::start().await;
    let response = reqwest::get(server.url("/no/such/page")).await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn the_wasm_is_sent_compressed_as_the_client_accepts() {
    let server = Server::start().await;
    let wasm = format!("{}/bidline_bg.wasm", asset_folder(&server).await);
    let plain = reqwest::get(server.url(&wasm)).await.unwrap().bytes().await.unwrap();
    let client = reqwest::Client::new();

    for (accepted, encoding) in [("gzip", "gzip"), ("gzip, deflate, br", "br")] {
        let response =
            client.get(server.url(&wasm)).header("accept-encoding", accepted).send().await.unwrap();
        assert_eq!(response.headers()["content-encoding"], encoding, "for {accepted}");
        assert_eq!(response.headers()["content-type"], "application/wasm", "for {accepted}");
        assert_eq!(response.headers()["vary"], "accept-encoding", "for {accepted}");
        let compressed = response.bytes().await.unwrap();
        assert!(
            compressed.len() * 2 < plain.len(),
            "{encoding}: {} of {} bytes",
            compressed.len(),
            plain.len()
        );
        let mut unpacked = Vec::new();
        match encoding {
            "gzip" => {
                std::io::Read::read_to_end(
                    &mut flate2::read::GzDecoder::new(&compressed[..]),
                    &mut unpacked,
                )
                .unwrap();
            }
            _ => {
                brotli::BrotliDecompress(&mut &compressed[..], &mut unpacked).unwrap();
            }
        }
        assert!(unpacked == plain, "{encoding} does not unpack to the wasm");
    }
}
