//! The signed-in dashboard in chromium: sign up, create an API key, sign out, sign in,
//! invite an analyst, the analyst's limits, and switching organizations.

use bidline_tests::{Api, Browser, Server};

#[tokio::test]
async fn a_new_user_signs_up_creates_an_api_key_signs_out_and_back_in() {
    let server = Server::start().await;
    let browser = Browser::start().await;

    browser.open(&server.url("/signup")).await;
    browser.fill("#field-org_name", "Acme Leads").await;
    browser.fill("#field-email", "dana@acme.example").await;
    browser.fill("#field-password", "correct horse battery").await;
    browser.click("#signup-form button[type=submit]").await;
    browser.wait_for_path("/app").await;
    browser.wait_for_text("main h1", |text| text == "Acme Leads").await;

    // API keys: create one; it is shown once and works against the REST API.
    browser.click("nav a[href='/app/api-keys']").await;
    browser.wait_for_path("/app/api-keys").await;
    browser
        .wait_for_text("section[aria-labelledby=key-list] .empty-state", |text| {
            text.contains("No API keys yet")
        })
        .await;
    browser.fill("#key-name", "Reporting script").await;
    browser.click("#create-key-form button[type=submit]").await;
    let secret_input = browser.find("#new-key-secret").await;
    let secret = secret_input.prop("value").await.unwrap().expect("a value");
    assert!(secret.starts_with("bl_"), "{secret}");
    let (status, me) = Api::new(server.url(""), &secret).get("/me").await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["role"], "analyst");
    assert_eq!(me["org_name"], "Acme Leads");
    browser.wait_for_text("table.data tbody", |text| text.contains("Reporting script")).await;

    // Sign out: the dashboard is closed to the browser again.
    browser.click(".user-menu summary").await;
    browser.click("#sign-out").await;
    browser.wait_for_path("/login").await;
    browser.client().goto(&server.url("/app")).await.unwrap();
    browser.wait_for_path("/login").await;

    // A wrong password is refused with the same message as an unknown email.
    browser.open(&server.url("/login")).await;
    browser.fill("#field-email", "dana@acme.example").await;
    browser.fill("#field-password", "wrong horse battery").await;
    browser.click("#login-form button[type=submit]").await;
    browser
        .wait_for_text(".form-error", |text| text.contains("email or password is not right"))
        .await;

    browser.fill("#field-password", "correct horse battery").await;
    browser.click("#login-form button[type=submit]").await;
    browser.wait_for_path("/app").await;
    browser.wait_for_text("main h1", |text| text == "Acme Leads").await;

    // Invite a second user as analyst.
    browser.click("nav a[href='/app/members']").await;
    browser.wait_for_path("/app/members").await;
    browser.wait_for_text("#members", |text| text.contains("dana@acme.example")).await;
    browser.click("#invite-form button[type=submit]").await;
    let link = browser.find("#invite-link").await.prop("value").await.unwrap().expect("a link");
    assert!(link.starts_with(&server.url("/invite/inv_")), "{link}");
    browser.wait_for_text("#invitations", |text| text.contains("analyst")).await;

    // The invitee opens the link in their own browser and creates an account.
    let invitee = Browser::start().await;
    invitee.open(&link).await;
    invitee.wait_for_text("main h1", |text| text == "Join Acme Leads").await;
    invitee.fill("#field-email", "sam@acme.example").await;
    invitee.fill("#field-password", "analyst horse battery").await;
    invitee.click("#join-new-form button[type=submit]").await;
    invitee.wait_for_path("/app").await;
    invitee.wait_for_text(".user-menu .role", |text| text == "analyst").await;

    // The analyst's navigation offers no administration, and the server refuses it
    // even when asked directly from the analyst's signed-in page.
    let nav = invitee.find("nav.sidenav").await.text().await.unwrap();
    assert!(!nav.contains("API keys") && !nav.contains("Members"), "{nav}");
    invitee.client().goto(&server.url("/app/api-keys")).await.unwrap();
    invitee
        .wait_for_text("section[aria-labelledby=key-list]", |text| {
            text.contains("role does not allow")
        })
        .await;
    let status = invitee
        .client()
        .execute(
            "return fetch('/fn/create_api_key', {method: 'POST', body: new URLSearchParams({name: 'x', role: 'analyst'})})\
             .then(response => response.status)",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(status, 403);
    invitee.close().await;

    // The owner sees the new member, and the link is used up.
    browser.client().refresh().await.unwrap();
    browser.wait_for_text("#members", |text| text.contains("sam@acme.example")).await;
    browser
        .wait_for_text("section[aria-labelledby=pending]", |text| {
            text.contains("No pending invitations")
        })
        .await;

    // Dana owns a second organization; the switcher moves her dashboard there.
    server.command(&[
        "org",
        "create",
        "--name",
        "Zenith Calls",
        "--owner-email",
        "dana@acme.example",
        "--owner-password",
        "correct horse battery",
    ]);
    browser.open(&server.url("/app")).await;
    browser.find("#org-switcher").await.select_by_label("Zenith Calls").await.unwrap();
    browser.wait_for_text("main h1", |text| text == "Zenith Calls").await;
    browser.close().await;
}
