//! Sends the usage ledger to Stripe as meter events.
//!
//! Each round claims a few waves of records due (the claim outlasts the round, and a node
//! that dies mid-send lets them go when it ends), sends them eight at a time, and marks
//! each only after Stripe accepted it; a failure is recorded only by the claim's holder. A record's id is its event's identifier and
//! idempotency key: sent twice (a timeout that Stripe did process, a crash before the
//! mark), Stripe answers the first result and counts it once. Failures wait and are tried
//! again, doubling the wait each time (at most ten minutes); a 429 also pauses the whole
//! reporter. Only a request Stripe refuses as invalid is given up, kept with the reason.
//!
//! Stripe's v1 meter events take one event per request (batching is only in the v2 event
//! stream, which async-stripe does not speak), so records are coarse instead: one per
//! call and meter, one per number and day.

use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use rand::Rng;
use uuid::Uuid;

use super::{
    Meter, accounts,
    stripe::{Stripe, StripeError},
};
use crate::{
    accounts::OrgId,
    db::{Db, with_pool},
};

/// Records sent at once, and claimed per round (a few waves: a claim must outlast its
/// round, or another node takes the records while they are still being sent).
const IN_FLIGHT: usize = 8;
const WAVES: u32 = 4;
const ROUND: i64 = IN_FLIGHT as i64 * WAVES as i64;
/// How often the ledger is looked at when there is nothing to send.
const IDLE: Duration = Duration::from_secs(1);
const MAX_WAIT: Duration = Duration::from_secs(600);
/// Stripe takes events from the last 35 days; older ones are refused here, not sent.
const OLDEST: chrono::Duration = chrono::Duration::days(35);
/// Stripe recognises a repeated event (its identifier, its idempotency key) for 24 hours.
/// A record still unconfirmed this long after its first failed send may have been counted
/// by a send whose answer was lost: it is set aside for a person to check, not sent again.
const CONFIRM_WITHIN: chrono::Duration = chrono::Duration::hours(23);

struct Reporter {
    db: Db,
    node: Uuid,
    stripe: Stripe,
    retry_base: Duration,
    /// How long a claim holds: past any request's timeout.
    hold: chrono::Duration,
    customers: HashMap<OrgId, String>,
}

#[derive(sqlx::FromRow)]
struct Due {
    id: Uuid,
    organization_id: OrgId,
    meter: String,
    quantity: i64,
    occurred_at: DateTime<Utc>,
    first_attempt_at: Option<DateTime<Utc>>,
    attempts: i64,
}

/// What became of one record this round.
enum Outcome {
    Sent,
    /// Sent, and failed: try again later.
    Retry(StripeError),
    /// Not sent (no customer to send it for): try again later.
    Unsent(StripeError),
    Refused(String),
}

pub fn spawn(
    db: Db,
    node: Uuid,
    stripe: Stripe,
    retry_base: Duration,
    timeout: Duration,
    tasks: &crate::tasks::Tasks,
) {
    // Every wave of a round may take the whole timeout, and so may finding a customer.
    let hold = chrono::Duration::from_std(timeout * (WAVES + 1) + Duration::from_secs(5))
        .unwrap_or(chrono::Duration::minutes(10));
    let mut reporter = Reporter { db, node, stripe, retry_base, hold, customers: HashMap::new() };
    tasks.spawn("usage reporter", async move {
        let mut pause = Duration::ZERO;
        loop {
            tokio::time::sleep(pause).await;
            pause = match reporter.round(Utc::now()).await {
                Ok(Round { rate_limited: true, .. }) => {
                    let next = (pause * 2).clamp(retry_base, MAX_WAIT);
                    tracing::warn!(
                        pause_ms = next.as_millis() as u64,
                        "Stripe is rate limiting usage reports; pausing"
                    );
                    next
                }
                Ok(Round { claimed, .. }) if claimed > 0 => Duration::ZERO,
                Ok(_) => IDLE,
                Err(error) => {
                    tracing::warn!(%error, "could not report usage to Stripe");
                    IDLE
                }
            };
        }
    });
}

