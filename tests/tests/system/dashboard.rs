//! The signed-in dashboard in chromium: sign up, create an API key, sign out, sign in.

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
    browser.close().await;
}
