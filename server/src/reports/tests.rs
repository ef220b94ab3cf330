//! Reports answered from rollups equal the same reports answered from raw calls, on both
//! backends, after calls are written, rewritten and adjusted the ways real calls are.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng};
use sqlx::Row;
use uuid::Uuid;

use super::engine::{self, Route};
use super::request::Request;
use crate::{
    accounts::{
        OrgId,
        orgs::{Creator, create_with_owner},
    },
    calls::{
        BidRow, CallRow, Outcome, Status,
        rollups::{self, CallFacts, Sums},
        writer::{Write, Writer},
    },
    db::{
        Backend, Db,
        nodes::{self, NodeInfo},
        testing::migrated_databases,
        with_pool,
    },
};

struct World {
    campaigns: Vec<Uuid>,
    publishers: Vec<Uuid>,
    targets: Vec<(Uuid, Uuid)>,
    numbers: Vec<Uuid>,
}

fn call(rng: &mut StdRng, world: &World, org: OrgId, node: Uuid) -> (CallRow, Vec<BidRow>) {
    let started_at = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
        + chrono::Duration::seconds(rng.random_range(0..3 * 86_400));
    let status =
        [Status::Completed, Status::Failed, Status::Rejected, Status::Abandoned, Status::Ringing]
            [rng.random_range(0..5)];
    let answered = status == Status::Completed;
    let (target, buyer) = world.targets[rng.random_range(0..world.targets.len())];
    let revenue = if answered { rng.random_range(0..5_000) } else { 0 };
    let row = CallRow {
        id: Uuid::now_v7(),
        org,
        node_id: node,
        campaign_id: world.campaigns[rng.random_range(0..world.campaigns.len())],
        publisher_id: rng
            .random_bool(0.9)
            .then(|| world.publishers[rng.random_range(0..world.publishers.len())]),
        number_id: Some(world.numbers[rng.random_range(0..world.numbers.len())]),
        inbound_trunk_id: None,
        buyer_id: answered.then_some(buyer),
        target_id: answered.then_some(target),
        caller: Some("+12125550123".into()),
        caller_anonymous: false,
        dialed: "+18005550100".into(),
        sip_call_id: format!("{}@carrier.example", Uuid::now_v7()),
        status,
        end_reason: None,
        sip_status: None,
        started_at,
        answered_at: answered.then_some(started_at + chrono::Duration::seconds(3)),
        ended_at: Some(started_at + chrono::Duration::seconds(60)),
        ring_ms: Some(3_000),
        talk_ms: answered.then(|| rng.random_range(0..600_000)),
        duplicate: rng.random_bool(0.1),
        bid_cents: None,
        buffer_seconds: None,
        converted: answered && rng.random_bool(0.5),
        revenue_cents: revenue,
        payout_cents: revenue / 2,
        tags: BTreeMap::from([
            ("caller.state".into(), ["NY", "CA", "TX"][rng.random_range(0..3)].into()),
            ("tag.gclid".into(), format!("Cj0K{}", rng.random_range(0..1_000_000))),
        ]),
    };
    let mut row = row;
    // Some calls come without the tag: they are the rest of a pivot by it.
    if rng.random_bool(0.8) {
        let source = ["google", "bing", "facebook"][rng.random_range(0..3)];
        row.tags.insert("tag.utm_source".into(), source.into());
    }
    let mut bids = Vec::new();
    for &(target_id, buyer_id) in &world.targets {
        if rng.random_bool(0.5) {
            continue;
        }
        let mut bid = BidRow::ineligible(target_id, buyer_id, String::new());
        bid.outcome = Outcome::Ranked;
        bid.pinged_at = Some(started_at);
        bid.bid_cents = rng.random_bool(0.7).then(|| rng.random_range(100..3_000));
        bid.won = Some(target_id) == row.target_id;
        bids.push(bid);
    }
    (row, bids)
}

