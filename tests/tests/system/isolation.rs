//! Tenant isolation: organization B's user and API key, given organization A's ids,
//! find nothing and change nothing. Every route and server function that takes an id
//! is probed here; the test runs on both backends.

use bidline_tests::{
    Api, NewOrg, Server, ServerOptions, SessionClient, TestDatabase, isolation::ID_TAKING_FUNCTIONS,
};
use std::time::Duration;

use bidline_sipp::{Sipp, Transport, scenario};
use reqwest::Method;
use serde_json::{Value, json};

/// One way of reaching an object by id.
enum Probe {
    /// `/api/v1{path}` with B's admin key.
    Api(Method, String),
    /// A server function with B's owner session.
    Function(&'static str, Vec<(&'static str, String)>),
}

/// A's objects, as A sees them.
async fn snapshot(a_api: &Api, a_owner: &SessionClient) -> Vec<Value> {
    let mut seen = Vec::new();
    for list in [
        "/api-keys",
        "/buyers",
        "/publishers",
        "/campaigns",
        "/numbers",
        "/dni-pools",
        "/targets",
        "/trunks",
        "/webhooks",
    ] {
        let (status, body) = a_api.get(list).await;
        assert_eq!(status, 200, "GET {list}: {body}");
        seen.push(body);
    }
    for campaign in seen[3]["items"].as_array().unwrap().clone() {
        let path = format!("/campaigns/{}/ring-tree", campaign["id"].as_str().unwrap());
        let (status, body) = a_api.get(&path).await;
        assert_eq!(status, 200, "GET {path}: {body}");
        seen.push(body);
    }
    for function in ["list_members", "list_invitations"] {
        let (status, body) = a_owner.call(function, &[]).await;
        assert_eq!(status, 200, "{function}: {body}");
        seen.push(body);
    }
    seen
}

