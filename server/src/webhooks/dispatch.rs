//! From the outbox to deliveries: each event not yet dispatched becomes one delivery per
//! enabled endpoint of its organization that wants it, with the request rendered once,
//! and is marked dispatched in the same transaction. Several nodes may dispatch the same
//! event at once: a delivery is unique per endpoint and event, so the second adds none.

use std::{
    collections::{HashMap, hash_map::Entry},
    time::Duration,
};

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::types::Json;
use uuid::Uuid;

use super::{
    Event,
    endpoint::{Method, Webhook},
};
use crate::{
    accounts::OrgId,
    db::{Db, with_pool},
    network::{resource::Resource, template},
    ping,
    routing::rules::Rule,
};

/// How often the outbox is read: events wait at most this long for their deliveries.
const POLL: Duration = Duration::from_millis(200);
const BATCH: i64 = 200;
/// Events and their deliveries are kept this long (for the delivery log), then pruned.
const KEPT: chrono::Duration = chrono::Duration::days(30);
/// Pruning runs once per this many polls (an hour).
const PRUNE_EVERY: u64 = 18_000;

#[derive(sqlx::FromRow)]
struct EventRow {
    id: Uuid,
    organization_id: Uuid,
    call_id: Uuid,
    seq: i64,
    event: String,
    at: DateTime<Utc>,
    payload: Json<Value>,
}

/// One delivery to write.
struct Delivery {
    id: Uuid,
    org: Uuid,
    webhook: Uuid,
    event_id: Uuid,
    call: Uuid,
    seq: i64,
    event: Event,
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<String>,
}

/// Dispatches what the outbox holds every [`POLL`], for as long as the process runs.
pub fn spawn(db: Db, tasks: &crate::tasks::Tasks) {
    tasks.spawn("webhook dispatch", async move {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        for polls in 0u64.. {
            tick.tick().await;
            if polls % PRUNE_EVERY == 0
                && let Err(error) = prune(&db, Utc::now() - KEPT).await
            {
                tracing::warn!(%error, "could not prune old webhook events");
            }
            loop {
                match dispatch(&db).await {
                    // A full batch: more may be waiting.
                    Ok(count) if count as i64 == BATCH => continue,
                    Ok(_) => break,
                    Err(error) => {
                        tracing::error!(%error, "could not dispatch webhook events; trying again");
                        break;
                    }
                }
            }
        }
    });
}

/// Dispatches up to [`BATCH`] events; answers how many.
async fn dispatch(db: &Db) -> Result<usize, sqlx::Error> {
    let events: Vec<EventRow> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT id, organization_id, call_id, seq, event, at, payload FROM webhook_events \
             WHERE NOT dispatched ORDER BY id LIMIT $1",
        )
        .bind(BATCH)
        .fetch_all(pool)
        .await
    })?;
    if events.is_empty() {
        return Ok(0);
    }
    let mut endpoints: HashMap<Uuid, Vec<(Webhook, Vec<Rule>)>> = HashMap::new();
    for event in &events {
        if let Entry::Vacant(slot) = endpoints.entry(event.organization_id) {
            slot.insert(enabled_endpoints(db, event.organization_id).await?);
        }
    }
    let mut deliveries = Vec::new();
    for event in &events {
        let Some(kind) = Event::parse(&event.event) else { continue };
        let Ok(call) = serde_json::from_value::<CallFields>(event.payload.0["call"].clone()) else {
            tracing::error!(event = %event.id, "a webhook event without its call; not delivered");
            continue;
        };
        for (webhook, rules) in &endpoints[&event.organization_id] {
            if wants(webhook, rules, kind, &call) {
                deliveries.push(render(webhook, event, kind, &call));
            }
        }
    }
    let now = Utc::now();
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        for d in &deliveries {
            sqlx::query(
                "INSERT INTO webhook_deliveries (id, organization_id, webhook_id, event_id, call_id, seq, \
                 event, status, method, url, headers, body, attempts, created_at, next_attempt_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $9, $10, $11, 0, $12, $12) \
                 ON CONFLICT (webhook_id, event_id) DO NOTHING",
            )
            .bind(d.id)
            .bind(d.org)
            .bind(d.webhook)
            .bind(d.event_id)
            .bind(d.call)
            .bind(d.seq)
            .bind(d.event.as_str())
            .bind(d.method.as_str())
            .bind(&d.url)
            .bind(Json(&d.headers))
            .bind(&d.body)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        for event in &events {
            sqlx::query("UPDATE webhook_events SET dispatched = TRUE WHERE id = $1")
                .bind(event.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    })?;
    Ok(events.len())
}

/// Deletes dispatched events from before `before`, and with them their deliveries.
async fn prune(db: &Db, before: DateTime<Utc>) -> Result<(), sqlx::Error> {
    with_pool!(db, pool => {
        sqlx::query("DELETE FROM webhook_events WHERE dispatched AND at < $1")
            .bind(before)
            .execute(pool)
            .await
            .map(drop)
    })
}

