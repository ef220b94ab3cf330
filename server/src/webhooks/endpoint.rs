//! Webhook endpoints and pixels, configured per organization: where events go, which
//! ones, about which calls, and how the request looks. The signing secret is sealed with
//! the server's key, shown once when made (or rotated) and never in the history.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use super::{Event, TOKENS, signature};
use crate::{
    accounts::{OrgId, audit::By},
    db::{Db, Tx, with_tx},
    network::{
        Invalid, NetworkError, Stamp, Status, check_own, double_option,
        history::{self, Action, Change},
        name_field, patched,
        resource::{self, Resource},
        targets::conditions::{self, Condition},
        template,
    },
    secrets,
};

const MAX_URL: usize = 2048;
const MAX_HEADERS: usize = 20;
const MAX_HEADER_VALUE: usize = 1000;
const MAX_BODY_TEMPLATE: usize = 16 * 1024;
const DEFAULT_CONCURRENCY: i64 = 4;
const MAX_CONCURRENCY: i64 = 64;

/// A webhook sends events with a body (Bidline's JSON unless it has a template); a pixel
/// is a GET whose URL carries the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "WebhookKind")]
pub enum Kind {
    Webhook,
    Pixel,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "WebhookMethod")]
pub enum Method {
    #[serde(rename = "POST")]
    Post,
    #[serde(rename = "GET")]
    Get,
    #[serde(rename = "PUT")]
    Put,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Get => "GET",
            Self::Put => "PUT",
        }
    }

    fn parse(text: &str) -> Option<Method> {
        [Self::Post, Self::Get, Self::Put].into_iter().find(|m| m.as_str() == text)
    }
}

/// An endpoint as the API answers it.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Webhook {
    pub id: Uuid,
    pub name: String,
    pub enabled: bool,
    pub kind: Kind,
    /// May hold tokens; their values are URL-encoded.
    pub url: String,
    pub method: Method,
    pub events: Vec<Event>,
    /// Filters: `null` matches every campaign, publisher, buyer.
    pub campaign_id: Option<Uuid>,
    pub publisher_id: Option<Uuid>,
    pub buyer_id: Option<Uuid>,
    /// Conditions on the call's attributes, all of which must hold.
    pub conditions: Vec<Condition>,
    pub headers: BTreeMap<String, String>,
    /// `null`: Bidline's JSON body. Token values are escaped for JSON strings.
    pub body_template: Option<String>,
    /// Requests in flight to this endpoint at most.
    pub max_concurrency: i64,
    /// While a rotated-out secret still signs (beside the new one).
    #[serde(serialize_with = "crate::time::serialize_optional")]
    #[schemars(with = "Option<String>")]
    pub previous_secret_until: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::time::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize")]
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub secret_sealed: String,
    #[serde(skip)]
    pub previous_secret_sealed: Option<String>,
    /// The secret in clear, only in the answer to the request that made it.
    #[serde(skip)]
    pub new_secret: Option<String>,
}

