//! The call log as CSV (`GET /api/v1/calls?format=csv`): every call the filter matches,
//! newest first, read and written a page at a time, so a file of any size streams
//! without being held whole.

use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt, stream};
use uuid::Uuid;

use super::{keys::Names, request::Group};
use crate::{
    accounts::OrgId,
    calls::query::{self, CallView, Filter},
    csv,
    db::Db,
    time::rfc3339,
};

/// Calls read per query: large enough that a query's overhead is small beside its rows.
const PAGE: i64 = 5_000;

pub const COLUMNS: [&str; 27] = [
    "id",
    "started_at",
    "answered_at",
    "ended_at",
    "campaign_id",
    "campaign_name",
    "publisher_id",
    "publisher_name",
    "buyer_id",
    "buyer_name",
    "target_id",
    "target_name",
    "caller",
    "dialed",
    "status",
    "end_reason",
    "sip_status",
    "ring_seconds",
    "talk_seconds",
    "converted",
    "duplicate",
    "bid_cents",
    "buffer_seconds",
    "revenue_cents",
    "payout_cents",
    "profit_cents",
    "tags",
];

/// The CSV's bytes: the header, then a chunk per page. Names are read before the first
/// byte, so a database that cannot answer fails the request rather than the file.
pub async fn csv(
    db: Db,
    org: OrgId,
    filter: Filter,
) -> Result<impl Stream<Item = Result<Bytes, sqlx::Error>>, sqlx::Error> {
    let groups = [Group::Campaign, Group::Publisher, Group::Buyer, Group::Target];
    let names = Arc::new(Names::load(&db, org, &groups).await?);
    let header = Bytes::from(csv::row(COLUMNS));
    let pages = stream::try_unfold(Some(None), move |next: Option<Option<Uuid>>| {
        let (db, filter) = (db.clone(), filter.clone());
        let names = names.clone();
        async move {
            let Some(after) = next else { return Ok(None) };
            let calls = query::list(&db, org, &filter, after, PAGE).await?;
            if calls.is_empty() {
                return Ok(None);
            }
            let next = (calls.len() as i64 == PAGE).then(|| calls.last().map(|c| c.id));
            let mut chunk = String::with_capacity(calls.len() * 320);
            for call in &calls {
                chunk.push_str(&line(call, &names));
            }
            Ok(Some((Bytes::from(chunk), next)))
        }
    });
    Ok(stream::once(async { Ok(header) }).chain(pages))
}

fn line(call: &CallView, names: &Names) -> String {
    let id = |id: Option<Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
    let name = |id: Option<Uuid>| id.and_then(|id| names.get(id)).unwrap_or_default().to_owned();
    let number = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    let time = |at: Option<chrono::DateTime<chrono::Utc>>| at.map(rfc3339).unwrap_or_default();
    let tags = if call.tags.is_empty() {
        String::new()
    } else {
        serde_json::to_string(&call.tags).unwrap_or_default()
    };
    csv::row([
        call.id.to_string(),
        rfc3339(call.started_at),
        time(call.answered_at),
        time(call.ended_at),
        call.campaign_id.to_string(),
        name(Some(call.campaign_id)),
        id(call.publisher_id),
        name(call.publisher_id),
        id(call.buyer_id),
        name(call.buyer_id),
        id(call.target_id),
        name(call.target_id),
        call.caller.clone().unwrap_or_default(),
        call.dialed.clone(),
        call.status.as_str().to_owned(),
        call.end_reason.clone().unwrap_or_default(),
        number(call.sip_status),
        number(call.ring_seconds),
        number(call.talk_seconds),
        call.converted.to_string(),
        call.duplicate.to_string(),
        number(call.bid_cents),
        number(call.buffer_seconds),
        call.revenue_cents.to_string(),
        call.payout_cents.to_string(),
        call.profit_cents.to_string(),
        tags,
    ])
}
