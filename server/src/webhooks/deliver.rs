//! The delivery worker: sends due deliveries and records each attempt.
//!
//! - A delivery is sent by one node at a time: it is claimed (`locked_by`,
//!   `locked_until`) before it is sent, and a claim of a node that died runs out.
//! - Each endpoint has at most its `max_concurrency` requests in flight; each call's
//!   deliveries to an endpoint go one after the other, in the order they happened (a
//!   delivery waits while an earlier one of its call is pending).
//! - A 2xx answer delivers. Anything else — another status, no answer in time, a broken
//!   answer — is tried again after an exponential pause with jitter, until
//!   [`Settings::give_up_after`] has passed since the first attempt; then it has failed.
//! - A delivery is marked delivered only after the receiver said 2xx, so a crash in
//!   between sends it again with the same `Bidline-Delivery` id, which receivers dedupe.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

use super::{endpoint::Webhook, signature};
use crate::{
    db::{Db, with_pool},
    network::resource::Resource,
    outbound,
};

/// How much of an answer is kept for people to read.
const KEPT_ANSWER: usize = 2 * 1024;
const POLL: Duration = Duration::from_millis(100);
const CLAIM_BATCH: i64 = 100;
/// The longest pause between attempts, before jitter.
const MAX_PAUSE: Duration = Duration::from_secs(3600);

#[derive(Clone, Debug)]
pub struct Settings {
    /// The pause after the first failed attempt; it doubles each time, to [`MAX_PAUSE`].
    pub retry_base: Duration,
    /// A delivery still failing this long after its first attempt has failed.
    pub give_up_after: Duration,
    /// How long one attempt may take (connect, send, answer).
    pub timeout: Duration,
    pub allow_private: bool,
}

#[derive(sqlx::FromRow)]
struct Due {
    id: Uuid,
    webhook_id: Uuid,
    event: String,
    method: String,
    url: String,
    headers: Json<Vec<(String, String)>>,
    body: Option<String>,
    attempts: i64,
    first_attempt_at: Option<DateTime<Utc>>,
}

/// What one attempt came to.
struct Attempt {
    at: DateTime<Utc>,
    latency_ms: i64,
    status: Option<u16>,
    error: Option<String>,
    answer: Option<String>,
}

impl Attempt {
    fn delivered(&self) -> bool {
        self.status.is_some_and(|status| (200..300).contains(&status))
    }
}

/// Starts the worker on this node.
pub fn spawn(
    db: Db,
    node: Uuid,
    settings: Settings,
    tasks: &crate::tasks::Tasks,
) -> Result<(), reqwest::Error> {
    let client = outbound::client(settings.allow_private)
        .redirect(outbound::redirects(5, settings.allow_private))
        .timeout(settings.timeout)
        .build()?;
    let worker = Worker {
        db,
        node,
        settings: Arc::new(settings),
        client,
        in_flight: Arc::new(Mutex::new(HashMap::new())),
    };
    tasks.spawn("webhook delivery", worker.run());
    Ok(())
}

#[derive(Clone)]
struct Worker {
    db: Db,
    node: Uuid,
    settings: Arc<Settings>,
    client: reqwest::Client,
    /// Requests in flight per endpoint.
    in_flight: Arc<Mutex<HashMap<Uuid, i64>>>,
}