/// A `POST` (all of it) or `PATCH` (any part) body.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "WebhookInput")]
pub struct Input {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub kind: Option<Kind>,
    pub url: Option<String>,
    pub method: Option<String>,
    pub events: Option<Vec<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub campaign_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    pub publisher_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    pub buyer_id: Option<Option<Uuid>>,
    pub conditions: Option<Vec<conditions::Input>>,
    pub headers: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub body_template: Option<Option<String>>,
    pub max_concurrency: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub struct Row {
    id: Uuid,
    name: String,
    status: String,
    kind: String,
    url: String,
    method: String,
    events: Json<Vec<Event>>,
    campaign_id: Option<Uuid>,
    publisher_id: Option<Uuid>,
    buyer_id: Option<Uuid>,
    conditions: Json<Vec<Condition>>,
    headers: Json<BTreeMap<String, String>>,
    body_template: Option<String>,
    max_concurrency: i64,
    secret_sealed: String,
    previous_secret_sealed: Option<String>,
    previous_secret_until: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// What an endpoint's sealed secrets are bound to: its row and field.
pub fn secret_context(id: Uuid, previous: bool) -> Vec<u8> {
    let field: &[u8] = if previous { b"webhook previous secret" } else { b"webhook secret" };
    [id.as_bytes().as_slice(), field].concat()
}

impl Webhook {
    /// The secrets that sign a request sent `now`: the current one, and the previous one
    /// while it is honoured.
    pub fn signing_secrets(&self, now: DateTime<Utc>) -> Result<Vec<String>, secrets::SecretError> {
        let key = secrets::key()?;
        let mut secrets = vec![key.open(&self.secret_sealed, &secret_context(self.id, false))?];
        if let (Some(sealed), Some(until)) =
            (&self.previous_secret_sealed, self.previous_secret_until)
            && now < until
        {
            secrets.push(key.open(sealed, &secret_context(self.id, true))?);
        }
        Ok(secrets)
    }

    /// The endpoint with a new secret (shown once); the current one keeps signing beside
    /// it until `now + overlap`.
    pub fn rotated(
        &self,
        now: DateTime<Utc>,
        overlap: chrono::Duration,
    ) -> Result<Webhook, secrets::SecretError> {
        let key = secrets::key()?;
        let current = key.open(&self.secret_sealed, &secret_context(self.id, false))?;
        let secret = signature::new_secret();
        Ok(Webhook {
            secret_sealed: key.seal(&secret, &secret_context(self.id, false)),
            previous_secret_sealed: Some(key.seal(&current, &secret_context(self.id, true))),
            previous_secret_until: Some(now + overlap),
            new_secret: Some(secret),
            updated_at: now,
            ..self.clone()
        })
    }
}

impl Resource for Webhook {
    const KIND: &'static str = "webhook";
    const TABLE: &'static str = "webhooks";
    /// Receivers take their API keys in headers.
    const WRITE_ONLY_HEADERS: Option<&'static str> = Some("/headers");
    type Row = Row;
    type Input = Input;

    fn write_only_headers_mut(&mut self) -> Option<&mut BTreeMap<String, String>> {
        Some(&mut self.headers)
    }

    fn id(&self) -> Uuid {
        self.id
    }

    fn from_row(row: Row) -> Self {
        Self {
            id: row.id,
            name: row.name,
            enabled: row.status == Status::Active.as_str(),
            // The columns' CHECKs admit only these.
            kind: if row.kind == "pixel" { Kind::Pixel } else { Kind::Webhook },
            url: row.url,
            method: Method::parse(&row.method).unwrap_or(Method::Post),
            events: row.events.0,
            campaign_id: row.campaign_id,
            publisher_id: row.publisher_id,
            buyer_id: row.buyer_id,
            conditions: row.conditions.0,
            headers: row.headers.0,
            body_template: row.body_template,
            max_concurrency: row.max_concurrency,
            previous_secret_until: row.previous_secret_until,
            created_at: row.created_at,
            updated_at: row.updated_at,
            secret_sealed: row.secret_sealed,
            previous_secret_sealed: row.previous_secret_sealed,
            new_secret: None,
        }
    }

    fn apply(current: Option<&Self>, input: Input) -> Result<Self, Invalid> {
        let Stamp { id, created_at, updated_at } = Stamp::of(current.map(|w| (w.id, w.created_at)));
        let mut invalid = Invalid::default();
        let name = name_field(current.map(|w| w.name.as_str()), input.name, &mut invalid);
        let enabled = input.enabled.or(current.map(|w| w.enabled)).unwrap_or(true);
        let kind = input.kind.or(current.map(|w| w.kind)).unwrap_or(Kind::Webhook);
        let url = match input.url.map(|u| u.trim().to_owned()).or(current.map(|w| w.url.clone())) {
            Some(url) => {
                check_url(&url, &mut invalid);
                url
            }
            None => {
                invalid.add("url", "is required");
                String::new()
            }
        };
        let method = match (input.method.as_deref(), kind) {
            (Some(text), _) => Method::parse(&text.to_ascii_uppercase()).unwrap_or_else(|| {
                invalid.add("method", "must be POST, GET or PUT");
                Method::Post
            }),
            (None, Kind::Pixel) => Method::Get,
            (None, Kind::Webhook) => current.map(|w| w.method).unwrap_or(Method::Post),
        };
        if kind == Kind::Pixel && method != Method::Get {
            invalid.add("method", "a pixel is a GET");
        }
        let events = match input.events {
            Some(names) => {
                let mut events = Vec::new();
                for name in &names {
                    match Event::parse(name.trim()) {
                        Some(event) if !events.contains(&event) => events.push(event),
                        Some(_) => {}
                        None => invalid.add(
                            "events",
                            format!(
                                "{name:?} is not an event; events are {}",
                                Event::ALL.map(Event::as_str).join(", ")
                            ),
                        ),
                    }
                }
                events
            }
            None => match (current, kind) {
                (Some(w), _) => w.events.clone(),
                // A pixel is a publisher's conversion postback, unless told otherwise.
                (None, Kind::Pixel) => vec![Event::CallConverted],
                (None, Kind::Webhook) => Vec::new(),
            },
        };
        if events.is_empty() {
            invalid.add("events", "name at least one event");
        }
        let conditions = match input.conditions {
            Some(inputs) => conditions::parse(inputs, &mut invalid),
            None => current.map(|w| w.conditions.clone()).unwrap_or_default(),
        };
        let headers =
            input.headers.unwrap_or_else(|| current.map(|w| w.headers.clone()).unwrap_or_default());
        check_headers(&headers, &mut invalid);
        let body_template =
            patched(input.body_template, current.and_then(|w| w.body_template.clone()))
                .filter(|body| !body.trim().is_empty());
        if let Some(body) = &body_template {
            if method == Method::Get {
                invalid.add("body_template", "a GET has no body");
            } else if body.len() > MAX_BODY_TEMPLATE {
                invalid.add(
                    "body_template",
                    format!("must be at most {} KiB", MAX_BODY_TEMPLATE / 1024),
                );
            } else if let Err(problem) = template::check_with(body, TOKENS) {
                invalid.add("body_template", problem);
            }
        }
        let max_concurrency = input
            .max_concurrency
            .or(current.map(|w| w.max_concurrency))
            .unwrap_or(DEFAULT_CONCURRENCY);
        if !(1..=MAX_CONCURRENCY).contains(&max_concurrency) {
            invalid.add("max_concurrency", format!("must be 1 to {MAX_CONCURRENCY}"));
        }
        let (secret_sealed, new_secret) = match current {
            Some(w) => (w.secret_sealed.clone(), None),
            None => match secrets::key() {
                Ok(key) => {
                    let secret = signature::new_secret();
                    (key.seal(&secret, &secret_context(id, false)), Some(secret))
                }
                Err(_) => {
                    invalid.add("secret", "cannot be made: the server has no secret key");
                    (String::new(), None)
                }
            },
        };
        invalid.into_result()?;
        Ok(Webhook {
            id,
            name,
            enabled,
            kind,
            url,
            method,
            events,
            campaign_id: patched(input.campaign_id, current.and_then(|w| w.campaign_id)),
            publisher_id: patched(input.publisher_id, current.and_then(|w| w.publisher_id)),
            buyer_id: patched(input.buyer_id, current.and_then(|w| w.buyer_id)),
            conditions,
            headers,
            body_template,
            max_concurrency,
            previous_secret_until: current.and_then(|w| w.previous_secret_until),
            created_at,
            updated_at,
            secret_sealed,
            previous_secret_sealed: current.and_then(|w| w.previous_secret_sealed.clone()),
            new_secret,
        })
    }

    fn shown_once(&self) -> Option<(&'static str, String)> {
        self.new_secret.clone().map(|secret| ("secret", secret))
    }

    fn check_references<'a>(
        db: &'a Db,
        org: OrgId,
        webhook: &'a Self,
    ) -> BoxFuture<'a, Result<(), NetworkError>> {
        Box::pin(async move {
            let mut invalid = Invalid::default();
            for (field, table, what, id) in [
                ("campaign_id", "campaigns", "campaign", webhook.campaign_id),
                ("publisher_id", "publishers", "publisher", webhook.publisher_id),
                ("buyer_id", "buyers", "buyer", webhook.buyer_id),
            ] {
                if let Some(id) = id {
                    check_own(&mut invalid, db, org, (field, table, what), id).await?;
                }
            }
            Ok(invalid.into_result()?)
        })
    }

