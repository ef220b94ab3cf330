//! A buyer's report on a call it took: converted or not, and what it pays. The call is
//! named by id, or by caller and time (within a window, nearest first), and must be one
//! the key's buyer answered. The change, its entry in the call's timeline and its webhook
//! events are written in one transaction.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::json;
use sqlx::types::Json;
use uuid::Uuid;

use super::keys::Holder;
use crate::calls::outbox::{self, Notice, insert_notice};
use crate::{
    calls::{CallRow, money, query::CallRecord, rollups},
    db::{Db, with_pool},
    e164::E164,
    network::{
        campaigns::Campaign,
        publishers::{Payout, Publisher},
        resource,
    },
    webhooks::Event,
};

const DEFAULT_WINDOW_MINUTES: i64 = 60;
const MAX_WINDOW_MINUTES: i64 = 7 * 24 * 60;
/// No call is worth more than this ($100,000): a larger figure is a mistake.
const MAX_REVENUE_CENTS: i64 = 10_000_000;

/// A postback, as a JSON body or as query parameters.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub call_id: Option<String>,
    /// With `at`: the caller's number, any common spelling.
    pub caller: Option<String>,
    /// RFC 3339: when the call was, give or take `window_minutes` (default 60).
    pub at: Option<String>,
    pub window_minutes: Option<i64>,
    pub converted: Option<bool>,
    pub revenue_cents: Option<i64>,
}

#[derive(Debug, thiserror::Error)]
pub enum PostbackError {
    #[error("invalid {field}: {message}")]
    Invalid { field: &'static str, message: String },
    /// No call of this buyer matches (another organization's calls included).
    #[error("no call of this buyer matches")]
    NotFound,
    #[error("the call is still in progress: report it once it has ended")]
    Live,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

fn invalid(field: &'static str, message: impl Into<String>) -> PostbackError {
    PostbackError::Invalid { field, message: message.into() }
}

/// What the call is after the report, as its buyer may see it: never the publisher's
/// payout, which is the network's business (its margin is revenue less payout).
#[derive(Debug, serde::Serialize)]
pub struct Reported {
    pub call_id: Uuid,
    pub converted: bool,
    pub revenue_cents: i64,
    /// False when the call already was so (the report is recorded all the same).
    pub changed: bool,
}

/// Applies `report` from the key's holder.
pub async fn apply(db: &Db, holder: &Holder, report: Report) -> Result<Reported, PostbackError> {
    if report.converted.is_none() && report.revenue_cents.is_none() {
        return Err(invalid("converted", "say converted (true or false), revenue_cents, or both"));
    }
    if let Some(cents) = report.revenue_cents
        && !(0..=MAX_REVENUE_CENTS).contains(&cents)
    {
        return Err(invalid("revenue_cents", format!("must be 0 to {MAX_REVENUE_CENTS}")));
    }
    let call = find(db, holder, &report).await?;
    let rule = PayoutRule::of(db, holder, call).await?;
    let now = Utc::now();
    // The row is written first, so a second report on the same call waits for this one
    // and reads what it left.
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE calls SET converted = converted WHERE id = $1").bind(call).execute(&mut *tx).await?;
        let record: CallRecord = sqlx::query_as("SELECT * FROM calls WHERE id = $1").bind(call).fetch_one(&mut *tx).await?;
        let row = CallRow::from(record);
        if row.status.is_live() {
            return Err(PostbackError::Live);
        }
        let after = adjusted(&row, &report, rule.as_ref());
        let changed = (after.converted, after.revenue_cents, after.payout_cents)
            != (row.converted, row.revenue_cents, row.payout_cents);
        let detail = json!({
            "buyer_id": holder.buyer,
            "key_prefix": holder.key_prefix,
            "converted": {"before": row.converted, "after": after.converted},
            "revenue_cents": {"before": row.revenue_cents, "after": after.revenue_cents},
            "payout_cents": {"before": row.payout_cents, "after": after.payout_cents},
        });
        let mut events = Vec::new();
        if changed {
            events.push(Event::CallAdjusted);
            if after.converted && !row.converted {
                events.push(Event::CallConverted);
            }
        }
        sqlx::query("UPDATE calls SET converted = $1, revenue_cents = $2, payout_cents = $3 WHERE id = $4")
            .bind(after.converted)
            .bind(after.revenue_cents)
            .bind(after.payout_cents)
            .bind(call)
            .execute(&mut *tx)
            .await?;
        rollups::adjust((&mut *tx).into(), &row, &after).await?;
        let next_seq: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq) + 1, 0) FROM call_events WHERE call_id = $1")
            .bind(call)
            .fetch_one(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO call_events (call_id, seq, at, kind, detail) VALUES ($1, $2, $3, 'postback', $4)")
            .bind(call)
            .bind(next_seq)
            .bind(now)
            .bind(Json(&detail))
            .execute(&mut *tx)
            .await?;
        let first_notice: i64 = sqlx::query_scalar(outbox::NEXT_SEQ)
            .bind(call)
            .fetch_one(&mut *tx)
            .await?;
        for (i, event) in events.iter().enumerate() {
            let notice = Notice::of(*event, &after, first_notice + i as i64, None);
            insert_notice!(&mut *tx, &notice)?;
        }
        tx.commit().await?;
        Ok(Reported {
            call_id: call,
            converted: after.converted,
            revenue_cents: after.revenue_cents,
            changed,
        })
    })
}