impl Worker {
    async fn run(self) {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(error) = self.send_due().await {
                tracing::error!(%error, "could not read the webhook deliveries due; trying again");
            }
        }
    }

    fn in_flight(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, i64>> {
        self.in_flight.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Claims and starts what is due and may go now.
    async fn send_due(&self) -> Result<(), sqlx::Error> {
        let now = Utc::now();
        // At most `max_concurrency` rows per endpoint: a stuck endpoint's backlog of due
        // retries must not fill the batch and starve every other endpoint.
        let due: Vec<Due> = with_pool!(&self.db, pool => {
            sqlx::query_as(
                "SELECT id, webhook_id, event, method, url, headers, body, attempts, first_attempt_at FROM ( \
                 SELECT d.id, d.webhook_id, d.event, d.method, d.url, d.headers, d.body, d.attempts, \
                 d.first_attempt_at, d.next_attempt_at, w.max_concurrency, ROW_NUMBER() OVER ( \
                   PARTITION BY d.webhook_id ORDER BY d.next_attempt_at, d.id) AS place \
                 FROM webhook_deliveries d \
                 JOIN webhooks w ON w.id = d.webhook_id AND w.status = 'active' \
                 WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
                 AND (d.locked_until IS NULL OR d.locked_until < $1) \
                 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.webhook_id = d.webhook_id \
                   AND e.call_id = d.call_id AND e.status = 'pending' AND e.seq < d.seq) \
                 ) due WHERE place <= max_concurrency ORDER BY next_attempt_at, id LIMIT $2",
            )
            .bind(now)
            .bind(CLAIM_BATCH)
            .fetch_all(pool)
            .await
        })?;
        let mut endpoints: HashMap<Uuid, Arc<Webhook>> = HashMap::new();
        for delivery in due {
            let webhook = match endpoints.get(&delivery.webhook_id) {
                Some(webhook) => webhook.clone(),
                None => {
                    let Some(webhook) = self.endpoint(delivery.webhook_id).await? else { continue };
                    endpoints.insert(webhook.id, webhook.clone());
                    webhook
                }
            };
            {
                let mut in_flight = self.in_flight();
                let count = in_flight.entry(webhook.id).or_default();
                if *count >= webhook.max_concurrency {
                    continue;
                }
                *count += 1;
            }
            match self.claim(delivery.id, now).await {
                Ok(true) => {
                    let worker = self.clone();
                    tokio::spawn(async move {
                        worker.attempt(&webhook, delivery).await;
                        worker.release(webhook.id);
                    });
                }
                Ok(false) => self.release(webhook.id),
                // The slot is given back before the error ends this round.
                Err(error) => {
                    self.release(webhook.id);
                    return Err(error);
                }
            }
        }
        Ok(())
    }

    /// Gives back a slot of the endpoint's concurrency.
    fn release(&self, webhook: Uuid) {
        if let Some(count) = self.in_flight().get_mut(&webhook) {
            *count -= 1;
        }
    }

    async fn endpoint(&self, id: Uuid) -> Result<Option<Arc<Webhook>>, sqlx::Error> {
        let row: Option<<Webhook as Resource>::Row> = with_pool!(&self.db, pool => {
            sqlx::query_as("SELECT * FROM webhooks WHERE id = $1").bind(id).fetch_optional(pool).await
        })?;
        Ok(row.map(|row| Arc::new(Webhook::from_row(row))))
    }

    /// Takes the delivery for this node for one attempt; false when another node has it
    /// (or has just tried it, and it is no longer due).
    async fn claim(&self, id: Uuid, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
        let until = now + self.settings.timeout + Duration::from_secs(5);
        let claimed = with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE webhook_deliveries SET locked_by = $1, locked_until = $2 WHERE id = $3 \
                 AND status = 'pending' AND next_attempt_at <= $4 \
                 AND (locked_until IS NULL OR locked_until < $4)",
            )
            .bind(self.node)
            .bind(until)
            .bind(id)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        })?;
        Ok(claimed == 1)
    }

    /// Sends the delivery once and records what came of it.
    async fn attempt(&self, webhook: &Webhook, delivery: Due) {
        let attempt = self.send(webhook, &delivery).await;
        let first = delivery.first_attempt_at.unwrap_or(attempt.at);
        let (status, next) = if attempt.delivered() {
            ("delivered", None)
        } else {
            let next = attempt.at + pause(&self.settings, delivery.attempts + 1);
            let give_up =
                chrono::Duration::from_std(self.settings.give_up_after).unwrap_or_default();
            if next - first > give_up { ("failed", None) } else { ("pending", Some(next)) }
        };
        let outcome = match status {
            "pending" => "retrying",
            other => other,
        };
        metrics::counter!("bidline_webhook_deliveries_total", "outcome" => outcome).increment(1);
        let written = with_pool!(&self.db, pool => {
            sqlx::query(
                "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, \
                 first_attempt_at = $2, last_attempt_at = $3, next_attempt_at = $4, \
                 last_status_code = $5, last_error = $6, last_latency_ms = $7, last_response = $8, \
                 locked_by = NULL, locked_until = NULL WHERE id = $9 AND locked_by = $10 AND status = 'pending'",
            )
            .bind(status)
            .bind(first)
            .bind(attempt.at)
            .bind(next)
            .bind(attempt.status.map(i64::from))
            .bind(&attempt.error)
            .bind(attempt.latency_ms)
            .bind(&attempt.answer)
            .bind(delivery.id)
            .bind(self.node)
            .execute(pool)
            .await
            .map(drop)
        });
        if let Err(error) = written {
            // The claim runs out and the delivery is sent again, with the same id.
            tracing::error!(%error, delivery = %delivery.id, "could not record a webhook attempt");
        }
        if status == "failed" {
            tracing::warn!(delivery = %delivery.id, webhook = %webhook.id, "a webhook delivery gave up");
        }
    }

    async fn send(&self, webhook: &Webhook, delivery: &Due) -> Attempt {
        let at = Utc::now();
        let started = Instant::now();
        let result = self.exchange(webhook, delivery, at).await;
        let latency_ms = started.elapsed().as_millis() as i64;
        match result {
            Ok((status, answer)) => {
                Attempt { at, latency_ms, status: Some(status), error: None, answer: Some(answer) }
            }
            Err(error) => {
                Attempt { at, latency_ms, status: None, error: Some(error), answer: None }
            }
        }
    }

    async fn exchange(
        &self,
        webhook: &Webhook,
        delivery: &Due,
        at: DateTime<Utc>,
    ) -> Result<(u16, String), String> {
        let url = url::Url::parse(&delivery.url).map_err(|error| format!("not a URL: {error}"))?;
        outbound::check_url(&url, self.settings.allow_private)?;
        let secrets = webhook
            .signing_secrets(at)
            .map_err(|error| format!("cannot open the signing secret: {error}"))?;
        let body = delivery.body.clone().unwrap_or_default();
        let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
        let method = reqwest::Method::from_bytes(delivery.method.as_bytes())
            .unwrap_or(reqwest::Method::POST);
        let mut request = self
            .client
            .request(method, url)
            .header(signature::HEADER, signature::header(&secrets, at.timestamp(), body.as_bytes()))
            .header("Bidline-Delivery", delivery.id.to_string())
            .header("Bidline-Event", &delivery.event);
        let mut typed = false;
        for (name, value) in &delivery.headers.0 {
            typed |= name.eq_ignore_ascii_case("content-type");
            request = request.header(name, value);
        }
        if let Some(body) = &delivery.body {
            if !typed {
                request = request.header("Content-Type", "application/json");
            }
            request = request.body(body.clone());
        }
        let timeout = self.settings.timeout;
        let failed = |error: reqwest::Error| {
            if error.is_timeout() {
                format!("no answer within {} ms", timeout.as_millis())
            } else {
                format!("the request failed: {}", outbound::with_causes(&error))
            }
        };
        let mut response = request.send().await.map_err(failed)?;
        let status = response.status().as_u16();
        // Only the start of the answer is kept; the rest is not waited for.
        let mut kept = Vec::new();
        while kept.len() < KEPT_ANSWER {
            match response.chunk().await {
                Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
                Ok(None) => break,
                Err(error) if (200..300).contains(&status) => {
                    // The receiver said yes; a body cut short does not undo that.
                    kept.extend_from_slice(format!(" [the answer broke off: {error}]").as_bytes());
                    break;
                }
                Err(error) => return Err(failed(error)),
            }
        }
        kept.truncate(KEPT_ANSWER);
        Ok((status, String::from_utf8_lossy(&kept).into_owned()))
    }
}

/// The pause before attempt `attempts + 1`: the base doubled for each failure so far, at
/// most [`MAX_PAUSE`], then a random half to all of that, so receivers coming back are not
/// hit by every delivery at once.
fn pause(settings: &Settings, attempts: i64) -> chrono::Duration {
    let doubled =
        settings.retry_base.saturating_mul(1 << attempts.clamp(1, 20).saturating_sub(1) as u32);
    let pause = doubled.min(MAX_PAUSE);
    let jittered = pause.mul_f64(rand::random_range(0.5..=1.0));
    chrono::Duration::from_std(jittered).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_with_jitter_up_to_an_hour() {
        let settings = Settings {
            retry_base: Duration::from_secs(10),
            give_up_after: Duration::from_secs(86_400),
            timeout: Duration::from_secs(10),
            allow_private: false,
        };
        for (attempts, full) in [(1, 10), (2, 20), (3, 40), (10, 3600), (60, 3600)] {
            for _ in 0..20 {
                let seconds = pause(&settings, attempts).num_milliseconds() as f64 / 1000.0;
                assert!(
                    seconds >= full as f64 / 2.0 && seconds <= full as f64,
                    "{attempts}: {seconds}"
                );
            }
        }
    }
}