    fn save<'a>(
        tx: &'a mut Tx,
        org: OrgId,
        webhook: &'a Self,
        new: bool,
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
        Box::pin(async move {
            // The secrets are written when the endpoint is made and by [`rotate`], never
            // by an edit: a rotation at the same moment must not be undone.
            let sql = if new {
                "INSERT INTO webhooks (name, status, kind, url, method, events, campaign_id, \
                 publisher_id, buyer_id, conditions, headers, body_template, max_concurrency, \
                 updated_at, organization_id, id, secret_sealed, previous_secret_sealed, \
                 previous_secret_until, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $14)"
            } else {
                "UPDATE webhooks SET name = $1, status = $2, kind = $3, url = $4, method = $5, \
                 events = $6, campaign_id = $7, publisher_id = $8, buyer_id = $9, conditions = $10, \
                 headers = $11, body_template = $12, max_concurrency = $13, updated_at = $14 \
                 WHERE organization_id = $15 AND id = $16"
            };
            let status = if webhook.enabled { Status::Active } else { Status::Paused };
            with_tx!(tx, tx => {
                let mut query = sqlx::query(sql)
                    .bind(&webhook.name)
                    .bind(status.as_str())
                    .bind(match webhook.kind { Kind::Webhook => "webhook", Kind::Pixel => "pixel" })
                    .bind(&webhook.url)
                    .bind(webhook.method.as_str())
                    .bind(Json(&webhook.events))
                    .bind(webhook.campaign_id)
                    .bind(webhook.publisher_id)
                    .bind(webhook.buyer_id)
                    .bind(Json(&webhook.conditions))
                    .bind(Json(&webhook.headers))
                    .bind(&webhook.body_template)
                    .bind(webhook.max_concurrency)
                    .bind(webhook.updated_at)
                    .bind(org)
                    .bind(webhook.id);
                if new {
                    query = query
                        .bind(&webhook.secret_sealed)
                        .bind(&webhook.previous_secret_sealed)
                        .bind(webhook.previous_secret_until);
                }
                query.execute(&mut **tx).await.map(|done| done.rows_affected())
            })
        })
    }
}

