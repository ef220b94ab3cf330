//! The Overview's guided setup: progress read from the configuration as saved (a step
//! is ticked as soon as its form is), and test calls placed from Bidline's own phone
//! through the SIP edge, as a carrier's call would arrive.

use std::collections::BTreeSet;
use std::sync::Mutex;
use std::time::Duration;

use bidline_app::{
    errors::AppError,
    setup::{SetupNumber, SetupProgress, TestCallResult},
};
use bidline_telephony::phone::{Outcome, Side};
use uuid::Uuid;

use super::{caller, internal, member};
use crate::{
    accounts::{OrgId, Permission},
    db::with_pool,
    http::AppState,
};

/// How long a test call may ring, and how long it talks once answered.
const RING: Duration = Duration::from_secs(45);
const TALK: Duration = Duration::from_secs(10);

/// Organizations with a test call under way: one at a time each.
static PLACING: Mutex<BTreeSet<OrgId>> = Mutex::new(BTreeSet::new());

pub async fn progress(state: &AppState) -> Result<SetupProgress, AppError> {
    let member = member(state, &caller().await?, Permission::Read).await?;
    let org = member.org;
    let count = |sql: &'static str| async move {
        with_pool!(&state.db, pool => {
            sqlx::query_scalar::<_, i64>(sql).bind(org).fetch_one(pool).await
        })
        .map(|n| usize::try_from(n).unwrap_or_default())
        .map_err(internal)
    };
    let first = |sql: &'static str| async move {
        with_pool!(&state.db, pool => {
            sqlx::query_scalar::<_, Uuid>(sql).bind(org).fetch_optional(pool).await
        })
        .map(|id| id.map(|id| id.to_string()))
        .map_err(internal)
    };
    let numbers: Vec<(Uuid, String, String)> = with_pool!(&state.db, pool => {
        sqlx::query_as(
            "SELECT n.id, n.number, c.name FROM numbers n JOIN campaigns c ON c.id = n.campaign_id \
             WHERE n.organization_id = $1 AND n.status = 'active' ORDER BY n.number LIMIT 100",
        )
        .bind(org)
        .fetch_all(pool)
        .await
    })
    .map_err(internal)?;
    Ok(SetupProgress {
        inbound_trunks: count(
            "SELECT COUNT(*) FROM trunks WHERE organization_id = $1 AND direction = 'inbound'",
        )
        .await?,
        outbound_trunks: count(
            "SELECT COUNT(*) FROM trunks WHERE organization_id = $1 AND direction = 'outbound'",
        )
        .await?,
        campaigns: count("SELECT COUNT(*) FROM campaigns WHERE organization_id = $1").await?,
        buyers: count("SELECT COUNT(*) FROM buyers WHERE organization_id = $1").await?,
        targets: count("SELECT COUNT(*) FROM targets WHERE organization_id = $1").await?,
        ring_tree_entries: count(
            "SELECT COUNT(*) FROM ring_tree_entries WHERE organization_id = $1",
        )
        .await?,
        numbers: numbers
            .into_iter()
            .map(|(id, number, campaign)| SetupNumber { id: id.to_string(), number, campaign })
            .collect(),
        buyer_id: first("SELECT id FROM buyers WHERE organization_id = $1 ORDER BY id LIMIT 1")
            .await?,
        // The first campaign whose ring tree is empty, else the first.
        campaign_id: first(
            "SELECT id FROM campaigns c WHERE organization_id = $1 ORDER BY \
             EXISTS (SELECT 1 FROM ring_tree_entries r WHERE r.campaign_id = c.id), id LIMIT 1",
        )
        .await?,
    })
}

pub async fn test_call(state: &AppState, number_id: String) -> Result<TestCallResult, AppError> {
    let member = member(state, &caller().await?, Permission::EditConfiguration).await?;
    let org = member.org;
    let id: Uuid = number_id.parse().map_err(|_| AppError::NotFound)?;
    let number: Option<String> = with_pool!(&state.db, pool => {
        sqlx::query_scalar("SELECT number FROM numbers WHERE organization_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .fetch_optional(pool)
            .await
    })
    .map_err(internal)?;
    let number = number.ok_or(AppError::NotFound)?;
    let Some(placing) = Placing::start(org) else {
        return Err(AppError::field("number_id", "a test call is already under way: wait for it"));
    };
    // A fictional caller (555-0100 to 555-0199), another each time, so that a campaign
    // turning duplicates away does not refuse the second test.
    let caller_number = format!("+1202555{:04}", 100 + rand::random::<u16>() % 100);
    let call_id = format!("test-{}@bidline.invalid", Uuid::now_v7());
    // On a task of its own: a browser that goes away mid-call must not drop the phone
    // with its dialog open (the buyer's leg would stay up with nobody to hang it up).
    let (line, dialed, sip_call_id) = (state.line.clone(), number.clone(), call_id.clone());
    let placed = tokio::spawn(async move {
        let _placing = placing;
        line.call(&dialed, &caller_number, &sip_call_id, RING, TALK).await
    });
    let outcome = placed
        .await
        .map_err(|error| AppError::Internal(format!("the test call failed: {error}")))?
        .map_err(|error| AppError::Internal(format!("the test call failed: {error}")))?;
    let record = record_of(state, org, &call_id).await?;
    Ok(TestCallResult {
        call_id: record.as_ref().map(|r| r.0.to_string()),
        answered: matches!(outcome, Outcome::Answered { .. }),
        summary: summary(&number, &outcome, record.and_then(|r| r.1)),
    })
}

/// The call's record and why it ended, once the writer has it (at most a second).
async fn record_of(
    state: &AppState,
    org: OrgId,
    sip_call_id: &str,
) -> Result<Option<(Uuid, Option<String>)>, AppError> {
    for _ in 0..20 {
        let row: Option<(Uuid, Option<String>)> = with_pool!(&state.db, pool => {
            sqlx::query_as(
                "SELECT id, end_reason FROM calls WHERE organization_id = $1 AND sip_call_id = $2",
            )
            .bind(org)
            .bind(sip_call_id)
            .fetch_optional(pool)
            .await
        })
        .map_err(internal)?;
        if row.as_ref().is_some_and(|(_, reason)| reason.is_some()) {
            return Ok(row);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(None)
}

fn summary(number: &str, outcome: &Outcome, reason: Option<String>) -> String {
    let why = reason.map(|r| format!(" ({r})")).unwrap_or_default();
    match outcome {
        Outcome::Answered { rang, talked, ended_by } => format!(
            "{number} was answered after {} s; the call lasted {} s and {} hung up.",
            rang.as_secs(),
            talked.as_secs(),
            match ended_by {
                Side::Caller => "the test caller",
                Side::Callee => "the buyer",
            }
        ),
        Outcome::Refused { status, reason: phrase } => {
            format!("{number} did not connect: {status} {phrase}{why}.")
        }
        Outcome::NotAnswered => {
            format!("{number} rang for {} s without an answer{why}.", RING.as_secs())
        }
    }
}

/// The organization's test call under way; ends it when dropped.
struct Placing(OrgId);

impl Placing {
    fn start(org: OrgId) -> Option<Placing> {
        let mut placing = PLACING.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        placing.insert(org).then_some(Placing(org))
    }
}

impl Drop for Placing {
    fn drop(&mut self) {
        PLACING.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&self.0);
    }
}
