//! The usage ledger (`usage_records`): append-only, one row per meter and source (a
//! call, or a number on a day), so writing the same usage twice records it once.
//!
//! The rules, as the README states them:
//! - call minutes and RTB pings: written with each finished call (`calls::usage`).
//! - number-days: each active tracking number once per UTC day, counted every hour.

use std::time::Duration;

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::Meter;
use crate::{
    accounts::OrgId,
    db::{Db, with_pool},
};

/// Inserts one record (binds id, organization, meter, quantity, source, occurred_at,
/// recorded_at); a record of the same meter and source already there is kept.
pub const INSERT: &str = "INSERT INTO usage_records (id, organization_id, meter, quantity, \
    source, occurred_at, recorded_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
    ON CONFLICT (meter, source) DO NOTHING";

/// Records today's number-days: one for each active number not yet counted today.
pub async fn count_number_days(db: &Db, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let day = now.date_naive();
    with_pool!(db, pool => {
        let numbers: Vec<(Uuid, OrgId)> =
            // In id order, so nodes counting at once lock rows in the same order.
            sqlx::query_as("SELECT id, organization_id FROM numbers WHERE status = 'active' ORDER BY id")
                .fetch_all(pool)
                .await?;
        let mut tx = pool.begin().await?;
        let mut added = 0;
        for (number, org) in numbers {
            added += sqlx::query(INSERT)
                .bind(Uuid::now_v7())
                .bind(org)
                .bind(Meter::NumberDays.as_str())
                .bind(1_i64)
                .bind(number_day(number, day))
                .bind(now)
                .bind(now)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }
        tx.commit().await?;
        Ok(added)
    })
}

fn number_day(number: Uuid, day: NaiveDate) -> String {
    format!("{number}/{day}")
}

/// How often number-days are counted: a number active at any count is billed that day.
const NUMBER_DAYS_EVERY: Duration = Duration::from_secs(3600);

/// Counts number-days at start and every hour (every node may: the count is idempotent).
pub fn spawn_number_days(db: Db, tasks: &crate::tasks::Tasks) {
    tasks.spawn("number days", async move {
        let mut tick = tokio::time::interval(NUMBER_DAYS_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match count_number_days(&db, Utc::now()).await {
                Ok(0) => {}
                Ok(added) => tracing::debug!(added, "counted number-days"),
                Err(error) => tracing::warn!(%error, "could not count number-days"),
            }
        }
    });
}

/// One meter's usage in a period, and how much of it Stripe has accepted.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct MeterUsage {
    pub meter: Meter,
    pub quantity: i64,
    /// Of `quantity`, what Stripe has accepted.
    pub reported: i64,
}

/// Usage by meter of records that occurred in [from, to): what Stripe bills for a period
/// once every record is reported.
pub async fn usage(
    db: &Db,
    org: OrgId,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<MeterUsage>, sqlx::Error> {
    let rows: Vec<(String, i64, i64)> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT meter, CAST(SUM(quantity) AS BIGINT), \
             CAST(SUM(CASE WHEN sent_at IS NULL THEN 0 ELSE quantity END) AS BIGINT) \
             FROM usage_records WHERE organization_id = $1 AND occurred_at >= $2 AND occurred_at < $3 \
             GROUP BY meter",
        )
        .bind(org)
        .bind(from)
        .bind(to)
        .fetch_all(pool)
        .await
    })?;
    Ok(Meter::ALL
        .into_iter()
        .map(|meter| {
            let (quantity, reported) = rows
                .iter()
                .find(|(name, ..)| name == meter.as_str())
                .map_or((0, 0), |(_, quantity, reported)| (*quantity, *reported));
            MeterUsage { meter, quantity, reported }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_counted_once_a_day() {
        let number = Uuid::now_v7();
        let day = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert_eq!(number_day(number, day), format!("{number}/2026-12-03"));
    }
}