/// Gives the organization's endpoint `id` a new secret (in the answer only); the old one
/// keeps signing beside it for `overlap`. Recorded in the endpoint's history.
pub async fn rotate(
    db: &Db,
    org: OrgId,
    id: Uuid,
    overlap: chrono::Duration,
    by: By,
) -> Result<Webhook, NetworkError> {
    let current: Webhook = resource::get(db, org, id).await?;
    let rotated = current.rotated(Utc::now(), overlap).map_err(|error| {
        let mut invalid = Invalid::default();
        invalid.add("secret", format!("cannot be rotated: {error}"));
        invalid
    })?;
    let (before, after) = (serde_json::json!(current), serde_json::json!(rotated));
    let change = Change {
        org,
        kind: Webhook::KIND,
        object: id,
        by,
        action: Action::Updated,
        before: Some(&before),
        after: Some(&after),
    };
    let mut tx = db.begin().await?;
    // Only if nobody rotated it meanwhile: the secret shown must be the one that signs.
    let written = with_tx!(&mut tx, tx => {
        sqlx::query(
            "UPDATE webhooks SET secret_sealed = $1, previous_secret_sealed = $2, \
             previous_secret_until = $3, updated_at = $4 \
             WHERE organization_id = $5 AND id = $6 AND secret_sealed = $7",
        )
        .bind(&rotated.secret_sealed)
        .bind(&rotated.previous_secret_sealed)
        .bind(rotated.previous_secret_until)
        .bind(rotated.updated_at)
        .bind(org)
        .bind(id)
        .bind(&current.secret_sealed)
        .execute(&mut **tx)
        .await?
        .rows_affected()
    });
    if written == 0 {
        return Err(NetworkError::InUse("it was changed meanwhile: try again".into()));
    }
    history::record(&mut tx, &change).await?;
    tx.commit().await?;
    Ok(rotated)
}

/// An http(s) URL of at most [`MAX_URL`] characters whose tokens are known. (Whether its
/// host is public is checked when it is requested: names can change what they resolve to.)
fn check_url(url: &str, invalid: &mut Invalid) {
    if url.len() > MAX_URL {
        invalid.add("url", format!("must be at most {MAX_URL} characters"));
        return;
    }
    if let Err(problem) = template::check_url(url, TOKENS) {
        invalid.add("url", problem);
    }
}

