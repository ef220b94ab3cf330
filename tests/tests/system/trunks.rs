//! `/api/v1/trunks` on both backends: inbound trunks admit networks, outbound trunks
//! say where numbers are dialed; passwords are sealed at rest and never answered; a
//! server started with another secret key refuses to run.

use bidline_tests::{Server, ServerOptions, TestDatabase, bidline_binary, workspace_root};
use reqwest::Method;
use serde_json::json;
use sqlx::{Connection, PgConnection, SqliteConnection};

/// The `password_sealed` column of every trunk, straight from the database.
async fn sealed_passwords(url: &str) -> Vec<Option<String>> {
    let sql = "SELECT password_sealed FROM trunks ORDER BY id";
    if url.starts_with("sqlite") {
        let mut db = SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut db).await.unwrap()
    } else {
        let mut db = PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut db).await.unwrap()
    }
}

#[tokio::test]
async fn trunks_keep_their_passwords_sealed_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let url = database.url().to_owned();
        let mut server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let (_, api) = server.create_org("Acme Leads", "dana@acme.example");

        let (status, inbound) = api
            .post(
                "/trunks",
                &json!({"name": "Carrier In", "direction": "inbound", "allowed_cidrs": ["198.51.100.0/24", "127.0.0.1"]}),
            )
            .await;
        assert_eq!(status, 201, "{backend}: {inbound}");
        assert_eq!(inbound["allowed_cidrs"], json!(["198.51.100.0/24", "127.0.0.1/32"]));
        assert_eq!(
            (inbound["host"].is_null(), inbound["has_password"].as_bool()),
            (true, Some(false))
        );

        let (status, outbound) = api
            .post(
                "/trunks",
                &json!({"name": "Carrier Out", "direction": "outbound", "host": "sip.carrier.example",
                        "transport": "tcp", "username": "acme", "password": "tr0ub4dor&3"}),
            )
            .await;
        assert_eq!(status, 201, "{backend}: {outbound}");
        assert_eq!(
            (&outbound["port"], &outbound["dial_format"], &outbound["has_password"]),
            (&json!(5060), &json!("+{e164}"), &json!(true))
        );
        let id = outbound["id"].as_str().unwrap();
        for (_, answer) in [
            api.get(&format!("/trunks/{id}")).await,
            api.get("/trunks").await,
            api.get(&format!("/trunks/{id}/history")).await,
        ] {
            assert!(!answer.to_string().contains("tr0ub4dor"), "{backend}: shown: {answer}");
            assert!(!answer.to_string().contains("\"password\""), "{backend}: {answer}");
        }
        let stored = sealed_passwords(&url).await;
        let sealed = stored.iter().flatten().next().expect("one sealed password");
        assert!(sealed.starts_with("v1.") && !sealed.contains("tr0ub4dor"), "{backend}: {sealed}");

        let (status, renamed) = api
            .call(Method::PATCH, &format!("/trunks/{id}"), Some(&json!({"name": "Carrier Out 2"})))
            .await;
        assert_eq!((status.as_u16(), &renamed["has_password"]), (200, &json!(true)), "{backend}");
        assert_eq!(sealed_passwords(&url).await, stored, "{backend}: a rename keeps the password");

        let (status, bad) = api
            .post(
                "/trunks",
                &json!({"name": "Bad", "direction": "outbound", "host": "not a host", "port": 0,
                        "dial_format": "{e164}{national}", "allowed_cidrs": ["10.0.0.0/8"]}),
            )
            .await;
        assert_eq!(status, 422, "{backend}: {bad}");
        for field in ["host", "port", "dial_format", "allowed_cidrs"] {
            assert!(bad["fields"][field].is_string(), "{backend}: {field}: {bad}");
        }
        server.stop().await;

        // Another key cannot open what the first sealed: the server says so and stops.
        let other_key = "ab".repeat(32);
        let output = std::process::Command::new(bidline_binary())
            .current_dir(workspace_root())
            .args(["serve", "--http", "127.0.0.1:0"])
            .env("DATABASE_URL", &url)
            .env("BIDLINE_SECRET_KEY", &other_key)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{backend}: {stderr}");
        assert!(stderr.contains("does not open the secrets"), "{backend}: {stderr}");
        assert!(!stderr.contains(&other_key), "{backend}: the key was printed");
    }
}
