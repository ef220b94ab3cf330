//! What the Billing page and `GET /api/v1/billing` show: the subscription's status, and
//! this period's usage by meter, counted as Stripe counts it (records by the time they
//! occurred, within the subscription's current period).

use chrono::{DateTime, Datelike, TimeZone, Utc};

use super::{
    Billing,
    accounts::{self, Status},
    ledger::{self, MeterUsage},
};
use crate::{accounts::OrgId, db::Db};

#[derive(Clone, Debug, serde::Serialize)]
pub struct Summary {
    /// Whether this server bills through Stripe at all.
    pub enabled: bool,
    pub status: Status,
    pub stripe_status: Option<String>,
    pub subscribed: bool,
    #[serde(serialize_with = "crate::time::serialize_optional")]
    pub past_due_since: Option<DateTime<Utc>>,
    /// When new calls are (or will be) turned away, while past due.
    #[serde(serialize_with = "crate::time::serialize_optional")]
    pub calls_blocked_from: Option<DateTime<Utc>>,
    pub calls_blocked: bool,
    #[serde(serialize_with = "crate::time::serialize")]
    pub period_start: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize")]
    pub period_end: DateTime<Utc>,
    pub usage: Vec<MeterUsage>,
}

pub async fn of(
    db: &Db,
    billing: &Billing,
    org: OrgId,
    now: DateTime<Utc>,
) -> Result<Summary, sqlx::Error> {
    let account = accounts::get(db, org).await?;
    let (period_start, period_end) = match (account.period_start, account.period_end) {
        (Some(start), Some(end)) if start <= now && now < end => (start, end),
        _ => calendar_month(now),
    };
    let usage = ledger::usage(db, org, period_start, period_end).await?;
    let calls_blocked_from =
        if billing.enabled() { account.calls_blocked_from(billing.grace) } else { None };
    Ok(Summary {
        enabled: billing.enabled(),
        status: account.status,
        stripe_status: account.stripe_status,
        subscribed: account.subscription_id.is_some() && account.status != Status::Canceled,
        past_due_since: account.past_due_since,
        calls_blocked: calls_blocked_from.is_some_and(|from| from <= now),
        calls_blocked_from,
        period_start,
        period_end,
        usage,
    })
}

/// The UTC calendar month around `now`: the period shown before Stripe names one.
fn calendar_month(now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = Utc.with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0).single().unwrap_or(now);
    let (year, month) =
        if now.month() == 12 { (now.year() + 1, 1) } else { (now.year(), now.month() + 1) };
    let end = Utc.with_ymd_and_hms(year, month, 1, 0, 0, 0).single().unwrap_or(now);
    (start, end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_subscription_the_period_is_the_utc_month() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 18, 0, 0).unwrap();
        let (start, end) = calendar_month(now);
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap());
        assert_eq!(end, Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap());
    }
}