fn check_headers(headers: &BTreeMap<String, String>, invalid: &mut Invalid) {
    if headers.len() > MAX_HEADERS {
        invalid.add("headers", format!("at most {MAX_HEADERS} headers"));
    }
    for (name, value) in headers {
        let field = format!("headers.{name}");
        if axum::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            invalid.add(field, "is not a header name");
        } else if name.to_ascii_lowercase().starts_with("bidline-") {
            invalid.add(field, "Bidline-* headers are Bidline's own");
        } else if value.len() > MAX_HEADER_VALUE || value.contains(['\r', '\n']) {
            invalid
                .add(field, format!("must be one line of at most {MAX_HEADER_VALUE} characters"));
        } else if let Err(problem) = template::check_with(value, TOKENS) {
            invalid.add(field, problem);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply_json(json: serde_json::Value) -> Result<Webhook, Invalid> {
        secrets::install(secrets::SecretKey::generate());
        Webhook::apply(None, serde_json::from_value(json).unwrap())
    }

    #[test]
    fn a_new_webhook_gets_a_secret_shown_once_and_sealed() {
        let webhook = apply_json(serde_json::json!({
            "name": "CRM", "url": "https://crm.example/hooks/{{campaign.id}}", "events": ["call.completed", "call.completed"]
        }))
        .unwrap();
        assert_eq!(webhook.events, [Event::CallCompleted]);
        assert_eq!(webhook.method, Method::Post);
        let (field, secret) = webhook.shown_once().unwrap();
        assert!(field == "secret" && secret.starts_with("whsec_"));
        assert_eq!(webhook.signing_secrets(Utc::now()).unwrap(), std::slice::from_ref(&secret));
        let json = serde_json::to_string(&webhook).unwrap();
        assert!(!json.contains(&secret) && !json.contains(&webhook.secret_sealed), "{json}");
    }

    #[test]
    fn a_pixel_is_a_get_on_conversions_unless_told() {
        let pixel = apply_json(serde_json::json!({
            "name": "Pub postback", "kind": "pixel", "url": "https://pub.example/pb?click={{tag.gclid}}&payout={{call.payout}}"
        }))
        .unwrap();
        assert_eq!(
            (pixel.method, pixel.events.as_slice()),
            (Method::Get, [Event::CallConverted].as_slice())
        );
        let Err(invalid) = apply_json(serde_json::json!({
            "name": "x", "kind": "pixel", "method": "POST", "url": "ftp://x", "events": ["call.nope"],
            "body_template": "{}", "headers": {"Bidline-Signature": "x"}, "max_concurrency": 0
        })) else {
            panic!("accepted")
        };
        assert_eq!(
            invalid.0.keys().map(String::as_str).collect::<Vec<_>>(),
            ["events", "headers.Bidline-Signature", "max_concurrency", "method", "url"]
        );
    }

    #[test]
    fn templates_may_use_outcome_tokens_but_not_unknown_ones() {
        assert!(
            apply_json(serde_json::json!({
                "name": "x", "url": "https://x.example/", "events": ["call.converted"],
                "body_template": "{\"rev\":\"{{call.revenue}}\",\"src\":\"{{tag.utm_source}}\"}"
            }))
            .is_ok()
        );
        let Err(invalid) = apply_json(serde_json::json!({
            "name": "x", "url": "https://x.example/{{call.nope}}", "events": ["call.converted"]
        })) else {
            panic!("accepted")
        };
        assert!(invalid.0["url"].contains("{{call.nope}}"));
    }

    #[test]
    fn a_rotation_keeps_the_old_secret_signing_for_the_overlap() {
        let webhook = apply_json(
            serde_json::json!({"name": "x", "url": "https://x.example/", "events": ["bid.won"]}),
        )
        .unwrap();
        let old = webhook.new_secret.clone().unwrap();
        let now = Utc::now();
        let rotated = webhook.rotated(now, chrono::Duration::hours(24)).unwrap();
        let new = rotated.new_secret.clone().unwrap();
        assert_ne!(old, new);
        assert_eq!(rotated.signing_secrets(now).unwrap(), [new.clone(), old]);
        assert_eq!(rotated.signing_secrets(now + chrono::Duration::hours(25)).unwrap(), [new]);
    }
}
