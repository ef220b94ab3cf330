//! `/api/v1/targets` and `/api/v1/campaigns/{id}/ring-tree` on both backends: a buyer's
//! static and RTB targets, the checks a user understands, and nothing deleted while a
//! ring tree or a target still needs it.

use bidline_tests::{Api, Server, ServerOptions, TestDatabase};
use reqwest::Method;
use serde_json::{Value, json};

async fn created(api: &Api, path: &str, body: Value) -> Value {
    let (status, object) = api.post(path, &body).await;
    assert_eq!(status, 201, "POST {path}: {object}");
    object
}

fn id(object: &Value) -> &str {
    object["id"].as_str().unwrap()
}

#[tokio::test]
async fn a_buyers_targets_fill_a_ring_tree_on_both_backends() {
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let (_, api) = server.create_org("Acme Leads", "dana@acme.example");
        let buyer = created(&api, "/buyers", json!({"name": "Acme Insurance"})).await;
        let trunk = created(
            &api,
            "/trunks",
            json!({"name": "Carrier Out", "direction": "outbound", "host": "sip.carrier.example"}),
        )
        .await;
        let campaign = created(
            &api,
            "/campaigns",
            json!({"name": "Medicare", "time_zone": "America/New_York"}),
        )
        .await;

        let static_target = created(
            &api,
            "/targets",
            json!({
                "buyer_id": buyer["id"], "name": "Acme East", "destination": "+1 (555) 010-0200",
                "outbound_trunk_id": trunk["id"], "concurrency_cap": 5,
                "caps": {"day": 100, "month": 2000}, "time_zone": "America/New_York",
                "schedule": {"weekly": [{"day": "mon", "open": "09:00", "close": "17:00"}], "closed_dates": ["2026-12-25"]},
                "conditions": [{"attribute": "caller.state", "operator": "in_list", "value": ["FL", "GA"]}],
                "revenue": {"kind": "static", "cents": 3500, "buffer_seconds": 90}
            }),
        )
        .await;
        assert_eq!(static_target["destination"], "+15550100200", "{backend}");
        assert_eq!(static_target["schedule"]["time_zone"], "America/New_York", "the target's zone");
        assert_eq!(
            static_target["caps"],
            json!({"hour": null, "day": 100, "month": 2000, "total": null})
        );
        let rtb_target = created(
            &api,
            "/targets",
            json!({
                "buyer_id": buyer["id"], "name": "Acme RTB", "destination": "sip:rtb@acme.example",
                "revenue": {"kind": "rtb", "ping_url": "https://acme.example/ping",
                            "body_template": "{\"caller\":\"{{caller.number}}\",\"source\":\"{{tag.utm_source}}\"}",
                            "bid_path": "$.bidAmount", "bid_unit": "dollars"}
            }),
        )
        .await;
        assert_eq!(rtb_target["revenue"]["timeout_ms"], 1000, "{backend}: {rtb_target}");
        let (status, read) = api.get(&format!("/targets/{}", id(&rtb_target))).await;
        assert_eq!((status.as_u16(), &read), (200, &rtb_target), "{backend}: read back as written");

        let (status, bad) = api
            .post(
                "/targets",
                &json!({
                    "buyer_id": buyer["id"], "name": "Broken", "destination": "sip:nohost@",
                    "caps": {"hour": -1},
                    "schedule": {"time_zone": "Mars/Base", "weekly": [{"day": "mon", "open": "18:00", "close": "09:00"}]},
                    "revenue": {"kind": "rtb", "ping_url": "https://acme.example", "bid_path": "$$bid",
                                "body_template": "{{caller.shoe_size}}"}
                }),
            )
            .await;
        assert_eq!(status, 422, "{backend}: {bad}");
        for field in [
            "destination",
            "caps.hour",
            "schedule.time_zone",
            "schedule.weekly[0].close",
            "revenue.bid_path",
            "revenue.body_template",
        ] {
            assert!(bad["fields"][field].is_string(), "{backend}: {field} not named: {bad}");
        }
        let (_, inbound) = api
            .post(
                "/trunks",
                &json!({"name": "In", "direction": "inbound", "allowed_cidrs": ["192.0.2.0/24"]}),
            )
            .await;
        let (status, wrong_trunk) = api
            .call(
                Method::PATCH,
                &format!("/targets/{}", id(&static_target)),
                Some(&json!({"outbound_trunk_id": inbound["id"]})),
            )
            .await;
        assert_eq!(status, 422, "{backend}: {wrong_trunk}");
        assert!(wrong_trunk["fields"]["outbound_trunk_id"].as_str().unwrap().contains("inbound"));

        let tree_path = format!("/campaigns/{}/ring-tree", id(&campaign));
        let (status, empty) = api.get(&tree_path).await;
        assert_eq!((status.as_u16(), empty), (200, json!([])), "{backend}");
        let tree = json!([
            {"target_id": rtb_target["id"], "priority": 1, "weight": 3},
            {"target_id": static_target["id"], "priority": 2, "weight": 1, "enabled": false}
        ]);
        let (status, put) = api.call(Method::PUT, &tree_path, Some(&tree)).await;
        assert_eq!(status, 200, "{backend}: {put}");
        let (_, read) = api.get(&tree_path).await;
        assert_eq!(
            read,
            json!([
                {"target_id": rtb_target["id"], "priority": 1, "weight": 3, "enabled": true},
                {"target_id": static_target["id"], "priority": 2, "weight": 1, "enabled": false}
            ]),
            "{backend}"
        );
        let (_, history) = api.get(&format!("/campaigns/{}/history", id(&campaign))).await;
        assert_eq!(history["items"][0]["after"]["ring_tree"], read, "{backend}: {history}");

        let (status, bad_tree) = api
            .call(
                Method::PUT,
                &tree_path,
                Some(&json!([{"target_id": rtb_target["id"], "weight": 0}, {"target_id": campaign["id"]}])),
            )
            .await;
        assert_eq!(status, 422, "{backend}: {bad_tree}");
        assert!(
            bad_tree["fields"]["ring_tree[0].weight"].is_string()
                && bad_tree["fields"]["ring_tree[1].target_id"].is_string(),
            "{backend}: {bad_tree}"
        );
        assert_eq!(api.get(&tree_path).await.1, read, "{backend}: a refused tree changes nothing");

        // What something live depends on stays.
        for (path, why) in [
            (
                format!("/targets/{}", id(&rtb_target)),
                "cannot delete: 1 ring-tree entries still use it",
            ),
            (format!("/buyers/{}", id(&buyer)), "cannot delete: 2 targets still use it"),
            (format!("/trunks/{}", id(&trunk)), "cannot delete: 1 targets still use it"),
        ] {
            let (status, refused) = api.delete(&path).await;
            assert_eq!(
                (status.as_u16(), refused["error"].as_str()),
                (409, Some(why)),
                "{backend}: {path}"
            );
        }
        // A campaign's ring tree goes with it; then the targets, buyer and trunk can go.
        assert_eq!(api.delete(&format!("/campaigns/{}", id(&campaign))).await.0, 204, "{backend}");
        for path in [
            format!("/targets/{}", id(&rtb_target)),
            format!("/targets/{}", id(&static_target)),
            format!("/buyers/{}", id(&buyer)),
            format!("/trunks/{}", id(&trunk)),
        ] {
            let (status, body) = api.delete(&path).await;
            assert_eq!(status, 204, "{backend}: DELETE {path}: {body}");
        }
    }
}

