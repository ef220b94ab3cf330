//! Stripe's webhooks (`POST /stripe/webhook`): signed like Bidline's own
//! (`Stripe-Signature: t=…,v1=…`, HMAC-SHA256 of `<t>.<body>` under the endpoint's
//! signing secret), each event handled once (`stripe_events`), in the transaction that
//! applies it. Stripe does not promise order: an event older than the one behind an
//! account's status changes nothing. Subscription events set the status; invoice events
//! only move an active account to past due and a past-due one back (a final invoice
//! paid after cancelling does not make a canceled subscription active).

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use super::accounts::Status;
use crate::{
    db::{Db, with_pool},
    webhooks::signature,
};

/// How far `t` may be from this node's clock (Stripe's libraries use the same).
pub const TOLERANCE_SECONDS: i64 = 300;

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("missing Stripe-Signature header")]
    Unsigned,
    #[error("bad Stripe-Signature: {0}")]
    BadSignature(#[from] signature::Refused),
    #[error("not a Stripe event: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

/// What became of an event.
#[derive(Debug, PartialEq, Eq)]
pub enum Handled {
    /// It changed an account (or found no account of Bidline's to change).
    Applied,
    /// Seen before: handled then.
    Duplicate,
    /// A kind Bidline does not act on.
    Ignored,
}

#[derive(Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    created: i64,
    data: Data,
}

#[derive(Deserialize)]
struct Data {
    object: Value,
}

/// A change an event makes to the account of a customer.
struct Change<'a> {
    customer: &'a str,
    status: Status,
    stripe_status: &'a str,
    subscription: Option<&'a str>,
    period: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    /// The change applies only to an account in this status (an invoice event moves an
    /// active account to past due, or a past-due one back; never a canceled one).
    only_from: Option<Status>,
}

/// Verifies, then applies, one delivery of a Stripe event.
pub async fn handle(
    db: &Db,
    secret: &str,
    signature_header: Option<&str>,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Handled, EventError> {
    let header = signature_header.ok_or(EventError::Unsigned)?;
    signature::verify(header, secret, body, now.timestamp(), TOLERANCE_SECONDS)?;
    let event: Event = serde_json::from_slice(body)?;
    let Some(created) = DateTime::from_timestamp(event.created, 0) else {
        return Err(EventError::Malformed(serde::de::Error::custom("created is out of range")));
    };
    let change = change(&event.kind, &event.data.object);
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        let first = sqlx::query(
            "INSERT INTO stripe_events (id, type, received_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&event.id)
        .bind(&event.kind)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected() == 1;
        if !first {
            return Ok(Handled::Duplicate);
        }
        let Some(change) = change else {
            tx.commit().await?;
            return Ok(Handled::Ignored);
        };
        // Canceled while unpaid keeps its past-due date: cancelling does not lift the gate.
        sqlx::query(
            "UPDATE billing_accounts SET status = $2, stripe_status = $3, \
             subscription_id = COALESCE($4, subscription_id), \
             past_due_since = CASE WHEN $2 IN ('active', 'none') THEN NULL \
                 WHEN past_due_since IS NOT NULL THEN past_due_since \
                 WHEN $2 = 'past_due' THEN $5 ELSE NULL END, \
             period_start = COALESCE($6, period_start), period_end = COALESCE($7, period_end), \
             status_at = $5, updated_at = $8 \
             WHERE stripe_customer_id = $1 AND (status_at IS NULL OR status_at <= $5) \
             AND ($9 IS NULL OR status = $9)",
        )
        .bind(change.customer)
        .bind(change.status.as_str())
        .bind(change.stripe_status)
        .bind(change.subscription)
        .bind(created)
        .bind(change.period.0)
        .bind(change.period.1)
        .bind(now)
        .bind(change.only_from.map(Status::as_str))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Handled::Applied)
    })
}

/// The change an event of `kind` about `object` makes, if Bidline acts on it.
fn change<'a>(kind: &str, object: &'a Value) -> Option<Change<'a>> {
    let customer = object.get("customer")?.as_str()?;
    if kind.starts_with("customer.subscription.") {
        let stripe_status = object.get("status")?.as_str()?;
        return Some(Change {
            customer,
            status: Status::of_subscription(stripe_status),
            stripe_status,
            subscription: object.get("id").and_then(Value::as_str),
            period: period(object),
            only_from: None,
        });
    }
    let subscription = invoice_subscription(object)?;
    let (status, stripe_status, from) = match kind {
        "invoice.payment_failed" => (Status::PastDue, "past_due", Status::Active),
        "invoice.paid" | "invoice.payment_succeeded" => (Status::Active, "active", Status::PastDue),
        _ => return None,
    };
    Some(Change {
        customer,
        status,
        stripe_status,
        subscription: Some(subscription),
        period: (None, None),
        only_from: Some(from),
    })
}

/// The subscription an invoice bills (where API versions put it: top level before
/// 2025-03-31, under `parent.subscription_details` since).
fn invoice_subscription(invoice: &Value) -> Option<&str> {
    invoice
        .get("subscription")
        .and_then(Value::as_str)
        .or_else(|| invoice.pointer("/parent/subscription_details/subscription")?.as_str())
}

/// The subscription's current period (on the subscription before 2025-03-31, on each
/// item since).
fn period(subscription: &Value) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let at = |name: &str| {
        subscription
            .get(name)
            .or_else(|| subscription.pointer(&format!("/items/data/0/{name}")))
            .and_then(Value::as_i64)
            .and_then(|seconds| DateTime::from_timestamp(seconds, 0))
    };
    (at("current_period_start"), at("current_period_end"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn subscription_statuses_map_to_what_bidline_gates_on() {
        let object = json!({"id": "sub_1", "customer": "cus_1", "status": "unpaid",
            "items": {"data": [{"current_period_start": 1_700_000_000, "current_period_end": 1_702_592_000}]}});
        let change = change("customer.subscription.updated", &object).unwrap();
        assert_eq!(change.status, Status::PastDue);
        assert_eq!(change.subscription, Some("sub_1"));
        assert_eq!(change.period.0.unwrap().timestamp(), 1_700_000_000);
        assert_eq!(change.period.1.unwrap().timestamp(), 1_702_592_000);
    }

    #[test]
    fn invoices_of_either_api_version_name_their_subscription() {
        let old = json!({"customer": "cus_1", "subscription": "sub_1"});
        let new = json!({"customer": "cus_1", "parent": {"subscription_details": {"subscription": "sub_2"}}});
        assert_eq!(change("invoice.payment_failed", &old).unwrap().status, Status::PastDue);
        assert_eq!(change("invoice.paid", &new).unwrap().subscription, Some("sub_2"));
        // A one-off invoice does not change a subscription.
        assert!(change("invoice.payment_failed", &json!({"customer": "cus_1"})).is_none());
        assert!(change("charge.succeeded", &old).is_none());
    }
}
