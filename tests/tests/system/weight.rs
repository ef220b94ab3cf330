//! What a browser downloads to show a dashboard page for the first time, counted by
//! chromium itself (the Resource Timing entries' bytes on the wire, compressed as the
//! server sent them): the page, the shared code, and that page's chunks only.
//!
//! On the debug build the figures are large and only printed; `scripts/bench-weight`
//! runs this test against the release build with `BIDLINE_WEIGHT_BUDGET_KB` set, and then
//! every first load must fit the budget.

use std::collections::BTreeSet;

use bidline_tests::{Browser, Server, workspace_root};
use serde_json::json;

/// Bytes on the wire for the document and every resource it fetched, and the wasm files
/// it fetched, once the page has hydrated.
const TRANSFERRED: &str = "
    const entries = performance.getEntriesByType('navigation')
        .concat(performance.getEntriesByType('resource'));
    return {
        bytes: entries.reduce((sum, e) => sum + e.transferSize, 0),
        wasm: entries.map(e => new URL(e.name).pathname).filter(p => p.endsWith('.wasm')),
        cached: entries.filter(e => e.transferSize === 0 && e.decodedBodySize > 0).length,
    };
";

#[tokio::test]
async fn a_first_load_fetches_the_shared_code_and_only_that_pages_chunks() {
    let server = Server::start().await;
    let (_, api) = server.create_org("Weight", "owner@weight.example");
    let (status, campaign) =
        api.post("/campaigns", &json!({"name": "Weight", "time_zone": "UTC"})).await;
    assert_eq!(status, 201, "{campaign}");
    let campaign = campaign["id"].as_str().unwrap().to_owned();
    let (status, buyer) = api.post("/buyers", &json!({"name": "Weight buyer"})).await;
    assert_eq!(status, 201, "{buyer}");
    let buyer = buyer["id"].as_str().unwrap().to_owned();

    let signed_in = Browser::start().await;
    signed_in
        .sign_in(&server.url(""), "owner@weight.example", bidline_tests::NewOrg::PASSWORD)
        .await;
    let cookies = signed_in.client().get_all_cookies().await.unwrap();
    signed_in.close().await;

    let pkg_dir = std::fs::read_to_string(workspace_root().join("site/pkg-dir")).unwrap();
    let all_chunks: BTreeSet<String> =
        std::fs::read_dir(workspace_root().join("site").join(pkg_dir.trim()))
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with("chunk_") && name.ends_with(".wasm"))
            .collect();
    assert!(all_chunks.len() > 1, "the wasm was not split: {all_chunks:?}");

    let budget_kb =
        std::env::var("BIDLINE_WEIGHT_BUDGET_KB").ok().map(|kb| kb.parse::<u64>().unwrap());
    let mut over = Vec::new();
    for page in [
        "/login".to_owned(),
        "/app".into(),
        "/app/calls".into(),
        "/app/reports".into(),
        format!("/app/campaigns/{campaign}"),
        format!("/app/buyers/{buyer}"),
        "/app/targets/new".into(),
        "/app/settings".into(),
        "/app/members".into(),
        "/app/campaigns".into(),
    ] {
        // A browser of its own: an empty cache, with the signed-in session's cookie.
        let browser = Browser::start().await;
        browser.client().goto(&server.url("/favicon.svg")).await.unwrap();
        for cookie in &cookies {
            browser.client().add_cookie(cookie.clone()).await.unwrap();
        }
        browser.open(&server.url(&page)).await;
        let loaded = browser.client().execute(TRANSFERRED, vec![]).await.unwrap();
        browser.close().await;

        let bytes = loaded["bytes"].as_u64().unwrap();
        let wasm: Vec<&str> =
            loaded["wasm"].as_array().unwrap().iter().map(|p| p.as_str().unwrap()).collect();
        assert_eq!(loaded["cached"], 0, "{page} was not a first load: {loaded}");
        let in_build = format!("/{}/", pkg_dir.trim());
        assert!(
            wasm.iter().all(|path| path.starts_with(&in_build)),
            "{page} fetched wasm outside {in_build}: {wasm:?}"
        );
        assert!(wasm.iter().any(|path| path.ends_with("/bidline_bg.wasm")), "{page}: {wasm:?}");
        let chunks = wasm.iter().filter(|path| path.contains("/chunk_")).count();
        assert!(chunks > 0, "{page} fetched none of its chunks: {wasm:?}");
        assert!(
            chunks < all_chunks.len(),
            "{page} fetched every chunk ({chunks}): its code is not loaded lazily"
        );
        println!("first load of {page}: {} KB in {} wasm files", bytes / 1024, wasm.len());
        if budget_kb.is_some_and(|budget| bytes / 1024 > budget) {
            over.push(format!("{page}: {} KB", bytes / 1024));
        }
    }
    assert!(over.is_empty(), "first loads above {budget_kb:?} KB: {over:?}");
}