/// The call as the report leaves it. Revenue: the reported figure; else none when not
/// converted; else what it earned, or its winning bid when it had not converted.
fn adjusted(row: &CallRow, report: &Report, rule: Option<&PayoutRule>) -> CallRow {
    let converted = report.converted.unwrap_or(row.converted);
    let revenue_cents = match (report.revenue_cents, converted) {
        (Some(cents), _) => cents,
        (None, false) => 0,
        (None, true) if row.converted => row.revenue_cents,
        (None, true) => row.bid_cents.unwrap_or(0).max(0),
    };
    let payout_cents = match rule {
        Some(rule) => {
            let paid = row.talk_ms.unwrap_or(0) >= rule.buffer_seconds.saturating_mul(1000)
                && (!row.duplicate || rule.pays_duplicates);
            money::payout_cents(Some(rule.payout), paid, revenue_cents)
        }
        None => row.payout_cents,
    };
    CallRow { converted, revenue_cents, payout_cents, ..row.clone() }
}

/// The call the report names, among the holder's buyer's calls.
async fn find(db: &Db, holder: &Holder, report: &Report) -> Result<Uuid, PostbackError> {
    if let Some(text) = &report.call_id {
        let id: Uuid = text.trim().parse().map_err(|_| PostbackError::NotFound)?;
        let found: Option<Uuid> = with_pool!(db, pool => {
            sqlx::query_scalar("SELECT id FROM calls WHERE organization_id = $1 AND buyer_id = $2 AND id = $3")
                .bind(holder.org)
                .bind(holder.buyer)
                .bind(id)
                .fetch_optional(pool)
                .await
        })?;
        return found.ok_or(PostbackError::NotFound);
    }
    let (Some(caller), Some(at)) = (&report.caller, &report.at) else {
        return Err(invalid("call_id", "name the call by call_id, or by caller and at"));
    };
    let caller = E164::parse(caller).map_err(|problem| invalid("caller", problem))?;
    let at: DateTime<Utc> = DateTime::parse_from_rfc3339(at.trim())
        .map_err(|_| invalid("at", "must be an RFC 3339 time, such as 2026-12-03T14:05:00Z"))?
        .with_timezone(&Utc);
    let window = report.window_minutes.unwrap_or(DEFAULT_WINDOW_MINUTES);
    if !(1..=MAX_WINDOW_MINUTES).contains(&window) {
        return Err(invalid("window_minutes", format!("must be 1 to {MAX_WINDOW_MINUTES}")));
    }
    let window = chrono::Duration::minutes(window);
    let candidates: Vec<(Uuid, DateTime<Utc>)> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT id, started_at FROM calls WHERE organization_id = $1 AND buyer_id = $2 AND caller = $3 \
             AND started_at >= $4 AND started_at <= $5",
        )
        .bind(holder.org)
        .bind(holder.buyer)
        .bind(caller.as_str())
        .bind(at - window)
        .bind(at + window)
        .fetch_all(pool)
        .await
    })?;
    candidates
        .into_iter()
        .min_by_key(|(_, started)| (*started - at).abs())
        .map(|(id, _)| id)
        .ok_or(PostbackError::NotFound)
}

