//! Sign-in over HTTP, as a script or an attacker would try it: cookies, rotation,
//! rate limits, uniform failures, and cross-site refusal.

use bidline_tests::{NewOrg, Server, ServerOptions, SessionClient};
use reqwest::{Client, StatusCode, header};

fn client() -> Client {
    Client::builder().cookie_store(true).build().unwrap()
}

async fn login(client: &Client, server: &Server, email: &str, password: &str) -> reqwest::Response {
    client
        .post(server.url("/fn/login"))
        .form(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|cookie| cookie.starts_with("bidline_session="))
        .map(str::to_owned)
}

#[tokio::test]
async fn signing_in_sets_a_http_only_lax_cookie_and_a_new_id_each_time() {
    let server = Server::start().await;
    server.create_org("Acme Leads", "dana@acme.example");
    let client = client();

    let first = login(&client, &server, "dana@acme.example", NewOrg::PASSWORD).await;
    assert_eq!(first.status(), 200);
    let first_cookie = session_cookie(&first).expect("a session cookie");
    assert!(first_cookie.contains("HttpOnly"), "{first_cookie}");
    assert!(first_cookie.contains("SameSite=Lax"), "{first_cookie}");
    assert!(!first_cookie.contains("Secure"), "{first_cookie}");
    // Idle expiry: the cookie, like the stored session, lives 12 hours past the last use.
    assert!(first_cookie.contains("Max-Age=43200"), "{first_cookie}");

    let second = login(&client, &server, "dana@acme.example", NewOrg::PASSWORD).await;
    let second_cookie = session_cookie(&second).expect("a new session cookie");
    let id = |cookie: &str| cookie.split(';').next().unwrap().to_owned();
    assert_ne!(id(&first_cookie), id(&second_cookie), "the session id was not rotated");
}

#[tokio::test]
async fn the_cookie_is_secure_when_configured_for_tls() {
    let server = Server::start_with(ServerOptions {
        args: vec!["--secure-cookies".into()],
        ..Default::default()
    })
    .await;
    server.create_org("Acme Leads", "dana@acme.example");
    let response = login(&client(), &server, "dana@acme.example", NewOrg::PASSWORD).await;
    assert!(session_cookie(&response).unwrap().contains("Secure"));
}

#[tokio::test]
async fn unknown_email_and_wrong_password_get_the_same_answer() {
    let server = Server::start().await;
    server.create_org("Acme Leads", "dana@acme.example");
    let wrong = login(&client(), &server, "dana@acme.example", "wrong horse battery").await;
    let (wrong_status, wrong_body) = (wrong.status(), wrong.text().await.unwrap());
    let unknown = login(&client(), &server, "nobody@acme.example", "wrong horse battery").await;
    assert_eq!(wrong_status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), wrong_status);
    assert_eq!(unknown.text().await.unwrap(), wrong_body);
}

#[tokio::test]
async fn ten_failed_sign_ins_in_a_minute_from_one_address_are_then_refused_with_429() {
    let server = Server::start().await;
    server.create_org("Acme Leads", "dana@acme.example");
    let client = client();
    for attempt in 1..=10 {
        let response =
            login(&client, &server, &format!("guess{attempt}@acme.example"), "wrong horse battery")
                .await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }
    let refused = login(&client, &server, "dana@acme.example", NewOrg::PASSWORD).await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 =
        refused.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!((1..=6).contains(&retry_after), "Retry-After: {retry_after}");
}

#[tokio::test]
async fn hammering_a_users_email_from_one_address_never_locks_them_out_of_another() {
    let server = Server::start_with(ServerOptions {
        args: vec!["--trusted-proxy".into(), "127.0.0.1".into()],
        ..Default::default()
    })
    .await;
    server.create_org("Acme Leads", "dana@acme.example");
    // The attacker, behind the trusted proxy, guesses Dana's password until refused,
    // and goes on guessing long past it.
    let attacker = SessionClient::from_address(server.url(""), "203.0.113.9");
    let mut refused = 0;
    for _ in 0..30 {
        let (status, _) =
            attacker.call("login", &[("email", "dana@acme.example"), ("password", "guess")]).await;
        assert!(status == 401 || status == 429, "{status}");
        refused += usize::from(status == 429);
    }
    assert!(refused >= 20, "the attacker's address is held back: {refused} of 30 refused");
    // A fresh session from there changes nothing.
    let (status, _) = SessionClient::from_address(server.url(""), "203.0.113.9")
        .call("login", &[("email", "dana@acme.example"), ("password", NewOrg::PASSWORD)])
        .await;
    assert_eq!(status, 429, "the attacker's address stays refused, right password or not");

    // Dana, from her own address, signs in at once.
    let dana = SessionClient::from_address(server.url(""), "198.51.100.20");
    let (status, body) =
        dana.call("login", &[("email", "dana@acme.example"), ("password", NewOrg::PASSWORD)]).await;
    assert_eq!(status, 200, "{body}");
    let (_, viewer) = dana.call("current_viewer", &[]).await;
    assert_eq!(viewer["email"], "dana@acme.example");
}

