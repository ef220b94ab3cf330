//! Members, roles and invitations through the dashboard's server functions: the rules
//! hold on the server whatever the page shows.

use bidline_tests::{NewOrg, Server, SessionClient};
use serde_json::Value;

/// A new invite link's token for `role`, made by `owner`.
pub(crate) async fn invite(owner: &SessionClient, role: &str) -> String {
    let (status, created) = owner.call("create_invitation", &[("role", role)]).await;
    assert_eq!(status, 200, "{created}");
    created["path"].as_str().unwrap().trim_start_matches("/invite/").to_owned()
}

pub(crate) async fn join(server: &Server, token: &str, email: &str) -> SessionClient {
    let client = SessionClient::new(server.url(""));
    let (status, body) = client
        .call(
            "accept_invitation",
            &[
                ("token", token),
                ("email", email),
                ("password", "member horse battery"),
                ("new_account", "true"),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    client
}

pub(crate) fn user_id(members: &Value, email: &str) -> String {
    members.as_array().unwrap().iter().find(|m| m["email"] == email).unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_invite_link_works_once() {
    let server = Server::start().await;
    server.create_org("Acme Leads", "dana@acme.example");
    let owner =
        SessionClient::signed_in(server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;
    let token = invite(&owner, "manager").await;

    let (status, open) =
        SessionClient::new(server.url("")).call("open_invitation", &[("token", &token)]).await;
    assert_eq!(status, 200);
    assert_eq!(open["org_name"], "Acme Leads");
    assert_eq!(open["role"], "manager");

    let sam = join(&server, &token, "sam@acme.example").await;
    let (_, viewer) = sam.call("current_viewer", &[]).await;
    assert_eq!(viewer["role"], "manager");

    let (status, _) = SessionClient::new(server.url(""))
        .call(
            "accept_invitation",
            &[
                ("token", &token),
                ("email", "eve@acme.example"),
                ("password", "member horse battery"),
                ("new_account", "true"),
            ],
        )
        .await;
    assert_eq!(status, 404, "a used link must not work again");
    let (_, open) =
        SessionClient::new(server.url("")).call("open_invitation", &[("token", &token)]).await;
    assert!(open.is_null(), "{open}");
}

#[tokio::test]
async fn a_revoked_invitation_lets_nobody_in() {
    let server = Server::start().await;
    server.create_org("Acme Leads", "dana@acme.example");
    let owner =
        SessionClient::signed_in(server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;
    let token = invite(&owner, "analyst").await;
    let (_, pending) = owner.call("list_invitations", &[]).await;
    let id = pending[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(owner.call("revoke_invitation", &[("id", &id)]).await.0, 200);

    let (status, _) = SessionClient::new(server.url(""))
        .call(
            "accept_invitation",
            &[
                ("token", &token),
                ("email", "eve@acme.example"),
                ("password", "member horse battery"),
                ("new_account", "true"),
            ],
        )
        .await;
    assert_eq!(status, 404);
    // No account was created for the refused link.
    let (status, _) = SessionClient::new(server.url(""))
        .call("login", &[("email", "eve@acme.example"), ("password", "member horse battery")])
        .await;
    assert_eq!(status, 401);
}

#[tokio::test]
async fn admins_manage_members_below_owner_and_the_last_owner_stays() {
    let server = Server::start().await;
    server.create_org("Acme Leads", "dana@acme.example");
    let owner =
        SessionClient::signed_in(server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;
    let admin = join(&server, &invite(&owner, "admin").await, "ada@acme.example").await;
    let analyst = join(&server, &invite(&owner, "analyst").await, "sam@acme.example").await;

    let (status, members) = admin.call("list_members", &[]).await;
    assert_eq!(status, 200, "{members}");
    let (dana, sam) =
        (user_id(&members, "dana@acme.example"), user_id(&members, "sam@acme.example"));

    // An admin promotes an analyst to manager, but may not touch the owner or make owners.
    assert_eq!(
        admin.call("change_member_role", &[("user_id", &sam), ("role", "manager")]).await.0,
        200
    );
    assert_eq!(
        admin.call("change_member_role", &[("user_id", &dana), ("role", "analyst")]).await.0,
        403
    );
    assert_eq!(
        admin.call("change_member_role", &[("user_id", &sam), ("role", "owner")]).await.0,
        403
    );
    assert_eq!(admin.call("remove_member", &[("user_id", &dana)]).await.0, 403);

    // The role change holds at once for the member's running session.
    let (_, viewer) = analyst.call("current_viewer", &[]).await;
    assert_eq!(viewer["role"], "manager");
    // A manager administers nothing.
    assert_eq!(analyst.call("list_members", &[]).await.0, 403);
    assert_eq!(analyst.call("create_invitation", &[("role", "analyst")]).await.0, 403);

    // The only owner cannot step down or leave.
    let (status, body) =
        owner.call("change_member_role", &[("user_id", &dana), ("role", "admin")]).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(owner.call("remove_member", &[("user_id", &dana)]).await.0, 422);

    // A removed member's session loses the organization at once.
    assert_eq!(owner.call("remove_member", &[("user_id", &sam)]).await.0, 200);
    let (_, viewer) = analyst.call("current_viewer", &[]).await;
    assert!(viewer.is_null(), "{viewer}");
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_but_not_this_one() {
    let server = Server::start().await;
    server.create_org("Acme Leads", "dana@acme.example");
    let here =
        SessionClient::signed_in(server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;
    let elsewhere =
        SessionClient::signed_in(server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;

    let (status, body) = here
        .call(
            "change_password",
            &[("current_password", "not it at all"), ("new_password", "a brand new passphrase")],
        )
        .await;
    assert_eq!(status, 422);
    assert!(body.to_string().contains("current_password"), "{body}");

    let (status, _) = here
        .call(
            "change_password",
            &[("current_password", NewOrg::PASSWORD), ("new_password", "a brand new passphrase")],
        )
        .await;
    assert_eq!(status, 200);
    assert!(!here.call("current_viewer", &[]).await.1.is_null(), "this session must stay");
    assert!(elsewhere.call("current_viewer", &[]).await.1.is_null(), "other sessions must end");
    SessionClient::signed_in(server.url(""), "dana@acme.example", "a brand new passphrase").await;
}

#[tokio::test]
async fn a_user_in_two_organizations_switches_between_them() {
    let server = Server::start().await;
    let (first, _) = server.create_org("Acme Leads", "dana@acme.example");
    let (second, _) = server.create_org("Zenith Calls", "dana@acme.example");
    let dana =
        SessionClient::signed_in(server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;

    let (_, viewer) = dana.call("current_viewer", &[]).await;
    assert_eq!(viewer["org_id"], first.org_id.as_str());
    assert_eq!(viewer["orgs"].as_array().unwrap().len(), 2);
    assert_eq!(dana.call("switch_org", &[("org_id", &second.org_id)]).await.0, 200);
    let (_, viewer) = dana.call("current_viewer", &[]).await;
    assert_eq!(viewer["org_name"], "Zenith Calls");
}

#[tokio::test]
async fn someone_with_an_account_joins_signed_in_or_by_signing_in() {
    let server = Server::start().await;
    server.create_org("Acme Leads", "dana@acme.example");
    server.create_org("Zenith Calls", "zed@zenith.example");
    server.create_org("Yonder Media", "yan@yonder.example");
    let owner =
        SessionClient::signed_in(server.url(""), "dana@acme.example", NewOrg::PASSWORD).await;

    // Signed in already: the session's user joins and lands in the new organization.
    let zed =
        SessionClient::signed_in(server.url(""), "zed@zenith.example", NewOrg::PASSWORD).await;
    let token = invite(&owner, "manager").await;
    let accepted =
        [("token", token.as_str()), ("email", ""), ("password", ""), ("new_account", "false")];
    assert_eq!(zed.call("accept_invitation", &accepted).await.0, 200);
    let (_, viewer) = zed.call("current_viewer", &[]).await;
    assert_eq!(viewer["org_name"], "Acme Leads");
    assert_eq!(viewer["role"], "manager");
    assert_eq!(viewer["orgs"].as_array().unwrap().len(), 2);

    // Signed out: the invitee signs in with the link, and a wrong password joins no one.
    let token = invite(&owner, "analyst").await;
    let yan = SessionClient::new(server.url(""));
    let wrong = [
        ("token", token.as_str()),
        ("email", "yan@yonder.example"),
        ("password", "not her password"),
        ("new_account", "false"),
    ];
    assert_eq!(yan.call("accept_invitation", &wrong).await.0, 401);
    let right = [
        ("token", token.as_str()),
        ("email", "yan@yonder.example"),
        ("password", NewOrg::PASSWORD),
        ("new_account", "false"),
    ];
    assert_eq!(yan.call("accept_invitation", &right).await.0, 200);
    let (_, viewer) = yan.call("current_viewer", &[]).await;
    assert_eq!(viewer["org_name"], "Acme Leads");
    assert_eq!(viewer["role"], "analyst");
}