async fn enabled_endpoints(db: &Db, org: Uuid) -> Result<Vec<(Webhook, Vec<Rule>)>, sqlx::Error> {
    let rows: Vec<<Webhook as Resource>::Row> = with_pool!(db, pool => {
        sqlx::query_as("SELECT * FROM webhooks WHERE organization_id = $1 AND status = 'active' ORDER BY id")
            .bind(OrgId(org))
            .fetch_all(pool)
            .await
    })?;
    Ok(rows
        .into_iter()
        .map(Webhook::from_row)
        .map(|webhook| {
            let rules = webhook.conditions.iter().filter_map(Rule::compile).collect();
            (webhook, rules)
        })
        .collect())
}

/// What a delivery needs of the call: the API's view, read back from the outbox.
#[derive(serde::Deserialize)]
struct CallFields {
    id: Uuid,
    campaign_id: Uuid,
    publisher_id: Option<Uuid>,
    buyer_id: Option<Uuid>,
    target_id: Option<Uuid>,
    caller: Option<String>,
    dialed: String,
    status: String,
    started_at: String,
    answered_at: Option<String>,
    ended_at: Option<String>,
    talk_seconds: Option<i64>,
    converted: bool,
    duplicate: bool,
    revenue_cents: i64,
    payout_cents: i64,
    tags: std::collections::BTreeMap<String, String>,
}

impl CallFields {
    /// The call as conditions and the call's own tokens read it (as routing did).
    fn attributes(&self) -> ping::Call {
        let tag = |key: &str| self.tags.get(key).cloned().unwrap_or_default();
        ping::Call {
            id: self.id.to_string(),
            caller: self.caller.clone().unwrap_or_default(),
            area_code: tag("caller.area_code"),
            state: tag("caller.state"),
            dialed: self.dialed.clone(),
            campaign_id: self.campaign_id.to_string(),
            publisher_id: self.publisher_id.map(|p| p.to_string()).unwrap_or_default(),
            tags: self
                .tags
                .iter()
                .filter_map(|(key, value)| {
                    Some((key.strip_prefix("tag.")?.to_owned(), value.clone()))
                })
                .collect(),
        }
    }
}

fn wants(webhook: &Webhook, rules: &[Rule], event: Event, call: &CallFields) -> bool {
    let matches = |filter: Option<Uuid>, value: Option<Uuid>| filter.is_none() || filter == value;
    webhook.events.contains(&event)
        && matches(webhook.campaign_id, Some(call.campaign_id))
        && matches(webhook.publisher_id, call.publisher_id)
        && matches(webhook.buyer_id, call.buyer_id)
        && (rules.is_empty() || {
            let attributes = call.attributes();
            rules.iter().all(|rule| rule.holds(&attributes))
        })
}

/// Cents as a decimal amount: `1250` → `12.50`.
fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// The request for one endpoint, rendered once for every attempt.
fn render(webhook: &Webhook, event: &EventRow, kind: Event, call: &CallFields) -> Delivery {
    let id = Uuid::now_v7();
    let attributes = call.attributes();
    let value = |name: &str| -> String {
        let id_text = |id: Option<Uuid>| id.map(|id| id.to_string()).unwrap_or_default();
        match name {
            "event" => kind.as_str().to_owned(),
            "delivery.id" => id.to_string(),
            "call.status" => call.status.clone(),
            "call.started_at" => call.started_at.clone(),
            "call.answered_at" => call.answered_at.clone().unwrap_or_default(),
            "call.ended_at" => call.ended_at.clone().unwrap_or_default(),
            "call.duration" => call.talk_seconds.unwrap_or(0).to_string(),
            "call.converted" => call.converted.to_string(),
            "call.duplicate" => call.duplicate.to_string(),
            "call.revenue" => dollars(call.revenue_cents),
            "call.revenue_cents" => call.revenue_cents.to_string(),
            "call.payout" => dollars(call.payout_cents),
            "call.payout_cents" => call.payout_cents.to_string(),
            "buyer.id" => id_text(call.buyer_id),
            "target.id" => id_text(call.target_id),
            other => attributes.attribute(other),
        }
    };
    let url = template::render(&webhook.url, value, template::Escape::Url);
    let headers: Vec<(String, String)> = webhook
        .headers
        .iter()
        .map(|(name, text)| {
            let rendered = template::render(text, value, template::Escape::None);
            (name.clone(), rendered.replace(['\r', '\n'], " "))
        })
        .collect();
    let body = match webhook.method {
        Method::Get => None,
        _ => Some(match &webhook.body_template {
            Some(template) => template::render(template, value, template::Escape::Json),
            None => {
                let mut body = json!({
                    "id": id,
                    "event": kind.as_str(),
                    "event_id": event.id,
                    "occurred_at": crate::time::rfc3339(event.at),
                });
                if let Value::Object(payload) = &event.payload.0 {
                    for (key, value) in payload {
                        body[key] = value.clone();
                    }
                }
                body.to_string()
            }
        }),
    };
    Delivery {
        id,
        org: event.organization_id,
        webhook: webhook.id,
        event_id: event.id,
        call: event.call_id,
        seq: event.seq,
        event: kind,
        method: webhook.method,
        url,
        headers,
        body,
    }
}

#[cfg(test)]
mod tests {
    use super::dollars;

    #[test]
    fn cents_print_as_dollars() {
        assert_eq!(dollars(1250), "12.50");
        assert_eq!(dollars(5), "0.05");
        assert_eq!(dollars(0), "0.00");
    }
}
