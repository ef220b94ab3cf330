//! The call log as CSV (`GET /api/v1/calls?format=csv`): every call the filter matches,
//! newest first, read and written a page at a time, so a file of any size streams
//! without being held whole.

use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt, stream};
use tokio::sync::mpsc;
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
/// byte, so a database that cannot answer fails the request rather than the file. A task
/// reads the next page while the last one is written out (reading and writing each take
/// about half the time), and stops when the client goes away.
pub async fn csv(
    db: Db,
    org: OrgId,
    filter: Filter,
) -> Result<impl Stream<Item = Result<Bytes, sqlx::Error>>, sqlx::Error> {
    paged(db, org, filter, PAGE).await
}

async fn paged(
    db: Db,
    org: OrgId,
    filter: Filter,
    page: i64,
) -> Result<impl Stream<Item = Result<Bytes, sqlx::Error>>, sqlx::Error> {
    let groups = [Group::Campaign, Group::Publisher, Group::Buyer, Group::Target];
    let names = Arc::new(Names::load(&db, org, &groups).await?);
    let header = Bytes::from(csv::row(COLUMNS));
    let (pages, received) = mpsc::channel::<Result<Vec<Line>, sqlx::Error>>(1);
    tokio::spawn(async move {
        let mut after = None;
        loop {
            let lines = lines(&db, org, &filter, after, page).await;
            let next = match &lines {
                Ok(lines) if lines.len() as i64 == page => lines.last().map(|l| l.id),
                _ => None,
            };
            if pages.send(lines).await.is_err() || next.is_none() {
                return;
            }
            after = next;
        }
    });
    let chunks = stream::unfold(received, move |mut received| {
        let names = names.clone();
        async move {
            let page = received.recv().await?;
            let chunk = page.map(|lines| {
                let mut chunk = String::with_capacity(lines.len() * 640);
                for line in &lines {
                    line.write(&mut chunk, &names);
                }
                Bytes::from(chunk)
            });
            Some((chunk, received))
        }
    });
    Ok(stream::once(async { Ok(header) }).chain(chunks))
}

/// A page of the call log as the file writes it.
async fn lines(
    db: &Db,
    org: OrgId,
    filter: &Filter,
    after: Option<Uuid>,
    page: i64,
) -> Result<Vec<Line>, sqlx::Error> {
    match db {
        Db::Sqlite(pool) => {
            let json = query::list_as_json(pool, org, filter, after, page, Stored::ELEMENT).await?;
            let stored: Vec<Stored> = serde_json::from_str(&json)
                .map_err(|error| sqlx::Error::Decode(Box::new(error)))?;
            stored.into_iter().map(Line::try_from).collect()
        }
        Db::Postgres(_) => {
            Ok(query::list(db, org, filter, after, page).await?.iter().map(Line::from).collect())
        }
    }
}

/// A call's cells before they are made safe, in [`COLUMNS`]' order (names aside).
#[derive(Debug, PartialEq)]
struct Line {
    id: Uuid,
    started_at: String,
    answered_at: String,
    ended_at: String,
    campaign_id: Uuid,
    publisher_id: Option<Uuid>,
    buyer_id: Option<Uuid>,
    target_id: Option<Uuid>,
    caller: String,
    dialed: String,
    status: String,
    end_reason: String,
    sip_status: Option<i64>,
    ring_seconds: Option<i64>,
    talk_seconds: Option<i64>,
    converted: bool,
    duplicate: bool,
    bid_cents: Option<i64>,
    buffer_seconds: Option<i64>,
    revenue_cents: i64,
    payout_cents: i64,
    /// The tags as a JSON object; empty when there are none.
    tags: String,
}