async fn written(writer: &Writer, changes: u64) {
    for _ in 0..500 {
        if writer.backlog().written() >= changes {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the writer did not write {changes} changes");
}

fn request(query: &[(&str, &str)]) -> Request {
    let params: HashMap<String, String> =
        query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    Request::parse(&params, "America/New_York", Utc.with_ymd_and_hms(2026, 12, 5, 0, 0, 0).unwrap())
        .unwrap()
}

#[tokio::test]
async fn rollups_and_raw_calls_give_the_same_report() {
    for (_test_db, db) in migrated_databases().await {
        let org = create_with_owner(
            &db,
            "Reports",
            "owner@reports.example",
            "Qz8-long-pass-Wx4",
            Creator::Operator,
        )
        .await
        .unwrap()
        .org;
        let node = NodeInfo::new("127.0.0.1:0".parse().unwrap());
        nodes::register(&db, &node).await.unwrap();
        let (writer, _flushed) = Writer::spawn(&db, None);
        let mut rng = StdRng::seed_from_u64(7);
        let ids = |n| (0..n).map(|_| Uuid::now_v7()).collect::<Vec<_>>();
        let world = World {
            campaigns: ids(3),
            publishers: ids(4),
            targets: ids(5).into_iter().zip(ids(2).into_iter().cycle()).collect(),
            numbers: ids(6),
        };
        let mut changes = 0;
        let mut adjusted = Vec::new();
        for _ in 0..400 {
            let (mut row, bids) = call(&mut rng, &world, org, node.id);
            // As the recorder writes a call: opened ringing, its auction, then its end,
            // sometimes in separate batches; some adjusted afterwards as a postback does.
            let end = row.clone();
            row.status = Status::Ringing;
            row.answered_at = None;
            row.buyer_id = None;
            row.target_id = None;
            row.revenue_cents = 0;
            row.payout_cents = 0;
            row.converted = false;
            row.talk_ms = None;
            let opened = CallFacts::from(&row);
            writer.send(Write::Call {
                row: Box::new(row),
                before: None,
                notices: Vec::new(),
                pings: None,
            });
            let call = CallFacts::from(&end);
            writer.send(Write::Bids { call: call.clone(), rows: bids.clone(), before: Vec::new() });
            changes += 2;
            if rng.random_bool(0.5) {
                written(&writer, changes).await;
            }
            let before = rollups::upserted(&[], &bids);
            let mut final_bids = bids;
            for bid in &mut final_bids {
                bid.bid_cents = None; // the last auction written stands whole
            }
            writer.send(Write::Call {
                row: Box::new(end.clone()),
                before: Some(opened),
                notices: Vec::new(),
                pings: Some(0),
            });
            writer.send(Write::Bids { call, rows: final_bids, before });
            changes += 2;
            if end.status == Status::Completed && rng.random_bool(0.3) {
                adjusted.push(end);
            }
        }
        written(&writer, changes).await;
        for before in adjusted {
            let mut after = before.clone();
            after.converted = !after.converted;
            after.revenue_cents += 250;
            with_pool!(&db, pool => {
                let mut tx = pool.begin().await.unwrap();
                sqlx::query("UPDATE calls SET converted = $1, revenue_cents = $2 WHERE id = $3")
                    .bind(after.converted)
                    .bind(after.revenue_cents)
                    .bind(after.id)
                    .execute(&mut *tx)
                    .await
                    .unwrap();
                rollups::adjust((&mut *tx).into(), &before, &after).await.unwrap();
                tx.commit().await.unwrap();
            });
        }
        let campaign = world.campaigns[0].to_string();
        let buyer = world.targets[0].1.to_string();
        for query in [
            vec![("group_by", "campaign")],
            vec![("group_by", "day")],
            vec![("group_by", "campaign,day")],
            vec![("group_by", "hour"), ("from", "2026-11-30"), ("to", "2026-12-03")],
            vec![("group_by", "buyer"), ("time_zone", "UTC")],
            vec![("group_by", "target,week")],
            vec![("group_by", "number,month"), ("time_zone", "Europe/Berlin")],
            vec![("group_by", "caller_state")],
            vec![("group_by", "day"), ("campaign_id", campaign.as_str())],
            vec![("group_by", "buyer,day"), ("buyer_id", buyer.as_str())],
            vec![("group_by", "publisher"), ("from", "2026-12-01"), ("to", "2026-12-02")],
            vec![("group_by", "tag.utm_source")],
            vec![("group_by", "tag.utm_source,day")],
            vec![("group_by", "day"), ("tag.utm_source", "bing")],
            vec![("group_by", "tag.utm_source"), ("tag.utm_source", "google")],
        ] {
            let mut query = query.clone();
            if !query.iter().any(|(k, _)| *k == "from") {
                query.extend([("from", "2026-11-29"), ("to", "2026-12-04")]);
            }
            let request = request(&query);
            let rolled = engine::answer_by(&db, org, &request, Route::Rollups).await.unwrap();
            let raw = engine::answer_by(&db, org, &request, Route::Calls).await.unwrap();
            assert!(rolled.from_rollups, "{query:?} should be answered from rollups");
            assert_eq!(rolled.rows, raw.rows, "{query:?} on {:?}", db.backend());
            let total = raw.rows.values().fold(Sums::default(), |mut t, s| {
                t.add(s, 1);
                t
            });
            assert!(total.calls > 0, "{query:?} covers calls");
        }
        // What the rollups cannot answer is read from the calls.
        for query in [
            vec![("group_by", "campaign,publisher")],
            vec![("group_by", "tag.utm_source,campaign")],
            vec![("group_by", "tag.gclid")],
            vec![("group_by", "day"), ("tag.gclid", "Cj0K1")],
            vec![("group_by", "day"), ("status", "completed")],
            vec![("group_by", "day"), ("time_zone", "Asia/Kolkata")],
        ] {
            let answer = engine::answer(&db, org, &request(&query)).await.unwrap();
            assert!(!answer.from_rollups, "{query:?}");
        }
        // Migration 23 rebuilds the rollups from the calls: to the same sums.
        let kept = rollup_rows(&db).await;
        let rebuild = match db.backend() {
            Backend::Sqlite => REBUILD_SQLITE,
            Backend::Postgres => REBUILD_POSTGRES,
        };
        with_pool!(&db, pool => sqlx::raw_sql(rebuild).execute(pool).await.map(drop)).unwrap();
        assert_eq!(rollup_rows(&db).await, kept, "rebuilt rollups on {:?}", db.backend());
    }
}

const REBUILD_SQLITE: &str =
    include_str!("../../../migrations/sqlite/20261125000023_rollups_of_tags.sql");
const REBUILD_POSTGRES: &str =
    include_str!("../../../migrations/postgres/20261125000023_rollups_of_tags.sql");

/// Every rollup row that sums to something, by dimension, hour and key.
async fn rollup_rows(db: &Db) -> BTreeMap<(String, DateTime<Utc>, String), Sums> {
    let sql = "SELECT dimension, hour, key, calls, connected, converted, duplicates, rejected, \
        no_answer, revenue_cents, payout_cents, talk_ms, pings, bids, bids_won, bid_cents \
        FROM call_rollups";
    let rows: Vec<(String, DateTime<Utc>, String, [i64; 13])> = with_pool!(db, pool => {
        let mut rows = Vec::new();
        for row in sqlx::query(sql).fetch_all(pool).await.unwrap() {
            let sums: Vec<i64> = (3..16).map(|i| row.get::<i64, _>(i)).collect();
            rows.push((row.get(0), row.get(1), row.get(2), sums.try_into().unwrap()));
        }
        rows
    });
    rows.into_iter()
        .map(|(dimension, hour, key, s)| {
            let sums = Sums {
                calls: s[0],
                connected: s[1],
                converted: s[2],
                duplicates: s[3],
                rejected: s[4],
                no_answer: s[5],
                revenue_cents: s[6],
                payout_cents: s[7],
                talk_ms: s[8],
                pings: s[9],
                bids: s[10],
                bids_won: s[11],
                bid_cents: s[12],
            };
            ((dimension, hour, key), sums)
        })
        .filter(|(_, sums)| *sums != Sums::default())
        .collect()
}