#[tokio::test]
async fn target_lists_page_and_filter() {
    let server = Server::start().await;
    let (_, api) = server.create_org("Acme Leads", "dana@acme.example");
    let buyer = created(&api, "/buyers", json!({"name": "Acme"})).await;
    for (name, status) in [("East", "active"), ("West", "paused"), ("Eastside", "active")] {
        created(
            &api,
            "/targets",
            json!({"buyer_id": buyer["id"], "name": name, "status": status,
                   "destination": "sip:t@acme.example", "revenue": {"kind": "static", "cents": 100}}),
        )
        .await;
    }
    let (_, east) = api.get("/targets?name=east&status=active").await;
    let names: Vec<&str> =
        east["items"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["East", "Eastside"]);
    let (_, first) = api.get("/targets?limit=2").await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, rest) = api.get(&format!("/targets?limit=2&cursor={cursor}")).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["items"][0]["name"], "Eastside");
}

#[tokio::test]
async fn header_secrets_are_write_only_below_admin_on_both_backends() {
    const MASK: &str = "••••";
    for database in TestDatabase::all().await {
        let backend = database.backend();
        let server =
            Server::start_with(ServerOptions { database: Some(database), ..Default::default() })
                .await;
        let (_, admin) = server.create_org("Acme Leads", "dana@acme.example");
        let key = |role: &'static str| {
            let admin = admin.clone();
            let base = server.url("");
            async move {
                let made = created(&admin, "/api-keys", json!({"name": role, "role": role})).await;
                Api::new(base, made["key"].as_str().unwrap())
            }
        };
        let (manager, analyst) = (key("manager").await, key("analyst").await);
        let buyer = created(&admin, "/buyers", json!({"name": "Acme Insurance"})).await;
        let target = created(
            &admin,
            "/targets",
            json!({"buyer_id": buyer["id"], "name": "Acme RTB", "destination": "sip:rtb@acme.example",
                   "revenue": {"kind": "rtb", "ping_url": "https://acme.example/ping",
                               "headers": {"X-Api-Key": "k-secret-123"}, "bid_path": "$.bid"}}),
        )
        .await;
        let webhook = created(
            &admin,
            "/webhooks",
            json!({"name": "CRM", "url": "https://crm.example/hook", "events": ["call.completed"],
                   "headers": {"Authorization": "Bearer w-secret-456"}}),
        )
        .await;
        let target_path = format!("/targets/{}", id(&target));
        let webhook_path = format!("/webhooks/{}", id(&webhook));

        // Below admin, every read shows the mask: the object, the list, the history.
        for reader in [&manager, &analyst] {
            let (_, read) = reader.get(&target_path).await;
            assert_eq!(read["revenue"]["headers"]["X-Api-Key"], MASK, "{backend}: {read}");
            let (_, list) = reader.get("/targets").await;
            assert_eq!(list["items"][0]["revenue"]["headers"]["X-Api-Key"], MASK);
            let (_, read) = reader.get(&webhook_path).await;
            assert_eq!(read["headers"]["Authorization"], MASK, "{backend}: {read}");
            for path in [&target_path, &webhook_path] {
                let (_, history) = reader.get(&format!("{path}/history")).await;
                let text = history.to_string();
                let shown = ["k-secret-123", "w-secret-456"].iter().any(|v| text.contains(v));
                assert!(!shown, "{backend}: the history shows a secret: {text}");
            }
        }

        // A manager changes the objects as read, the mask sent back: the secrets stay.
        let (_, mut as_read) = manager.get(&target_path).await;
        as_read["revenue"]["timeout_ms"] = json!(1500);
        let patch = json!({"revenue": as_read["revenue"]});
        let (status, answer) = manager.call(Method::PATCH, &target_path, Some(&patch)).await;
        assert_eq!(status, 200, "{backend}: {answer}");
        assert_eq!(answer["revenue"]["headers"]["X-Api-Key"], MASK);
        let patch = json!({"headers": {"Authorization": MASK, "X-Team": "ops"}});
        let (status, answer) = manager.call(Method::PATCH, &webhook_path, Some(&patch)).await;
        assert_eq!(status, 200, "{backend}: {answer}");
        assert_eq!(answer["headers"], json!({"Authorization": MASK, "X-Team": MASK}));

        // Admins read what is stored, and the history holds no mask.
        let (_, read) = admin.get(&target_path).await;
        assert_eq!(read["revenue"]["headers"]["X-Api-Key"], "k-secret-123", "{backend}");
        assert_eq!(read["revenue"]["timeout_ms"], 1500);
        let (_, read) = admin.get(&webhook_path).await;
        assert_eq!(
            read["headers"],
            json!({"Authorization": "Bearer w-secret-456", "X-Team": "ops"}),
            "{backend}"
        );
        let (_, history) = admin.get(&format!("{target_path}/history")).await;
        assert_eq!(history["items"][0]["after"]["revenue"]["headers"]["X-Api-Key"], "k-secret-123");
        assert!(!history.to_string().contains(MASK), "{history}");

        // A mask with no stored value behind it is refused, never stored.
        let patch = json!({"headers": {"X-Other": MASK}});
        let (status, answer) = manager.call(Method::PATCH, &webhook_path, Some(&patch)).await;
        assert_eq!(status, 422, "{backend}: {answer}");
    }
}
