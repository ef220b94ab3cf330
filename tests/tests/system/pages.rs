//! The dashboard in a real browser: rendered on the server, alive after hydration.

use bidline_tests::{Browser, Server};

#[tokio::test]
async fn the_start_page_is_rendered_on_the_server_and_comes_alive_in_chromium() {
    let server = Server::start().await;

    // The server sends the page whole: a visitor without wasm still reads it.
    let html = reqwest::get(server.url("/")).await.unwrap().text().await.unwrap();
    assert!(html.contains("System status") && html.contains("Not checked yet."), "{html}");

    let browser = Browser::start().await;
    browser.open(&server.url("/")).await;
    browser.find("#check-status").await.click().await.expect("click Check status");
    // Only the hydrated page answers the click: it calls a server function.
    let text =
        browser.wait_for_text("#status-result", |text| text.contains("database sqlite ok")).await;
    assert!(text.starts_with("Bidline 0."), "{text}");
    browser.close().await;
}
