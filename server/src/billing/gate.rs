//! Which organizations' new calls are turned away for an unpaid bill, for the router to
//! ask without touching the database: a map refreshed from `billing_accounts` every few
//! seconds (at once on the node that takes a Stripe event).

use std::{collections::HashMap, sync::Arc, time::Duration};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};

use crate::{accounts::OrgId, db::Db};

#[derive(Default)]
pub struct Gate {
    /// Organization → when its calls start being turned away.
    blocked: ArcSwap<HashMap<OrgId, DateTime<Utc>>>,
}

impl Gate {
    /// Since when the organization's calls are turned away, if they are at `now`.
    pub fn blocks(&self, org: OrgId, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.blocked.load().get(&org).copied().filter(|from| *from <= now)
    }

    pub async fn refresh(&self, db: &Db, grace: chrono::Duration) -> Result<(), sqlx::Error> {
        let blocked = super::accounts::blocked(db, grace).await?;
        self.blocked.store(Arc::new(blocked.into_iter().collect()));
        Ok(())
    }
}

/// How stale another node's view of a Stripe event may be.
const REFRESH_EVERY: Duration = Duration::from_secs(5);

pub fn spawn_refresh(
    db: Db,
    gate: Arc<Gate>,
    grace: chrono::Duration,
    tasks: &crate::tasks::Tasks,
) {
    tasks.spawn("billing gate refresh", async move {
        let mut tick = tokio::time::interval(REFRESH_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = gate.refresh(&db, grace).await {
                tracing::warn!(%error, "could not read which organizations are past due");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_organization_is_turned_away_only_once_its_grace_is_over() {
        let gate = Gate::default();
        let org = OrgId(uuid::Uuid::now_v7());
        let now = Utc::now();
        gate.blocked.store(Arc::new(HashMap::from([(org, now + chrono::Duration::days(1))])));
        assert_eq!(gate.blocks(org, now), None);
        let later = now + chrono::Duration::days(2);
        assert_eq!(gate.blocks(org, later), Some(now + chrono::Duration::days(1)));
        assert_eq!(gate.blocks(OrgId(uuid::Uuid::now_v7()), later), None);
    }
}