struct Round {
    claimed: usize,
    rate_limited: bool,
}

impl Reporter {
    async fn round(&mut self, now: DateTime<Utc>) -> Result<Round, sqlx::Error> {
        let due = self.claim(now).await?;
        let claimed = due.len();
        let mut rate_limited = false;
        // Customers first, one organization at a time: a new one is created once, and an
        // organization whose customer cannot be had now is not asked for again this round.
        let mut sendable = Vec::with_capacity(due.len());
        let mut failed: HashMap<OrgId, String> = HashMap::new();
        for record in due {
            if record.occurred_at < now - OLDEST {
                let why = "older than the 35 days Stripe accepts".to_owned();
                self.settle(&record, Outcome::Refused(why), now).await?;
                continue;
            }
            if record.first_attempt_at.is_some_and(|first| first < now - CONFIRM_WITHIN) {
                let why = "not confirmed within Stripe's 24-hour window for repeats: check the \
                    meter's events at Stripe before sending it again"
                    .to_owned();
                self.settle(&record, Outcome::Refused(why), now).await?;
                continue;
            }
            if let Some(why) = failed.get(&record.organization_id) {
                let error = StripeError::Unavailable(why.clone());
                self.settle(&record, Outcome::Unsent(error), now).await?;
                continue;
            }
            match self.customer(record.organization_id).await {
                Ok(customer) => sendable.push((record, customer)),
                Err(accounts::CustomerError::Stripe(error)) => {
                    rate_limited |= matches!(error, StripeError::RateLimited);
                    failed.insert(record.organization_id, format!("no customer: {error}"));
                    self.settle(&record, Outcome::Unsent(error), now).await?;
                }
                Err(accounts::CustomerError::Database(error)) => return Err(error),
            }
        }
        let stripe = &self.stripe;
        let results: Vec<(Due, Outcome)> = futures::stream::iter(sendable)
            .map(|(record, customer)| async move {
                let Some(meter) = Meter::parse(&record.meter) else {
                    let why = format!("unknown meter {:?}", record.meter);
                    return (record, Outcome::Refused(why));
                };
                let sent = stripe
                    .meter_event(record.id, meter, &customer, record.quantity, record.occurred_at)
                    .await;
                let outcome = match sent {
                    Ok(()) => Outcome::Sent,
                    Err(StripeError::Refused { status, message }) => {
                        Outcome::Refused(format!("{status}: {message}"))
                    }
                    Err(error) => Outcome::Retry(error),
                };
                (record, outcome)
            })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        let now = Utc::now();
        for (record, outcome) in results {
            rate_limited |= matches!(outcome, Outcome::Retry(StripeError::RateLimited));
            self.settle(&record, outcome, now).await?;
        }
        Ok(Round { claimed, rate_limited })
    }

    async fn customer(&mut self, org: OrgId) -> Result<String, accounts::CustomerError> {
        if let Some(customer) = self.customers.get(&org) {
            return Ok(customer.clone());
        }
        let customer = accounts::customer(&self.db, &self.stripe, org).await?;
        self.customers.insert(org, customer.clone());
        Ok(customer)
    }

    /// Takes the records due that no live claim holds. The outer conditions are checked
    /// again on each row as it is updated, so two nodes never both take one.
    async fn claim(&self, now: DateTime<Utc>) -> Result<Vec<Due>, sqlx::Error> {
        const DUE: &str = "sent_at IS NULL AND refused_at IS NULL AND next_attempt_at <= $3 \
            AND (locked_until IS NULL OR locked_until < $3)";
        let query = format!(
            "UPDATE usage_records SET locked_by = $1, locked_until = $2 \
             WHERE {DUE} AND id IN (SELECT id FROM usage_records WHERE {DUE} \
             ORDER BY next_attempt_at LIMIT $4) \
             RETURNING id, organization_id, meter, quantity, occurred_at, first_attempt_at, attempts"
        );
        with_pool!(&self.db, pool => {
            sqlx::query_as(&query)
                .bind(self.node)
                .bind(now + self.hold)
                .bind(now)
                .bind(ROUND)
                .fetch_all(pool)
                .await
        })
    }

