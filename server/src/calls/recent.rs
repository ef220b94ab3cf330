//! Who called each campaign lately, for duplicate screening and for sending a repeat
//! caller back to the target that took their last call. Kept in memory (filled from
//! `calls` at start), so screening never waits on the database.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};
use uuid::Uuid;

use crate::db::{Db, with_pool};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Seen {
    at: DateTime<Utc>,
    /// The target that took the caller's last connected call.
    target: Option<Uuid>,
}

/// Recent callers per (campaign, caller number).
#[derive(Debug, Default)]
pub struct Recent {
    seen: Mutex<HashMap<(Uuid, String), Seen>>,
}

impl Recent {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(Uuid, String), Seen>> {
        self.seen.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Notes a call from `caller` to `campaign` at `at`; answers whether the caller had
    /// called within `window` before (a duplicate) and the target of their last
    /// connected call.
    pub fn note(
        &self,
        campaign: Uuid,
        caller: &str,
        at: DateTime<Utc>,
        window: Duration,
    ) -> (bool, Option<Uuid>) {
        let mut seen = self.lock();
        let entry = seen.entry((campaign, caller.to_owned())).or_insert(Seen { at, target: None });
        let before = *entry;
        entry.at = at.max(before.at);
        let duplicate = before.at < at && at - before.at <= window;
        (duplicate, before.target)
    }

    /// The caller's call to `campaign` was connected to `target`.
    pub fn connected(&self, campaign: Uuid, caller: &str, target: Uuid, at: DateTime<Utc>) {
        let mut seen = self.lock();
        let entry = seen.entry((campaign, caller.to_owned())).or_insert(Seen { at, target: None });
        entry.target = Some(target);
    }

    /// Recent callers from the call records since `since`.
    pub async fn load_since(db: &Db, since: DateTime<Utc>) -> Result<Recent, sqlx::Error> {
        let calls: Vec<(Uuid, String, DateTime<Utc>, Option<Uuid>)> = with_pool!(db, pool => {
            sqlx::query_as(
                "SELECT campaign_id, caller, started_at, target_id FROM calls \
                 WHERE caller IS NOT NULL AND started_at >= $1 ORDER BY started_at",
            )
            .bind(since)
            .fetch_all(pool)
            .await
        })?;
        let recent = Recent::default();
        recent.load(calls);
        Ok(recent)
    }

    /// Fills in calls from the records: `(campaign, caller, started_at, target)`, oldest
    /// first.
    pub fn load(
        &self,
        calls: impl IntoIterator<Item = (Uuid, String, DateTime<Utc>, Option<Uuid>)>,
    ) {
        let mut seen = self.lock();
        for (campaign, caller, at, target) in calls {
            let entry = seen.entry((campaign, caller)).or_insert(Seen { at, target: None });
            entry.at = entry.at.max(at);
            if target.is_some() {
                entry.target = target;
            }
        }
    }

    /// Forgets callers not seen since `before`.
    pub fn forget_before(&self, before: DateTime<Utc>) {
        self.lock().retain(|_, seen| seen.at >= before);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_call_within_the_window_is_a_duplicate() {
        let recent = Recent::default();
        let (campaign, now) = (Uuid::now_v7(), Utc::now());
        let window = Duration::hours(24);
        assert_eq!(recent.note(campaign, "+12125550123", now, window), (false, None));
        let target = Uuid::now_v7();
        recent.connected(campaign, "+12125550123", target, now);
        let later = now + Duration::hours(2);
        assert_eq!(recent.note(campaign, "+12125550123", later, window), (true, Some(target)));
        assert!(!recent.note(Uuid::now_v7(), "+12125550123", later, window).0);
        let next_week = later + Duration::days(7);
        assert_eq!(recent.note(campaign, "+12125550123", next_week, window), (false, Some(target)));
        recent.forget_before(next_week);
        assert!(!recent.note(campaign, "+12125550123", next_week, window).0);
    }
}