/// A call to A's number +15550100777 from a caller A blocks, refused and recorded; its id.
async fn refused_call(server: &Server, a_api: &Api) -> String {
    let (status, _) = a_api
        .post(
            "/trunks",
            &json!({"name": "A's carrier", "direction": "inbound", "allowed_cidrs": ["127.0.0.1"]}),
        )
        .await;
    assert_eq!(status, 201);
    let (status, _) = a_api.post("/blocked-callers", &json!({"number": "+12125550123"})).await;
    assert_eq!(status, 201);
    while a_api.get("/routing").await.1["blocked_callers"]["active"] != 1 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let fills = vec![("__CALLER__", "+12125550123".to_owned()), ("__STATUS__", "403".to_owned())];
    Sipp::uac_to(
        scenario("carrier_refused.xml", fills),
        server.sip_addr(),
        "+15550100777",
        Transport::Udp,
        1,
    )
    .passes()
    .await;
    loop {
        let (_, calls) = a_api.get("/calls").await;
        if let Some(call) = calls["items"].get(0) {
            return call["id"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn another_organizations_ids_are_404_and_untouched_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let (a, a_api) = server.create_org("Org A", "a@a.example");
        let (_, b_api) = server.create_org("Org B", "b@b.example");
        let a_owner =
            SessionClient::signed_in(server.url(""), "a@a.example", NewOrg::PASSWORD).await;
        let b_owner =
            SessionClient::signed_in(server.url(""), "b@b.example", NewOrg::PASSWORD).await;

        // A has a key, a member besides its owner, and a pending invitation.
        let (_, key) =
            a_api.post("/api-keys", &json!({"name": "A's key", "role": "analyst"})).await;
        let key_id = key["id"].as_str().unwrap().to_owned();
        let (_, joined) = a_owner.call("create_invitation", &[("role", "analyst")]).await;
        let token = joined["path"].as_str().unwrap().trim_start_matches("/invite/").to_owned();
        let sam = SessionClient::new(server.url(""));
        let accepted = [
            ("token", token.as_str()),
            ("email", "sam@a.example"),
            ("password", "member horse battery"),
        ];
        assert_eq!(
            sam.call(
                "accept_invitation",
                &[accepted[0], accepted[1], accepted[2], ("new_account", "true")]
            )
            .await
            .0,
            200
        );
        let (_, pending) = a_owner.call("create_invitation", &[("role", "manager")]).await;
        let invitation_id = pending["invitation"]["id"].as_str().unwrap().to_owned();
        let (_, members) = a_owner.call("list_members", &[]).await;
        let sam_id = members
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["email"] == "sam@a.example")
            .unwrap()["user_id"]
            .as_str()
            .unwrap()
            .to_owned();
        let (_, buyer) = a_api.post("/buyers", &json!({"name": "A's buyer"})).await;
        let buyer_id = buyer["id"].as_str().unwrap().to_owned();
        let (_, publisher) = a_api
            .post(
                "/publishers",
                &json!({"name": "A's publisher", "payout": {"kind": "fixed", "cents": 100}}),
            )
            .await;
        let publisher_id = publisher["id"].as_str().unwrap().to_owned();
        let (_, campaign) = a_api
            .post("/campaigns", &json!({"name": "A's campaign", "time_zone": "America/New_York"}))
            .await;
        let campaign_id = campaign["id"].as_str().unwrap().to_owned();
        let (_, number) = a_api
            .post("/numbers", &json!({"number": "+15550100777", "campaign_id": campaign_id}))
            .await;
        let number_id = number["id"].as_str().unwrap().to_owned();
        let (_, pool) = a_api
            .post("/dni-pools", &json!({"name": "A's pool", "campaign_id": campaign_id}))
            .await;
        let pool_id = pool["id"].as_str().unwrap().to_owned();
        let (_, trunk) = a_api
            .post(
                "/trunks",
                &json!({"name": "A's trunk", "direction": "outbound", "host": "a.example"}),
            )
            .await;
        let trunk_id = trunk["id"].as_str().unwrap().to_owned();
        let (_, target) = a_api
            .post(
                "/targets",
                &json!({"name": "A's target", "buyer_id": buyer_id, "destination": "+15550100888",
                        "outbound_trunk_id": trunk_id, "revenue": {"kind": "static", "cents": 100}}),
            )
            .await;
        let target_id = target["id"].as_str().unwrap().to_owned();
        let ring_tree = format!("/campaigns/{campaign_id}/ring-tree");
        let (status, _) =
            a_api.call(Method::PUT, &ring_tree, Some(&json!([{"target_id": target_id}]))).await;
        assert_eq!(status, 200);
        let call_id = refused_call(&server, &a_api).await;
        let (status, webhook) = a_api
            .post("/webhooks", &json!({"name": "A's hook", "url": "https://a.example/hook", "events": ["call.completed"]}))
            .await;
        assert_eq!(status, 201, "{webhook}");
        let webhook_id = webhook["id"].as_str().unwrap().to_owned();
        let before = snapshot(&a_api, &a_owner).await;

        let probes = [
            Probe::Api(Method::DELETE, format!("/api-keys/{key_id}")),
            Probe::Api(Method::GET, format!("/buyers/{buyer_id}")),
            Probe::Api(Method::PATCH, format!("/buyers/{buyer_id}")),
            Probe::Api(Method::DELETE, format!("/buyers/{buyer_id}")),
            Probe::Api(Method::GET, format!("/buyers/{buyer_id}/history")),
            Probe::Api(Method::GET, format!("/buyers/{buyer_id}/postback-keys")),
            Probe::Api(Method::POST, format!("/buyers/{buyer_id}/postback-keys")),
            Probe::Api(Method::DELETE, format!("/buyers/{buyer_id}/postback-keys/{buyer_id}")),
            Probe::Api(Method::GET, format!("/buyers/{buyer_id}/invoices")),
            Probe::Api(Method::POST, format!("/buyers/{buyer_id}/invoices/run")),
            Probe::Api(Method::GET, format!("/campaigns/{campaign_id}")),
            Probe::Api(Method::PATCH, format!("/campaigns/{campaign_id}")),
            Probe::Api(Method::DELETE, format!("/campaigns/{campaign_id}")),
            Probe::Api(Method::GET, format!("/campaigns/{campaign_id}/history")),
            Probe::Api(Method::GET, format!("/dni-pools/{pool_id}")),
            Probe::Api(Method::PATCH, format!("/dni-pools/{pool_id}")),
            Probe::Api(Method::DELETE, format!("/dni-pools/{pool_id}")),
            Probe::Api(Method::GET, format!("/dni-pools/{pool_id}/history")),
            Probe::Api(Method::GET, format!("/numbers/{number_id}")),
            Probe::Api(Method::PATCH, format!("/numbers/{number_id}")),
            Probe::Api(Method::DELETE, format!("/numbers/{number_id}")),
            Probe::Api(Method::GET, format!("/numbers/{number_id}/history")),
            Probe::Api(Method::GET, format!("/publishers/{publisher_id}")),
            Probe::Api(Method::PATCH, format!("/publishers/{publisher_id}")),
            Probe::Api(Method::DELETE, format!("/publishers/{publisher_id}")),
            Probe::Api(Method::GET, format!("/publishers/{publisher_id}/history")),
            Probe::Api(Method::GET, format!("/targets/{target_id}")),
            Probe::Api(Method::PATCH, format!("/targets/{target_id}")),
            Probe::Api(Method::DELETE, format!("/targets/{target_id}")),
            Probe::Api(Method::GET, format!("/targets/{target_id}/history")),
            Probe::Api(Method::POST, format!("/targets/{target_id}/test-ping")),
            Probe::Api(Method::GET, format!("/trunks/{trunk_id}")),
            Probe::Api(Method::PATCH, format!("/trunks/{trunk_id}")),
            Probe::Api(Method::DELETE, format!("/trunks/{trunk_id}")),
            Probe::Api(Method::GET, format!("/trunks/{trunk_id}/history")),
            Probe::Api(Method::GET, format!("/webhooks/{webhook_id}")),
            Probe::Api(Method::PATCH, format!("/webhooks/{webhook_id}")),
            Probe::Api(Method::DELETE, format!("/webhooks/{webhook_id}")),
            Probe::Api(Method::GET, format!("/webhooks/{webhook_id}/history")),
            Probe::Api(Method::GET, format!("/webhooks/{webhook_id}/deliveries")),
            Probe::Api(Method::POST, format!("/webhooks/{webhook_id}/rotate-secret")),
            Probe::Api(Method::POST, format!("/webhooks/{webhook_id}/deliveries/{call_id}/resend")),
            Probe::Api(Method::GET, ring_tree.clone()),
            Probe::Api(Method::GET, format!("/calls/{call_id}")),
            Probe::Function("call_detail", vec![("id", call_id.clone())]),
            Probe::Function("campaign_today", vec![("campaign_id", campaign_id.clone())]),
            Probe::Function("campaign_dni", vec![("campaign_id", campaign_id.clone())]),
            Probe::Function("place_test_call", vec![("number_id", number_id.clone())]),
            Probe::Function("webhook_deliveries", vec![("webhook_id", webhook_id.clone())]),
            Probe::Function("rotate_webhook_secret", vec![("webhook_id", webhook_id.clone())]),
            Probe::Function("list_postback_keys", vec![("buyer_id", buyer_id.clone())]),
            Probe::Function("create_postback_key", vec![("buyer_id", buyer_id.clone())]),
            Probe::Function("list_buyer_invoices", vec![("buyer_id", buyer_id.clone())]),
            Probe::Function("run_buyer_invoice", vec![("buyer_id", buyer_id.clone())]),
            Probe::Function(
                "revoke_postback_key",
                vec![("buyer_id", buyer_id.clone()), ("key_id", buyer_id.clone())],
            ),
            Probe::Function(
                "resend_delivery",
                vec![("webhook_id", webhook_id.clone()), ("delivery_id", call_id.clone())],
            ),
            Probe::Function(
                "object_page",
                vec![("kind", "webhook".into()), ("id", webhook_id.clone())],
            ),
            Probe::Api(Method::PUT, ring_tree.clone()),
            Probe::Function("revoke_api_key", vec![("id", key_id.clone())]),
            Probe::Function("revoke_invitation", vec![("id", invitation_id.clone())]),
            Probe::Function(
                "change_member_role",
                vec![("user_id", sam_id.clone()), ("role", "admin".into())],
            ),
            Probe::Function("remove_member", vec![("user_id", sam_id.clone())]),
            Probe::Function("switch_org", vec![("org_id", a.org_id.clone())]),
            Probe::Function(
                "object_page",
                vec![("kind", "target".into()), ("id", target_id.clone())],
            ),
            Probe::Function("test_ping", vec![("target_id", target_id.clone())]),
            Probe::Function(
                "save_object",
                vec![
                    ("kind", "buyer".into()),
                    ("id", buyer_id.clone()),
                    ("body", r#"{"status":"paused"}"#.into()),
                ],
            ),
            Probe::Function(
                "delete_object",
                vec![("kind", "trunk".into()), ("id", trunk_id.clone())],
            ),
            Probe::Function(
                "object_page",
                vec![("kind", "campaign".into()), ("id", campaign_id.clone())],
            ),
            Probe::Function(
                "save_ring_tree",
                vec![("campaign_id", campaign_id.clone()), ("body", "[]".into())],
            ),
            Probe::Function(
                "import_numbers",
                vec![
                    (
                        "body",
                        format!(r#"{{"numbers":"+15550100999","campaign_id":"{campaign_id}"}}"#),
                    ),
                    ("preview", "false".into()),
                ],
            ),
        ];
        let probed: std::collections::BTreeSet<&str> = probes
            .iter()
            .filter_map(|probe| match probe {
                Probe::Function(name, _) => Some(*name),
                Probe::Api(..) => None,
            })
            .collect();
        assert_eq!(
            probed,
            ID_TAKING_FUNCTIONS.iter().copied().collect(),
            "the matrix misses a function"
        );
        for probe in &probes {
            match probe {
                Probe::Api(method, path) => {
                    let body = match *method {
                        Method::PATCH if path.starts_with("/webhooks") => {
                            Some(json!({"enabled": false}))
                        }
                        Method::PATCH => Some(json!({"status": "paused"})),
                        // B's own ids would be refused anyway; an empty tree would wipe A's.
                        Method::PUT => Some(json!([])),
                        _ => None,
                    };
                    let (status, body) = b_api.call(method.clone(), path, body.as_ref()).await;
                    assert_eq!(status, 404, "{backend}: {method} {path} by B: {body}");
                }
                Probe::Function(name, args) => {
                    let args: Vec<(&str, &str)> =
                        args.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    let (status, body) = b_owner.call(name, &args).await;
                    if *name == "import_numbers" {
                        // The id is in the body, checked as every referenced id is.
                        assert_eq!(status, 422, "{backend}: {name} by B: {body}");
                        assert!(
                            body.to_string().contains("is not a campaign of this organization")
                        );
                    } else {
                        assert_eq!(status, 404, "{backend}: {name} by B: {body}");
                    }
                }
            }
        }

        assert_eq!(snapshot(&a_api, &a_owner).await, before, "{backend}: A changed");
        // B's call log narrowed to A's campaign adds up to nothing.
        let (_, totals) =
            b_owner.call("call_totals", &[("filter[campaign_id]", &campaign_id)]).await;
        assert_eq!(totals["calls"], 0, "{backend}: B's totals count A's calls: {totals}");
        let (_, totals) = a_owner.call("call_totals", &[("filter[caller]", "")]).await;
        assert_eq!(totals["calls"], 1, "{backend}: A's own totals: {totals}");
        let (_, b_viewer) = b_owner.call("current_viewer", &[]).await;
        assert_eq!(b_viewer["org_name"], "Org B", "{backend}");
        for (name, listed) in [
            ("api keys", b_api.get("/api-keys").await.1),
            ("buyers", b_api.get("/buyers").await.1),
            ("publishers", b_api.get("/publishers").await.1),
            ("campaigns", b_api.get("/campaigns").await.1),
            ("numbers", b_api.get("/numbers").await.1),
            ("dni pools", b_api.get("/dni-pools").await.1),
            ("targets", b_api.get("/targets").await.1),
            ("trunks", b_api.get("/trunks").await.1),
            ("webhooks", b_api.get("/webhooks").await.1),
            ("audit", b_api.get("/audit-events").await.1),
            ("calls", b_api.get("/calls").await.1),
            ("reports", b_api.get("/reports?group_by=campaign,day").await.1),
            (
                "reports by buyer",
                b_api.get(&format!("/reports?group_by=buyer&buyer_id={buyer_id}")).await.1,
            ),
            ("reports by tag", b_api.get("/reports?group_by=campaign,tag.caller.state").await.1),
            ("call log CSV", b_api.get_text("/calls?format=csv").await.2.into()),
            (
                "report page",
                b_owner
                    .call(
                        "run_report",
                        &[("query", &format!("group_by=campaign&campaign_id={campaign_id}"))],
                    )
                    .await
                    .1,
            ),
            (
                "overview",
                b_owner.call("overview", &[("range", "30d"), ("from", ""), ("to", "")]).await.1,
            ),
            ("call log", b_owner.call("list_calls", &[("filter[caller]", "")]).await.1),
            ("live calls", b_owner.call("live_calls", &[]).await.1),
            ("members", b_owner.call("list_members", &[]).await.1),
        ] {
            let text = listed.to_string();
            assert!(
                !text.contains(&key_id)
                    && !text.contains(&buyer_id)
                    && !text.contains(&publisher_id)
                    && !text.contains(&campaign_id)
                    && !text.contains(&number_id)
                    && !text.contains(&pool_id)
                    && !text.contains(&target_id)
                    && !text.contains(&trunk_id)
                    && !text.contains(&webhook_id)
                    && !text.contains(&call_id)
                    && !text.contains("a.example"),
                "{backend}: B's {name} show A: {text}"
            );
        }
    }
}
