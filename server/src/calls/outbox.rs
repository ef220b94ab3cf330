//! The outbox: what the call recorder says happened, for webhooks, written in the same
//! transaction as the change itself (see [`crate::calls::writer`]), so no recorded change
//! loses its events and no event reports a change that was not recorded. The webhook
//! dispatcher reads it back (`webhook_events`); the calls write it.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{BidRow, CallRow, query::CallView};
use crate::{accounts::OrgId, webhooks::Event};

/// One event about one call, with the call as it was then.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Notice {
    pub id: Uuid,
    pub org: OrgId,
    pub call: Uuid,
    /// The event's place among the call's events, from 0.
    pub seq: i64,
    pub event: Event,
    pub at: DateTime<Utc>,
    /// `{"call": …}` as the API shows calls, and `"bid"` for `bid.won`.
    pub payload: Value,
}

impl Notice {
    /// `event` about the call `row` describes now.
    pub fn of(event: Event, row: &CallRow, seq: i64, bid: Option<&BidRow>) -> Notice {
        let mut payload = json!({ "call": CallView::from(row) });
        if let Some(bid) = bid {
            payload["bid"] = json!(bid);
        }
        Notice {
            id: Uuid::now_v7(),
            org: row.org,
            call: row.id,
            seq,
            event,
            at: Utc::now(),
            payload,
        }
    }
}

/// The place of a call's next event in the outbox (binds the call), for events added
/// after the recorder let the call go (postbacks, orphan recovery).
pub const NEXT_SEQ: &str =
    "SELECT COALESCE(MAX(seq) + 1, 0) FROM webhook_events WHERE call_id = $1";

/// Inserts a [`Notice`] into the outbox with any executor (in the transaction that
/// records the change it reports). A notice already there (the same call and place) is
/// kept as it was: the writer may write a batch twice after a failed commit.
macro_rules! insert_notice {
    ($executor:expr, $notice:expr) => {{
        let notice: &$crate::calls::outbox::Notice = $notice;
        sqlx::query(
            "INSERT INTO webhook_events (id, organization_id, call_id, seq, event, at, payload) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (call_id, seq) DO NOTHING",
        )
        .bind(notice.id)
        .bind(notice.org)
        .bind(notice.call)
        .bind(notice.seq)
        .bind(notice.event.as_str())
        .bind(notice.at)
        .bind(sqlx::types::Json(&notice.payload))
        .execute($executor)
        .await
        .map(drop)
    }};
}
pub(crate) use insert_notice;