    async fn settle(
        &self,
        record: &Due,
        outcome: Outcome,
        now: DateTime<Utc>,
    ) -> Result<(), sqlx::Error> {
        let attempts = record.attempts + 1;
        let result = match &outcome {
            Outcome::Sent => "sent",
            Outcome::Retry(_) | Outcome::Unsent(_) => "retry",
            Outcome::Refused(_) => "refused",
        };
        metrics::counter!("bidline_usage_reports_total", "outcome" => result).increment(1);
        // A failed send starts the 24-hour clock; a record never sent does not.
        let sent = !matches!(outcome, Outcome::Unsent(_));
        with_pool!(&self.db, pool => {
            match outcome {
                Outcome::Sent => sqlx::query(
                    "UPDATE usage_records SET sent_at = $2, attempts = $3, last_error = NULL, \
                     locked_by = NULL, locked_until = NULL WHERE id = $1",
                )
                .bind(record.id)
                .bind(now)
                .bind(attempts)
                .execute(pool)
                .await
                .map(drop),
                Outcome::Retry(error) | Outcome::Unsent(error) => {
                    let wait = backoff(self.retry_base, attempts);
                    if matches!(error, StripeError::Unauthorized { .. }) {
                        tracing::error!(%error, "usage cannot be reported until the Stripe key is fixed");
                    }
                    sqlx::query(
                        "UPDATE usage_records SET attempts = $2, next_attempt_at = $3, last_error = $4, \
                         first_attempt_at = CASE WHEN $6 THEN COALESCE(first_attempt_at, $7) ELSE first_attempt_at END, \
                         locked_by = NULL, locked_until = NULL WHERE id = $1 AND sent_at IS NULL \
                         AND locked_by = $5",
                    )
                    .bind(record.id)
                    .bind(attempts)
                    .bind(now + chrono::Duration::from_std(wait).unwrap_or_default())
                    .bind(error.to_string())
                    .bind(self.node)
                    .bind(sent)
                    .bind(now)
                    .execute(pool)
                    .await
                    .map(drop)
                }
                Outcome::Refused(why) => {
                    tracing::error!(record = %record.id, meter = %record.meter, %why, "Stripe refused a usage record; it will not be sent again");
                    sqlx::query(
                        "UPDATE usage_records SET refused_at = $2, attempts = $3, last_error = $4, \
                         locked_by = NULL, locked_until = NULL WHERE id = $1 AND sent_at IS NULL \
                         AND locked_by = $5",
                    )
                    .bind(record.id)
                    .bind(now)
                    .bind(attempts)
                    .bind(why)
                    .bind(self.node)
                    .execute(pool)
                    .await
                    .map(drop)
                }
            }
        })
    }
}

/// The wait after the `attempts`-th failure: `base` doubled each time, at most
/// [`MAX_WAIT`], less up to a fifth at random so nodes spread out.
fn backoff(base: Duration, attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(u32::MAX).min(20);
    let wait = base.saturating_mul(1 << doublings).min(MAX_WAIT);
    wait.mul_f64(1.0 - rand::rng().random_range(0.0..0.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_ten_minutes() {
        let base = Duration::from_secs(1);
        let first = backoff(base, 1);
        assert!(first <= base && first > base.mul_f64(0.79), "{first:?}");
        let fourth = backoff(base, 4);
        assert!(fourth <= base * 8 && fourth > (base * 8).mul_f64(0.79), "{fourth:?}");
        assert!(backoff(base, 60) <= MAX_WAIT);
        assert!(backoff(base, 60) > MAX_WAIT.mul_f64(0.79));
    }
}
