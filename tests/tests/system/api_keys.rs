//! API keys on `/api/v1`: bootstrap with `bidline org create`, authenticate, create,
//! revoke, roles, and the audit trail they leave.

use bidline_tests::{
    Api, NewOrg, Server, ServerOptions, SessionClient, TestDatabase, bidline_command,
};
use serde_json::{Value, json};

use crate::members::{invite, join, user_id};

#[tokio::test]
async fn org_create_prints_an_admin_key_that_me_recognises_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let (org, api) = server.create_org("Acme Leads", "dana@acme.example");
        assert_eq!(org.org_id.len(), 36);
        assert!(org.api_key.starts_with("bl_"), "{}", org.api_key);

        let (status, me) = api.get("/me").await;
        assert_eq!(status, 200, "{backend}: {me}");
        assert_eq!(me["org_id"], org.org_id.as_str());
        assert_eq!(me["org_name"], "Acme Leads");
        assert_eq!(me["role"], "admin");
    }
}

#[tokio::test]
async fn a_missing_malformed_or_made_up_key_is_401_json() {
    let server = Server::start().await;
    server.create_org("Acme Leads", "dana@acme.example");

    for key in ["bl_madeUpmadeUpmadeUpmadeUpmadeUpmadeUpmade", "not-even-a-key", ""] {
        let (status, body) = Api::new(server.url(""), key).get("/me").await;
        assert_eq!(status, 401, "{key:?}: {body}");
        assert_eq!(body["error"], "missing or unknown API key");
    }
    let response = reqwest::get(server.url("/api/v1/me")).await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
}

#[tokio::test]
async fn a_revoked_key_stops_working_at_once_and_stays_listed() {
    let server = Server::start().await;
    let (_, admin) = server.create_org("Acme Leads", "dana@acme.example");

    let (status, created) =
        admin.post("/api-keys", &json!({"name": "Reporting", "role": "analyst"})).await;
    assert_eq!(status, 201, "{created}");
    let key = created["key"].as_str().unwrap();
    assert!(key.starts_with(created["key_prefix"].as_str().unwrap()));
    let reporting = Api::new(server.url(""), key);
    assert_eq!(reporting.get("/me").await.1["role"], "analyst");

    let id = created["id"].as_str().unwrap();
    assert_eq!(admin.delete(&format!("/api-keys/{id}")).await.0, 204);
    assert_eq!(reporting.get("/me").await.0, 401);
    // Revoking twice finds nothing live to revoke.
    assert_eq!(admin.delete(&format!("/api-keys/{id}")).await.0, 404);

    let (_, list) = admin.get("/api-keys").await;
    let listed =
        list["items"].as_array().unwrap().iter().find(|k| k["id"] == id).expect("still listed");
    assert!(listed["revoked_at"].is_string(), "{listed}");
    assert!(listed.get("key").is_none(), "a key is shown only once: {listed}");
    assert!(list["next_cursor"].is_null());
}

#[tokio::test]
async fn keys_never_get_a_role_above_their_creator() {
    let server = Server::start().await;
    let (_, admin) = server.create_org("Acme Leads", "dana@acme.example");
    let (status, body) = admin.post("/api-keys", &json!({"name": "Root", "role": "owner"})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["fields"]["role"].is_string(), "{body}");

    let (status, body) =
        admin.post("/api-keys", &json!({"name": "Odd", "role": "superuser"})).await;
    assert_eq!(status, 422, "{body}");

    let (status, body) = admin.post("/api-keys", &json!({"name": "  ", "role": "manager"})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["fields"]["name"], "must not be empty");

    let (status, body) = admin.post("/api-keys", &json!({"name": 7})).await;
    assert_eq!(status, 422, "{body}");
    assert!(body["error"].is_string());
}

#[tokio::test]
async fn analysts_and_managers_may_not_administer_keys() {
    let server = Server::start().await;
    let (_, admin) = server.create_org("Acme Leads", "dana@acme.example");
    for role in ["analyst", "manager"] {
        let (_, created) = admin.post("/api-keys", &json!({"name": role, "role": role})).await;
        let limited = Api::new(server.url(""), created["key"].as_str().unwrap());
        let (status, body) = limited.get("/api-keys").await;
        assert_eq!(status, 403, "{role}: {body}");
        let (status, _) = limited.post("/api-keys", &json!({"name": "x", "role": "analyst"})).await;
        assert_eq!(status, 403, "{role}");
        let (status, _) = limited.get("/audit-events").await;
        assert_eq!(status, 403, "{role}");
    }
}