#[tokio::test]
async fn cross_site_posts_to_the_dashboard_are_refused() {
    let server = Server::start().await;
    server.create_org("Acme Leads", "dana@acme.example");
    let client = client();
    assert_eq!(login(&client, &server, "dana@acme.example", NewOrg::PASSWORD).await.status(), 200);

    let from_elsewhere = client
        .post(server.url("/fn/logout"))
        .header(header::ORIGIN, "https://attacker.example")
        .send()
        .await
        .unwrap();
    assert_eq!(from_elsewhere.status(), 403);
    let fetch_metadata = client
        .post(server.url("/fn/create_api_key"))
        .header("sec-fetch-site", "cross-site")
        .form(&[("name", "stolen"), ("role", "admin")])
        .send()
        .await
        .unwrap();
    assert_eq!(fetch_metadata.status(), 403);

    // The same requests from the site itself go through.
    let same_origin = client
        .post(server.url("/fn/create_api_key"))
        .header(header::ORIGIN, server.url(""))
        .form(&[("name", "mine"), ("role", "manager")])
        .send()
        .await
        .unwrap();
    assert_eq!(same_origin.status(), 200, "{}", same_origin.text().await.unwrap());
}

#[tokio::test]
async fn server_functions_refuse_the_signed_out() {
    let server = Server::start().await;
    server.create_org("Acme Leads", "dana@acme.example");
    let client = client();
    for function in ["list_api_keys", "current_viewer"] {
        let response = client.post(server.url(&format!("/fn/{function}"))).send().await.unwrap();
        let expected = if function == "current_viewer" { 200 } else { 401 };
        assert_eq!(response.status(), expected, "{function}");
    }
    let create = client
        .post(server.url("/fn/create_api_key"))
        .form(&[("name", "sneaky"), ("role", "analyst")])
        .send()
        .await
        .unwrap();
    assert_eq!(create.status(), 401);

    assert_eq!(login(&client, &server, "dana@acme.example", NewOrg::PASSWORD).await.status(), 200);
    let listed = client.post(server.url("/fn/list_api_keys")).send().await.unwrap();
    assert_eq!(listed.status(), 200);
}

#[tokio::test]
async fn dashboard_pages_are_refused_on_the_server() {
    let server = Server::start().await;
    server.create_org("Acme Leads", "dana@acme.example");
    let no_redirects = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    for page in ["/app", "/app/members", "/app/settings"] {
        let response = no_redirects
            .get(server.url(page))
            .header(header::ACCEPT, "text/html")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 302, "{page}: {:?}", response.headers());
        assert_eq!(response.headers()[header::LOCATION], "/login", "{page}");
    }

    // An analyst's request for an admin page is answered 403 by the server.
    let owner = bidline_tests::SessionClient::signed_in(
        server.url(""),
        "dana@acme.example",
        NewOrg::PASSWORD,
    )
    .await;
    let (_, created) = owner.call("create_invitation", &[("role", "analyst")]).await;
    let token = created["path"].as_str().unwrap().trim_start_matches("/invite/");
    let joined = no_redirects
        .post(server.url("/fn/accept_invitation"))
        .form(&[
            ("token", token),
            ("email", "sam@acme.example"),
            ("password", "member horse battery"),
            ("new_account", "true"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), 200);
    let page = no_redirects
        .get(server.url("/app/members"))
        .header(header::ACCEPT, "text/html")
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 403);
    assert!(!page.text().await.unwrap().contains("dana@acme.example"));
    assert_eq!(no_redirects.get(server.url("/app")).send().await.unwrap().status(), 200);
}
