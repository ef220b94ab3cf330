//! The dashboard's look in chromium, page by page, with the organization empty and with
//! history: nothing wider than a 390 px phone, and no serious or critical accessibility
//! violation found by axe-core (npm's `axe-core`, which `scripts/setup --test` installs).
//! Each page is saved as a screenshot at both widths (`Browser::screenshot`).

use bidline_tests::{Browser, NewOrg, Server, workspace_root};
use fantoccini::Client;
use serde_json::{Value, json};

const PHONE: (u32, u32) = (390, 844);
const LAPTOP: (u32, u32) = (1366, 768);

/// Every page a signed-in owner can open, but one call's page (added once there are
/// calls).
fn pages() -> Vec<String> {
    let mut pages: Vec<String> =
        ["", "/calls", "/reports", "/members", "/api-keys", "/audit", "/settings", "/billing"]
            .iter()
            .map(|path| format!("/app{path}"))
            .collect();
    for kind in [
        "campaigns",
        "publishers",
        "buyers",
        "targets",
        "numbers",
        "dni-pools",
        "trunks",
        "blocked-callers",
        "webhooks",
    ] {
        pages.push(format!("/app/{kind}"));
        pages.push(format!("/app/{kind}/new"));
    }
    pages.push("/app/numbers/import".into());
    pages
}

#[tokio::test]
async fn every_page_fits_a_phone_and_passes_axe_empty_and_with_history() {
    let server = Server::start().await;
    let (org, api) = server.create_org("Acme", "dana@acme.example");
    let axe = std::fs::read_to_string(workspace_root().join("node_modules/axe-core/axe.min.js"))
        .expect("npm's axe-core in node_modules: run scripts/setup --test");
    let browser = Browser::start().await;
    browser.sign_in(&server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;

    let mut problems = Vec::new();
    for page in pages() {
        problems.extend(check(&browser, &server.url(&page), &axe, "empty").await);
    }

    server.command(&["demo", "seed", "--org-id", &org.org_id, "--calls", "300", "--days", "7"]);
    let (_, calls) = api.get("/calls?limit=1").await;
    let call = first_id(&calls);
    let (_, campaigns) = api.get("/campaigns").await;
    let campaign = first_id(&campaigns);
    let (_, targets) = api.get("/targets").await;
    let target = first_id(&targets);
    let mut seeded = pages();
    seeded.extend([
        format!("/app/calls/{call}"),
        format!("/app/campaigns/{campaign}"),
        format!("/app/targets/{target}"),
        "/app/reports?group_by=campaign,day".into(),
    ]);
    for page in seeded {
        problems.extend(check(&browser, &server.url(&page), &axe, "with history").await);
    }
    assert!(problems.is_empty(), "{} problems:\n{}", problems.len(), problems.join("\n"));
    browser.close().await;
}

fn first_id(list: &Value) -> String {
    let items = list.get("items").unwrap_or(list);
    items[0]["id"].as_str().unwrap_or_else(|| panic!("no object in {list}")).to_owned()
}

/// What is wrong with the page at `url` at either width.
async fn check(browser: &Browser, url: &str, axe: &str, state: &str) -> Vec<String> {
    let client = browser.client();
    let mut problems = Vec::new();
    for (width, height) in [PHONE, LAPTOP] {
        client.set_window_size(width, height).await.expect("resize the window");
        browser.open(url).await;
        let wide = client
            .execute("return document.documentElement.scrollWidth", vec![])
            .await
            .expect("measure the page");
        let inner = client
            .execute("return document.documentElement.clientWidth", vec![])
            .await
            .expect("measure the viewport");
        browser.screenshot(&screenshot_name(url, width, state)).await;
        if wide.as_u64() > inner.as_u64() {
            let culprits = client.execute(WIDEST, vec![]).await.expect("find what is too wide");
            problems.push(format!("{url} ({state}) at {width} px is {wide} px wide: {culprits}"));
        }
        for violation in violations(client, axe).await {
            problems.push(format!("{url} ({state}) at {width} px: {violation}"));
        }
    }
    problems
}

/// The innermost elements reaching past the window's right edge, not inside a box that
/// scrolls or clips them.
const WIDEST: &str = r##"
    const edge = document.documentElement.clientWidth;
    const clipped = (element) => {
        for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) {
            if (getComputedStyle(up).overflowX !== "visible") return true;
        }
        return false;
    };
    const name = (e) => e.tagName.toLowerCase() + (e.id ? "#" + e.id : "") +
        [...e.classList].map((c) => "." + c).join("");
    const wide = [...document.body.querySelectorAll("*")]
        .filter((e) => e.getBoundingClientRect().right > edge + 0.5 && !clipped(e));
    const found = wide.filter((e) => !wide.some((other) => other !== e && e.contains(other)))
        .map(name);
    const texts = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let text = texts.nextNode(); text; text = texts.nextNode()) {
        const range = document.createRange();
        range.selectNodeContents(text);
        if (range.getBoundingClientRect().right > edge + 0.5 && !clipped(text.parentElement)) {
            found.push(`text "${text.textContent.trim().slice(0, 40)}" in ${name(text.parentElement)}`);
        }
    }
    return found.slice(0, 4).join(", ");
"##;

/// `app-calls-390-empty` for `/app/calls` at 390 px with the organization empty;
/// `app-calls-one-390-with-history` for a call's page, whichever call it is.
fn screenshot_name(url: &str, width: u32, state: &str) -> String {
    let path = url.split_once("/app").map_or("", |(_, path)| path);
    let path: Vec<&str> = path
        .split('/')
        .map(|part| if uuid::Uuid::parse_str(part).is_ok() { "one" } else { part })
        .collect();
    let slug: String = format!("app{}-{width}-{state}", path.join("/"))
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' })
        .collect();
    slug.split('-').filter(|part| !part.is_empty()).collect::<Vec<_>>().join("-")
}

/// axe-core's serious and critical violations on the page now, one line each.
async fn violations(client: &Client, axe: &str) -> Vec<String> {
    client.execute(axe, vec![]).await.expect("load axe-core");
    let found = client
        .execute_async(
            r#"const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ["violations"] }).then(
                (result) => done(result.violations
                    .filter((v) => v.impact === "serious" || v.impact === "critical")
                    .map((v) => `${v.id} (${v.impact}): ${v.help}: ` +
                        v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", "))),
                (error) => done([`axe failed: ${error}`]));"#,
            vec![json!(null)],
        )
        .await
        .expect("run axe-core");
    found
        .as_array()
        .map(|list| list.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}
