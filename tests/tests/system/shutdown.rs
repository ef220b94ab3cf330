//! Graceful shutdown: on SIGTERM the server stops accepting, lets requests in flight
//! finish, records its stop, and exits 0.

use std::time::Duration;

use bidline_tests::Server;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

#[tokio::test]
async fn a_request_in_flight_finishes_after_sigterm() {
    let mut server = Server::start().await;

    // Start a request and leave its body half sent: the handler is now waiting on it.
    let mut stream = TcpStream::connect(server.addr()).await.unwrap();
    let body = b"0123456789";
    stream
        .write_all(
            format!(
                "POST /fn/check_status HTTP/1.1\r\nHost: bidline\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
                body.len()
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    stream.write_all(&body[..5]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    server.terminate();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // New connections are refused while the old one is still served.
    assert!(TcpStream::connect(server.addr()).await.is_err(), "still accepting after SIGTERM");
    stream.write_all(&body[5..]).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"database\":\"sqlite\""), "{response}");

    let status = server.wait(Duration::from_secs(10)).await;
    assert!(status.success(), "exit {status:?}");
    let log = server.log().join("\n");
    assert!(log.contains("all requests finished") && log.contains("stopped"), "{log}");
}

#[tokio::test]
async fn a_clean_stop_is_recorded_for_the_node() {
    let mut server = Server::start().await;
    let node_id: String = reqwest::get(server.url("/healthz"))
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["node_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(server.stop().await.success());

    use sqlx::Connection;
    let mut db = sqlx::SqliteConnection::connect(server.database().url()).await.unwrap();
    let (stopped,): (Option<String>,) =
        sqlx::query_as("SELECT stopped_at FROM nodes WHERE id = $1")
            .bind(uuid::Uuid::parse_str(&node_id).unwrap())
            .fetch_one(&mut db)
            .await
            .unwrap();
    assert!(stopped.is_some(), "node {node_id} has no stopped_at");
}

#[tokio::test]
async fn sigterm_the_moment_it_listens_is_still_a_clean_stop() {
    // The handlers are in place before the `listening` line, so a signal right after
    // it never meets the default action (which would kill the process).
    for _ in 0..3 {
        let mut server = Server::start().await;
        let status = server.stop().await;
        assert!(status.success(), "exit {status:?}:\n{}", server.log().join("\n"));
    }
}
