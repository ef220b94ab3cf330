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

#[tokio::test]
async fn the_built_site_is_served_with_its_wasm() {
    let server = Server::start().await;
    let html = reqwest::get(server.url("/")).await.unwrap().text().await.unwrap();
    assert!(html.contains("/pkg/bidline.js") && html.contains("bidline_bg"), "{html}");

    for (path, content_type) in [
        ("/pkg/bidline.js", "text/javascript"),
        ("/pkg/bidline_bg.wasm", "application/wasm"),
        ("/pkg/bidline.css", "text/css"),
        ("/favicon.svg", "image/svg+xml"),
    ] {
        let response = reqwest::get(server.url(path)).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let served = response.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(served.starts_with(content_type), "{path} served as {served}");
    }
}

#[tokio::test]
async fn an_unknown_page_is_a_404_page() {
    let server = Server::start().await;
    let response = reqwest::get(server.url("/no/such/page")).await.unwrap();
    assert_eq!(response.status(), 404);
    assert!(response.text().await.unwrap().contains("Page not found"));
}

#[tokio::test]
async fn the_wasm_is_sent_gzipped_to_clients_that_accept_it() {
    let server = Server::start().await;
    let plain =
        reqwest::get(server.url("/pkg/bidline_bg.wasm")).await.unwrap().bytes().await.unwrap();
    let gzipped = reqwest::Client::new()
        .get(server.url("/pkg/bidline_bg.wasm"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(gzipped.headers()["content-encoding"], "gzip");
    let compressed = gzipped.bytes().await.unwrap();
    assert!(compressed.len() * 2 < plain.len(), "{} of {} bytes", compressed.len(), plain.len());
}
