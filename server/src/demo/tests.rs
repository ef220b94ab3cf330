//! Seeded history is whole, consistent with itself, the same for the same seed, and
//! reads in reports as real calls do.

use std::collections::HashMap;

use chrono::Utc;

use super::{Seeding, seed};
use crate::{
    accounts::{
        OrgId,
        orgs::{Creator, create_with_owner},
    },
    db::{Db, testing::migrated_databases, with_pool},
    reports::{self, Report, request::Request},
};

async fn report(db: &Db, org: OrgId, query: &[(&str, &str)]) -> Report {
    let mut params: HashMap<String, String> =
        query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    params.insert("time_zone".into(), "UTC".into());
    params
        .insert("from".into(), (Utc::now() - chrono::Duration::days(20)).date_naive().to_string());
    let request = Request::parse(&params, "UTC", Utc::now()).unwrap();
    reports::run(db, org, &request, Utc::now()).await.unwrap()
}

#[tokio::test]
async fn seeding_writes_the_calls_asked_for_and_reports_read_them() {
    let mut totals = Vec::new();
    for (_test_db, db) in migrated_databases().await {
        let org = create_with_owner(
            &db,
            "Demo",
            "owner@demo.example",
            "Qz8-long-pass-Wx4",
            Creator::Operator,
        )
        .await
        .unwrap()
        .org;
        let written = seed(&db, Seeding { org, calls: 3_000, days: 14, seed: 42 }).await.unwrap();
        assert_eq!(written, 3_000);
        let (calls, revenue, payout, oldest): (i64, i64, i64, chrono::DateTime<Utc>) = with_pool!(&db, pool => {
            sqlx::query_as(
                "SELECT COUNT(*), CAST(SUM(revenue_cents) AS BIGINT), CAST(SUM(payout_cents) AS BIGINT), \
                     MIN(started_at) \
                 FROM calls WHERE organization_id = $1",
            )
            .bind(org)
            .fetch_one(pool)
            .await
            .unwrap()
        });
        assert_eq!(calls, 3_000);
        let today = Utc::now().date_naive();
        assert!(oldest.date_naive() >= today - chrono::Duration::days(14));

        let by_campaign = report(&db, org, &[("group_by", "campaign")]).await;
        assert_eq!(by_campaign.totals.calls, 3_000);
        assert_eq!(
            (by_campaign.totals.revenue_cents, by_campaign.totals.payout_cents),
            (revenue, payout)
        );
        assert_eq!(by_campaign.rows.len(), 4, "the demo configuration's four campaigns");
        assert!(by_campaign.rows.iter().all(|row| row.keys["campaign_name"].is_string()));
        let t = &by_campaign.totals;
        assert!(t.connected > 2_000 && t.converted > 800 && t.duplicates > 100, "{t:?}");
        assert!(t.bids > t.calls && t.bids_won == t.connected && t.pings >= t.bids, "{t:?}");

        // DNI-like tags pivot: every call has a source, and the pivot covers them all.
        let by_source = report(&db, org, &[("group_by", "tag.utm_source")]).await;
        assert_eq!(by_source.totals.calls, 3_000);
        assert!(by_source.rows.iter().all(|row| row.keys["tag.utm_source"].is_string()));
        assert_eq!(by_source.rows.len(), 4);
        let by_state = report(&db, org, &[("group_by", "caller_state")]).await;
        assert!(by_state.rows.len() >= 8);
        totals.push(by_campaign.totals);
    }
    // The same seed gives the same calls on either backend.
    assert!(totals.windows(2).all(|pair| pair[0] == pair[1]), "{totals:?}");
}

#[tokio::test]
async fn seeding_an_unknown_organization_is_refused() {
    for (_test_db, db) in migrated_databases().await {
        let org = OrgId(uuid::Uuid::now_v7());
        let error = seed(&db, Seeding { org, calls: 10, days: 1, seed: 1 }).await.unwrap_err();
        assert_eq!(error.to_string(), format!("no organization has the id {org}"));
    }
}

#[tokio::test]
async fn a_tracking_number_drawn_twice_in_one_organization_is_drawn_again() {
    use rand::{Rng, SeedableRng, rngs::StdRng};
    use serde_json::json;

    use super::world::{make, tracking_number};
    use crate::network::campaigns::Campaign;

    for (_test_db, db) in migrated_databases().await {
        let org = create_with_owner(
            &db,
            "Demo",
            "o@demo.example",
            "Qz8-long-pass-Wx4",
            Creator::Operator,
        )
        .await
        .unwrap()
        .org;
        let campaign = json!({"name": "Auto", "time_zone": "UTC"});
        let campaign = make::<Campaign>(&db, org, campaign).await.unwrap().id;
        let publisher = json!({"name": "Pub", "payout": {"kind": "percent", "percent": 50}});
        let publisher =
            make::<crate::network::publishers::Publisher>(&db, org, publisher).await.unwrap().id;
        let mut rng = StdRng::seed_from_u64(3);
        // The number the next draw gives is the organization's already.
        let mut peek = rng.clone();
        let area = super::world::AREA_CODES[peek.random_range(0..super::world::AREA_CODES.len())];
        let first = format!("+1{area}55501{:02}", peek.random_range(0..100));
        let held = json!({"number": first, "campaign_id": campaign});
        make::<crate::network::numbers::Number>(&db, org, held).await.unwrap();

        tracking_number(&db, org, campaign, publisher, None, &mut rng).await.unwrap();
        let count: i64 = with_pool!(&db, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM numbers WHERE organization_id = $1")
                .bind(org)
                .fetch_one(pool)
                .await
        })
        .unwrap();
        assert_eq!(count, 2, "{:?}", db.backend());
    }
}