impl From<&CallView> for Line {
    fn from(call: &CallView) -> Line {
        Line {
            id: call.id,
            started_at: rfc3339(call.started_at),
            answered_at: call.answered_at.map(rfc3339).unwrap_or_default(),
            ended_at: call.ended_at.map(rfc3339).unwrap_or_default(),
            campaign_id: call.campaign_id,
            publisher_id: call.publisher_id,
            buyer_id: call.buyer_id,
            target_id: call.target_id,
            caller: call.caller.clone().unwrap_or_default(),
            dialed: call.dialed.clone(),
            status: call.status.as_str().to_owned(),
            end_reason: call.end_reason.clone().unwrap_or_default(),
            sip_status: call.sip_status,
            ring_seconds: call.ring_seconds,
            talk_seconds: call.talk_seconds,
            converted: call.converted,
            duplicate: call.duplicate,
            bid_cents: call.bid_cents,
            buffer_seconds: call.buffer_seconds,
            revenue_cents: call.revenue_cents,
            payout_cents: call.payout_cents,
            tags: if call.tags.is_empty() {
                String::new()
            } else {
                serde_json::to_string(&call.tags).unwrap_or_default()
            },
        }
    }
}

/// A `calls` row as SQLite stores it, read from [`Stored::ELEMENT`]: ids in hex (`""` for
/// none), times and tags as the writer wrote them (RFC 3339; serde_json's object, keys
/// in order — the text [`Line::from`] a `CallView` writes), flags as 0 or 1.
#[derive(serde::Deserialize)]
struct Stored(
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    String,
    String,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    String,
);

impl Stored {
    const ELEMENT: &str = "json_array(lower(hex(id)), started_at, answered_at, ended_at, \
        lower(hex(campaign_id)), lower(hex(publisher_id)), lower(hex(buyer_id)), \
        lower(hex(target_id)), caller, dialed, status, end_reason, sip_status, ring_ms, talk_ms, \
        converted, duplicate, bid_cents, buffer_seconds, revenue_cents, payout_cents, tags)";
}

impl TryFrom<Stored> for Line {
    type Error = sqlx::Error;

    fn try_from(row: Stored) -> Result<Line, sqlx::Error> {
        let decode = |error: &dyn std::fmt::Display| {
            sqlx::Error::Decode(format!("a call row as JSON: {error}").into())
        };
        let id = |hex: &str| -> Result<Option<Uuid>, sqlx::Error> {
            match hex {
                "" => Ok(None),
                hex => Uuid::try_parse(hex).map(Some).map_err(|e| decode(&e)),
            }
        };
        let time = |text: &str| -> Result<String, sqlx::Error> {
            let at = chrono::DateTime::parse_from_rfc3339(text).map_err(|e| decode(&e))?;
            Ok(rfc3339(at.to_utc()))
        };
        let optional_time = |text: Option<String>| match text {
            Some(text) => time(&text),
            None => Ok(String::new()),
        };
        let required = |id: Option<Uuid>| id.ok_or_else(|| decode(&"an id is missing"));
        let Stored(
            call,
            started_at,
            answered_at,
            ended_at,
            campaign,
            publisher,
            buyer,
            target,
            caller,
            dialed,
            status,
            end_reason,
            sip_status,
            ring_ms,
            talk_ms,
            converted,
            duplicate,
            bid_cents,
            buffer_seconds,
            revenue_cents,
            payout_cents,
            tags,
        ) = row;
        Ok(Line {
            id: required(id(&call)?)?,
            started_at: time(&started_at)?,
            answered_at: optional_time(answered_at)?,
            ended_at: optional_time(ended_at)?,
            campaign_id: required(id(&campaign)?)?,
            publisher_id: id(&publisher)?,
            buyer_id: id(&buyer)?,
            target_id: id(&target)?,
            caller: caller.unwrap_or_default(),
            dialed,
            status,
            end_reason: end_reason.unwrap_or_default(),
            sip_status,
            ring_seconds: ring_ms.map(|ms| ms / 1000),
            talk_seconds: talk_ms.map(|ms| ms / 1000),
            converted: converted != 0,
            duplicate: duplicate != 0,
            bid_cents,
            buffer_seconds,
            revenue_cents,
            payout_cents,
            tags: if tags == "{}" { String::new() } else { tags },
        })
    }
}

