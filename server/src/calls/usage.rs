//! A finished call's usage, for billing (`usage_records`, see `billing::ledger`):
//! - call minutes: the time from the buyer's answer to the end of the call, rounded up
//!   to the whole minute (61 s is 2 minutes); an unanswered call has none. A call its
//!   node left open is closed as interrupted, and billed to when its node was last heard
//!   from.
//! - RTB pings: the pings actually sent in the call's auction (a standing bid reused by
//!   the ping shield is not a ping).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{CallRow, Status};
use crate::{accounts::OrgId, billing::Meter};

/// Billable minutes of a finished call.
pub fn call_minutes(row: &CallRow) -> i64 {
    let answered_ms = row.talk_ms.or_else(|| {
        let (answered, ended) = (row.answered_at?, row.ended_at?);
        Some((ended - answered).num_milliseconds())
    });
    let minutes = answered_ms.filter(|ms| *ms > 0).map_or(0, |ms| (ms + 59_999) / 60_000);
    // An answered call its node left open was talked on, however little its node saw of it.
    if row.status == Status::Interrupted && row.answered_at.is_some() {
        minutes.max(1)
    } else {
        minutes
    }
}

/// One usage record of a finished call.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Usage {
    pub id: Uuid,
    pub org: OrgId,
    pub meter: Meter,
    pub quantity: i64,
    pub source: String,
    pub at: DateTime<Utc>,
}

/// The usage of a finished call: its minutes talked, and the buyers `pings` pinged for
/// it (reused standing bids not counted). Occurs when the call ended (`now` if it has
/// no end yet).
pub fn call_usage(
    call: &CallRow,
    pings: i64,
    now: DateTime<Utc>,
) -> impl Iterator<Item = Usage> + '_ {
    let at = call.ended_at.unwrap_or(now);
    [(Meter::CallMinutes, call_minutes(call)), (Meter::RtbPings, pings)]
        .into_iter()
        .filter(|(_, quantity)| *quantity > 0)
        .map(move |(meter, quantity)| Usage {
            id: Uuid::now_v7(),
            org: call.org,
            meter,
            quantity,
            source: call.id.to_string(),
            at,
        })
}

/// Writes a finished call's usage ([`call_usage`], its pings counted from its bids) with
/// any executor, in the transaction that writes its final row. Writing it again changes
/// nothing. (The call records writer writes the usage of the calls it finishes itself,
/// from what the recorder knows.)
macro_rules! record_call_usage {
    ($executor:expr, $row:expr, $now:expr) => {{
        let row: &$crate::calls::CallRow = $row;
        let now: chrono::DateTime<chrono::Utc> = $now;
        async {
            let pings: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM bids WHERE call_id = $1 AND pinged_at IS NOT NULL AND NOT reused",
            )
            .bind(row.id)
            .fetch_one(&mut *$executor)
            .await?;
            for usage in $crate::calls::usage::call_usage(row, pings, now) {
                sqlx::query($crate::billing::ledger::INSERT)
                    .bind(usage.id)
                    .bind(usage.org)
                    .bind(usage.meter.as_str())
                    .bind(usage.quantity)
                    .bind(&usage.source)
                    .bind(usage.at)
                    .bind(now)
                    .execute(&mut *$executor)
                    .await?;
            }
            Ok::<(), sqlx::Error>(())
        }
        .await
    }};
}
pub(crate) use record_call_usage;

#[cfg(test)]
mod tests {
    use super::*;

    fn call(answered_s: Option<i64>, talk_ms: Option<i64>) -> CallRow {
        let start = Utc::now();
        CallRow {
            id: Uuid::now_v7(),
            org: OrgId(Uuid::now_v7()),
            node_id: Uuid::now_v7(),
            campaign_id: Uuid::now_v7(),
            publisher_id: None,
            number_id: None,
            inbound_trunk_id: None,
            buyer_id: None,
            target_id: None,
            caller: None,
            caller_anonymous: false,
            dialed: "+15550000000".into(),
            sip_call_id: "x".into(),
            status: Status::Completed,
            end_reason: None,
            sip_status: None,
            started_at: start,
            answered_at: answered_s.map(|_| start),
            ended_at: answered_s.map(|s| start + chrono::Duration::seconds(s)),
            ring_ms: None,
            talk_ms,
            duplicate: false,
            bid_cents: None,
            buffer_seconds: None,
            converted: false,
            revenue_cents: 0,
            payout_cents: 0,
            tags: Default::default(),
        }
    }

    #[test]
    fn answered_time_is_rounded_up_to_the_whole_minute() {
        assert_eq!(call_minutes(&call(Some(1), Some(1))), 1);
        assert_eq!(call_minutes(&call(Some(60), Some(60_000))), 1);
        assert_eq!(call_minutes(&call(Some(61), Some(60_001))), 2);
        assert_eq!(call_minutes(&call(Some(3600), Some(3_600_000))), 60);
    }

    #[test]
    fn an_unanswered_call_bills_nothing() {
        assert_eq!(call_minutes(&call(None, None)), 0);
        assert_eq!(call_minutes(&call(Some(0), Some(0))), 0);
    }

    #[test]
    fn an_interrupted_call_is_billed_to_when_it_was_closed_and_at_least_a_minute() {
        let mut row = call(Some(150), None);
        row.status = Status::Interrupted;
        assert_eq!(call_minutes(&row), 3);
        let mut unseen = call(Some(0), None);
        unseen.status = Status::Interrupted;
        assert_eq!(call_minutes(&unseen), 1);
    }
}
