//! `bidline demo seed`: history for an organization, written through the call-record
//! writer (rows, auctions and report rollups in the same transactions as real calls).

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::{traffic, world::World};
use crate::{
    accounts::OrgId,
    calls::{
        rollups::CallFacts,
        writer::{Write, Writer},
    },
    db::{
        Db,
        nodes::{self, NodeInfo},
        with_pool,
    },
    network::NetworkError,
};

/// What to seed.
#[derive(Clone, Copy, Debug)]
pub struct Seeding {
    pub org: OrgId,
    pub calls: u64,
    /// The calls start in the `days` whole days (UTC) before today.
    pub days: u32,
    /// The same seed gives the same calls (times, callers, outcomes, money).
    pub seed: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("no organization has the id {0}")]
    NoOrganization(OrgId),
    #[error("the demo configuration could not be created: {0}")]
    Configuration(#[from] NetworkError),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// How much the writer may hold before seeding waits for it: enough for full batches,
/// little enough that a million calls never sit in memory.
const BACKLOG_BYTES: usize = 64 << 20;

/// Writes `seeding.calls` ended calls into the organization's history (creating a demo
/// configuration first if it has no campaign); returns how many were written.
pub async fn seed(db: &Db, seeding: Seeding) -> Result<u64, SeedError> {
    let Seeding { org, calls, days, seed } = seeding;
    let exists: Option<uuid::Uuid> = with_pool!(db, pool => {
        sqlx::query_scalar("SELECT id FROM organizations WHERE id = $1")
            .bind(org)
            .fetch_optional(pool)
            .await
    })?;
    if exists.is_none() {
        return Err(SeedError::NoOrganization(org));
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let world = World::ensure(db, org, &mut rng).await?;
    // Seeded calls are written by a node of their own, registered like any other.
    let node = NodeInfo::new(([127, 0, 0, 1], 0).into());
    nodes::register(db, &node).await?;
    let (writer, flushed) = Writer::spawn(db, None);
    // Whole UTC days, so that a seed gives the same calls whenever it runs.
    let today = Utc::now().date_naive().and_time(chrono::NaiveTime::MIN).and_utc();
    // Minute by minute, in order within each minute, as calls arrive: each batch of the
    // writer then touches a few hours' rollup rows and appends to the calls' indexes, and
    // only a minute's start times are held at once (however many calls a day has).
    let minutes = i64::from(days) * MINUTES_A_DAY;
    let weights: Vec<u64> = (0..MINUTES_A_DAY).map(minute_weight).collect();
    let day_weight: u64 = weights.iter().sum();
    let total = u128::from(day_weight) * u128::from(days);
    let mut before = 0u128;
    let mut written = 0;
    for minute in 0..minutes {
        let start = today - Duration::days(i64::from(days)) + Duration::minutes(minute);
        let weight = u128::from(weights[(minute % MINUTES_A_DAY) as usize]);
        // The calls up to the end of this minute, by weight: counts add up to `calls`.
        let through = u128::from(calls) * (before + weight) / total;
        let count = through - u128::from(calls) * before / total;
        before += weight;
        let mut times: Vec<DateTime<Utc>> = (0..count)
            .map(|_| start + Duration::milliseconds(rng.random_range(0..60_000)))
            .collect();
        times.sort_unstable();
        for started_at in times {
            let (row, bids) = traffic::call(&mut rng, &world, org, node.id, started_at);
            let facts = CallFacts::from(&row);
            // Written as the recorder writes an ended call's last change: its row and its
            // auction. Seeded calls are not usage (`pings: None`): nobody is billed for them.
            writer.send(Write::Call {
                row: Box::new(row),
                before: None,
                notices: Vec::new(),
                pings: None,
            });
            writer.send(Write::Bids { call: facts, rows: bids, before: Vec::new() });
            written += 1;
            while writer.backlog().bytes() > BACKLOG_BYTES {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
        }
    }
    drop(writer);
    flushed.done().await;
    nodes::mark_stopped(db, node.id, Utc::now()).await?;
    Ok(written)
}

const MINUTES_A_DAY: i64 = 24 * 60;

/// How busy the UTC minute of the day is, relatively: most calls in the (US Eastern)
/// working day.
fn minute_weight(minute: i64) -> u64 {
    let eastern_hour = (minute / 60 + 19) % 24;
    match eastern_hour {
        9..=17 => 20,
        7..=8 | 18..=20 => 12,
        _ => 3,
    }
}