impl Line {
    /// Appends the line to `out`, names beside ids.
    fn write(&self, out: &mut String, names: &Names) {
        let mut cells = Cells { out, scratch: String::new(), first: true };
        let id = |id: Option<Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
        let name = |id: Option<Uuid>| id.and_then(|id| names.get(id)).unwrap_or_default();
        cells.shown(self.id);
        cells.text(&self.started_at);
        cells.text(&self.answered_at);
        cells.text(&self.ended_at);
        cells.shown(self.campaign_id);
        cells.text(name(Some(self.campaign_id)));
        cells.text(&id(self.publisher_id));
        cells.text(name(self.publisher_id));
        cells.text(&id(self.buyer_id));
        cells.text(name(self.buyer_id));
        cells.text(&id(self.target_id));
        cells.text(name(self.target_id));
        cells.text(&self.caller);
        cells.text(&self.dialed);
        cells.text(&self.status);
        cells.text(&self.end_reason);
        cells.number(self.sip_status);
        cells.number(self.ring_seconds);
        cells.number(self.talk_seconds);
        cells.shown(self.converted);
        cells.shown(self.duplicate);
        cells.number(self.bid_cents);
        cells.number(self.buffer_seconds);
        cells.shown(self.revenue_cents);
        cells.shown(self.payout_cents);
        cells.shown(self.revenue_cents - self.payout_cents);
        cells.text(&self.tags);
        cells.out.push('\n');
    }
}

/// A line's cells, each made safe ([`csv::push_cell`]) as it is appended.
struct Cells<'a> {
    out: &'a mut String,
    scratch: String,
    first: bool,
}

impl Cells<'_> {
    fn text(&mut self, text: &str) {
        if !std::mem::take(&mut self.first) {
            self.out.push(',');
        }
        csv::push_cell(self.out, text);
    }

    fn shown(&mut self, value: impl std::fmt::Display) {
        use std::fmt::Write;
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.clear();
        let _ = write!(scratch, "{value}");
        self.text(&scratch);
        self.scratch = scratch;
    }

    fn number(&mut self, value: Option<i64>) {
        match value {
            Some(value) => self.shown(value),
            None => self.text(""),
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::TryStreamExt;

    use super::*;
    use crate::{
        accounts::orgs::{Creator, create_with_owner},
        db::testing::migrated_databases,
        demo::{Seeding, seed},
    };

    #[tokio::test]
    async fn every_call_is_written_once_newest_first_across_pages() {
        for (_test_db, db) in migrated_databases().await {
            let org = create_with_owner(
                &db,
                "Log",
                "owner@log.example",
                "Qz8-long-pass-Wx4",
                Creator::Operator,
            )
            .await
            .unwrap()
            .org;
            seed(&db, Seeding { org, calls: 12, days: 2, seed: 3 }).await.unwrap();
            // 12 calls in pages of 4: the last page is full, and the empty one after it ends
            // the file.
            let chunks: Vec<Bytes> = paged(db.clone(), org, Filter::default(), 4)
                .await
                .unwrap()
                .try_collect()
                .await
                .unwrap();
            let text = String::from_utf8(chunks.concat()).unwrap();
            let mut lines = text.lines();
            assert_eq!(lines.next().unwrap(), COLUMNS.join(","));
            let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
            assert_eq!(rows.len(), 12, "{text}");
            let ids: Vec<Uuid> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
            assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first, each once: {ids:?}");
            let listed = query::list(&db, org, &Filter::default(), None, 100).await.unwrap();
            for (row, call) in rows.iter().zip(&listed) {
                assert_eq!(row[0], call.id.to_string());
                assert!(!row[5].is_empty(), "the campaign's name beside its id: {row:?}");
                assert_eq!(row[14], call.status.as_str());
                assert_eq!(row[23], call.revenue_cents.to_string());
            }
            // SQLite's pages come as one JSON array each: the same lines as read row by row.
            if let Db::Sqlite(_) = db {
                let rows: Vec<Line> = listed.iter().map(Line::from).collect();
                let json = super::lines(&db, org, &Filter::default(), None, 100).await.unwrap();
                assert_eq!(json, rows);
                assert!(rows.iter().any(|l| !l.tags.is_empty() && !l.answered_at.is_empty()));
            }
        }
    }
}