/// How the call's publisher is paid, by its rule now: a share follows the revenue, a
/// fixed payout stands; nothing unless the call reached the publisher's buffer (and is not
/// an unpaid duplicate), as when it was settled. `None` (no publisher, or one deleted
/// since): what was settled stands.
struct PayoutRule {
    payout: Payout,
    buffer_seconds: i64,
    pays_duplicates: bool,
}

impl PayoutRule {
    async fn of(db: &Db, holder: &Holder, call: Uuid) -> Result<Option<PayoutRule>, sqlx::Error> {
        // Who published the call and on which campaign never changes.
        let (publisher, campaign): (Option<Uuid>, Uuid) = with_pool!(db, pool => {
            sqlx::query_as("SELECT publisher_id, campaign_id FROM calls WHERE organization_id = $1 AND id = $2")
                .bind(holder.org)
                .bind(call)
                .fetch_one(pool)
                .await
        })?;
        let Some(publisher) = publisher else { return Ok(None) };
        let Ok(publisher) = resource::get::<Publisher>(db, holder.org, publisher).await else {
            return Ok(None);
        };
        let buffer_seconds = match publisher.conversion_buffer_seconds {
            Some(seconds) => seconds,
            None => match resource::get::<Campaign>(db, holder.org, campaign).await {
                Ok(campaign) => campaign.conversion_buffer_seconds,
                Err(_) => return Ok(None),
            },
        };
        Ok(Some(PayoutRule {
            payout: publisher.payout,
            buffer_seconds,
            pays_duplicates: publisher.pay_duplicates,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{accounts::OrgId, calls::Status};

    fn call(talk_ms: i64, converted: bool, revenue_cents: i64) -> CallRow {
        CallRow {
            id: Uuid::now_v7(),
            org: OrgId(Uuid::now_v7()),
            node_id: Uuid::now_v7(),
            campaign_id: Uuid::now_v7(),
            publisher_id: Some(Uuid::now_v7()),
            number_id: None,
            inbound_trunk_id: None,
            buyer_id: Some(Uuid::now_v7()),
            target_id: Some(Uuid::now_v7()),
            caller: Some("+12125550123".into()),
            caller_anonymous: false,
            dialed: "+18005550100".into(),
            sip_call_id: "x".into(),
            status: Status::Completed,
            end_reason: None,
            sip_status: None,
            started_at: Utc::now(),
            answered_at: Some(Utc::now()),
            ended_at: Some(Utc::now()),
            ring_ms: Some(1000),
            talk_ms: Some(talk_ms),
            duplicate: false,
            bid_cents: Some(3000),
            buffer_seconds: Some(60),
            converted,
            revenue_cents,
            payout_cents: 0,
            tags: Default::default(),
        }
    }

    fn report(converted: Option<bool>, revenue_cents: Option<i64>) -> Report {
        Report { converted, revenue_cents, ..Report::default() }
    }

    const HALF: PayoutRule = PayoutRule {
        payout: Payout::Percent { basis_points: 5000 },
        buffer_seconds: 30,
        pays_duplicates: false,
    };

    #[test]
    fn a_sale_earns_the_winning_bid_unless_a_figure_is_given_and_a_share_follows() {
        let after = adjusted(&call(45_000, false, 0), &report(Some(true), None), Some(&HALF));
        assert_eq!((after.converted, after.revenue_cents, after.payout_cents), (true, 3000, 1500));
        let after = adjusted(&call(45_000, true, 3000), &report(None, Some(2200)), Some(&HALF));
        assert_eq!((after.converted, after.revenue_cents, after.payout_cents), (true, 2200, 1100));
        let after = adjusted(&call(45_000, true, 3000), &report(Some(false), None), Some(&HALF));
        assert_eq!((after.converted, after.revenue_cents, after.payout_cents), (false, 0, 0));
    }

    #[test]
    fn a_publisher_is_paid_only_past_its_buffer_and_without_a_rule_nothing_moves() {
        let short = adjusted(&call(10_000, false, 0), &report(Some(true), None), Some(&HALF));
        assert_eq!((short.revenue_cents, short.payout_cents), (3000, 0));
        let mut settled = call(45_000, false, 0);
        settled.payout_cents = 400;
        let kept = adjusted(&settled, &report(Some(true), Some(5000)), None);
        assert_eq!((kept.revenue_cents, kept.payout_cents), (5000, 400));
    }
}
