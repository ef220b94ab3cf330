//! The OpenAPI document: served without a key, describing every route of `/api/v1`,
//! every reference resolving; and its page readable in a browser's terms (plain HTML).

use bidline_tests::Server;
use serde_json::Value;

/// Every `$ref` in `value`.
fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                found.push(target);
            }
            map.values().for_each(|v| refs(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| refs(v, found)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_describes_every_route_and_resolves() {
    let server = Server::start().await;
    let response = reqwest::get(server.url("/api/v1/openapi.json")).await.unwrap();
    assert_eq!(response.status(), 200);
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");

    let paths = document["paths"].as_object().unwrap();
    for plural in ["campaigns", "publishers", "buyers", "targets", "numbers", "dni-pools", "trunks"]
    {
        let all = &paths[&format!("/api/v1/{plural}")];
        let one = &paths[&format!("/api/v1/{plural}/{{id}}")];
        assert!(all["get"].is_object() && all["post"].is_object(), "{plural}");
        assert!(one["get"].is_object() && one["patch"].is_object() && one["delete"].is_object());
        assert!(one["delete"]["responses"]["409"].is_object(), "{plural}: 409 documented");
        assert!(all["post"]["responses"]["422"].is_object(), "{plural}: 422 documented");
    }
    for path in [
        "/api/v1/me",
        "/api/v1/api-keys",
        "/api/v1/audit-events",
        "/api/v1/numbers/import",
        "/api/v1/campaigns/{id}/ring-tree",
        "/api/v1/routing",
        "/api/v1/openapi.json",
    ] {
        assert!(paths.contains_key(path), "{path} is not documented");
    }

    let schemas = document["components"]["schemas"].as_object().unwrap();
    let mut found = Vec::new();
    refs(&document, &mut found);
    assert!(found.len() > 20, "schemas are referenced, not inlined: {}", found.len());
    for target in found {
        let name = target.strip_prefix("#/components/schemas/").expect("a local reference");
        assert!(schemas.contains_key(name), "{target} does not resolve");
    }
    let target = &schemas["Target"]["properties"];
    for field in ["destination", "outbound_trunk_id", "caps", "schedule", "conditions", "revenue"] {
        assert!(target[field].is_object(), "Target.{field} missing: {target}");
    }
    assert!(schemas["Trunk"]["properties"].get("password").is_none(), "the password is write-only");
    assert!(schemas["TrunkInput"]["properties"]["password"].is_object());

    let page = reqwest::get(server.url("/api/v1/docs")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("<code>PUT /api/v1/campaigns/{id}/ring-tree</code>"), "{html}");
    assert!(!html.contains("<script"), "the page runs no scripts");
}