#[tokio::test]
async fn the_audit_log_records_who_created_and_revoked_keys_and_from_where() {
    let server = Server::start().await;
    let (_, admin) = server.create_org("Acme Leads", "dana@acme.example");
    let (_, created) =
        admin.post("/api-keys", &json!({"name": "Reporting", "role": "analyst"})).await;
    admin.delete(&format!("/api-keys/{}", created["id"].as_str().unwrap())).await;

    let (status, log) = admin.get("/audit-events").await;
    assert_eq!(status, 200, "{log}");
    let items = log["items"].as_array().unwrap();
    let actions: Vec<&str> = items.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        actions,
        ["api_key.revoked", "api_key.created", "api_key.created", "organization.created"],
        "{log}"
    );
    assert_eq!(items[0]["actor"]["api_key"], "Created by bidline org create");
    assert_eq!(items[0]["ip"], "127.0.0.1");
    assert_eq!(items[1]["detail"]["name"], "Reporting");
    // The command line made the organization: no member or key did.
    assert!(items[3]["actor"]["email"].is_null() && items[3]["actor"]["api_key"].is_null());
    assert_eq!(items[3]["detail"]["owner_email"], "dana@acme.example");

    // Pages follow the cursor to the end.
    let (_, first) = admin.get("/audit-events?limit=3").await;
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let (_, rest) = admin.get(&format!("/audit-events?limit=3&cursor={cursor}")).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1, "{rest}");
    assert_eq!(admin.get("/audit-events?limit=0").await.0, 422);
}

#[tokio::test]
async fn unknown_api_routes_answer_404_json() {
    let server = Server::start().await;
    let (_, admin) = server.create_org("Acme Leads", "dana@acme.example");
    let (status, body) = admin.get("/no-such-resource").await;
    assert_eq!(status, 404);
    assert_eq!(body, json!({"error": "not found"}));
}

#[tokio::test]
async fn org_create_refuses_a_weak_password_in_one_line() {
    let database = TestDatabase::sqlite();
    let output = bidline_command(
        database.url(),
        &[
            "org",
            "create",
            "--name",
            "Acme",
            "--owner-email",
            "dana@acme.example",
            "--owner-password",
            "password123",
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("invalid password"), "{stderr}");
    assert!(output.stdout.is_empty());
}

#[tokio::test]
async fn an_existing_user_owns_a_second_org_only_with_their_password() {
    let server = Server::start().await;
    let (first, _) = server.create_org("Acme Leads", "dana@acme.example");
    let (second, _) = server.create_org("Acme Insurance", "Dana@Acme.example");
    assert_eq!(first.user_id, second.user_id);
    assert_ne!(first.org_id, second.org_id);

    let output = bidline_command(
        server.database().url(),
        &[
            "org",
            "create",
            "--name",
            "X",
            "--owner-email",
            "dana@acme.example",
            "--owner-password",
            "wrong horse battery",
        ],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("password does not match"));
}

#[tokio::test]
async fn operators_reset_a_password_from_the_command_line() {
    let server = Server::start().await;
    let (org, admin) = server.create_org("Acme Leads", "dana@acme.example");
    let reset: Value = server.command(&["user", "reset-password", "--email", "dana@acme.example"]);
    assert_eq!(reset["user_id"], org.user_id.as_str());
    let password = reset["password"].as_str().unwrap();
    assert!(password.len() >= 20, "{password}");

    let (_, log) = admin.get("/audit-events").await;
    assert_eq!(log["items"][0]["action"], "user.password_reset");

    let output = bidline_command(
        server.database().url(),
        &["user", "reset-password", "--email", "nobody@acme.example"],
    );
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no user has this email"));
}

#[tokio::test]
async fn a_demoted_members_keys_shrink_and_a_removed_members_keys_stop_working_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let (_, operator) = server.create_org("Acme Leads", "dana@acme.example");
        let owner =
            SessionClient::signed_in(server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;
        let ada = join(&server, &invite(&owner, "admin").await, "ada@acme.example").await;
        let (status, created) =
            ada.call("create_api_key", &[("name", "Ada's scripts"), ("role", "admin")]).await;
        assert_eq!(status, 200, "{created}");
        let key = Api::new(server.url(""), created["secret"].as_str().unwrap());
        // A key Ada's key makes is Ada's too.
        let (status, child) =
            key.post("/api-keys", &json!({"name": "Ada's cron", "role": "manager"})).await;
        assert_eq!(status, 201, "{backend}: {child}");
        let child = Api::new(server.url(""), child["key"].as_str().unwrap());
        assert_eq!(key.get("/me").await.1["role"], "admin");
        assert_eq!(child.get("/me").await.1["role"], "manager");

        let (_, members) = owner.call("list_members", &[]).await;
        let ada_id = user_id(&members, "ada@acme.example");
        let (status, _) =
            owner.call("change_member_role", &[("user_id", &ada_id), ("role", "analyst")]).await;
        assert_eq!(status, 200);
        // Capped at Ada's role now: reading still works, changing and administering not.
        for key in [&key, &child] {
            let (status, me) = key.get("/me").await;
            assert_eq!((status.as_u16(), &me["role"]), (200, &json!("analyst")), "{backend}");
            assert_eq!(key.get("/campaigns").await.0, 200);
            let (status, _) = key.post("/campaigns", &json!({"name": "Solar"})).await;
            assert_eq!(status, 403, "{backend}: a demoted member's key may not edit");
            assert_eq!(key.get("/api-keys").await.0, 403);
        }

        assert_eq!(owner.call("remove_member", &[("user_id", &ada_id)]).await.0, 200);
        for key in [&key, &child] {
            let (status, body) = key.get("/me").await;
            assert_eq!(status, 401, "{backend}: a removed member's key stops working: {body}");
        }
        // The operator's key (`bidline org create`), which no member made, keeps its role.
        assert_eq!(operator.get("/me").await.1["role"], "admin");
    }
}
