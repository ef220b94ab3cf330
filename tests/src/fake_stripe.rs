//! A fake Stripe API on 127.0.0.1, for what cannot be reached from here. It speaks
//! Stripe's wire format as Bidline uses it: form-encoded requests with a Bearer secret
//! key, JSON answers shaped as Stripe's objects, Stripe's error bodies, idempotency keys
//! (a key seen before with the same request is answered with the first answer, with a
//! different one it is an `idempotency_error`), and Stripe-signed webhook events. It keeps
//! what a real account would (customers, meter events by identifier) and records every
//! request, so tests check what Bidline sent.
//!
//! Sessions' URLs (Checkout, the customer portal) lead to pages this server hosts, so a
//! browser test follows the link as a customer would.
//!
//! Misbehaviour is scripted per request, in arrival order: an error status answered
//! before anything is done (as Stripe's rate limiter and failed requests do), or the
//! request done and its answer held back (the case where a client times out on a request
//! Stripe did process).

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Router,
    body::Bytes,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

pub const SECRET_KEY: &str = "sk_test_bidline_fake";
pub const WEBHOOK_SECRET: &str = "whsec_bidline_fake";

/// How the fake answers one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Misbehaviour {
    /// Answers as Stripe would (a place in a script).
    AsUsual,
    /// Answers this status with Stripe's error body, having done nothing.
    Fail(u16),
    /// Does the request, then holds the answer back this long.
    SlowAnswer(Duration),
}

/// One request as the fake received it.
#[derive(Clone, Debug)]
pub struct StripeRequest {
    pub method: String,
    pub path: String,
    pub idempotency_key: Option<String>,
    pub stripe_version: Option<String>,
    /// The form fields, in order (`payload[value]`, `line_items[0][price]`, …).
    pub form: Vec<(String, String)>,
    pub status: u16,
    pub at: std::time::Instant,
}

impl StripeRequest {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A meter event the fake account counted (each identifier once).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MeterEvent {
    pub identifier: String,
    pub event_name: String,
    pub customer: String,
    pub value: i64,
    pub timestamp: i64,
}

#[derive(Default)]
struct Account {
    requests: Vec<StripeRequest>,
    /// Path → how its next requests are answered (last first).
    script: HashMap<String, Vec<Misbehaviour>>,
    /// Idempotency key → (the request's path and form, the answer).
    idempotent: HashMap<String, (String, u16, Value)>,
    customers: Vec<(String, Value)>,
    events: Vec<MeterEvent>,
    /// Identifiers sent again under a new idempotency key (a double bill at Stripe).
    duplicate_identifiers: Vec<String>,
    invoices: Vec<Value>,
    next: u64,
    /// This server's address, for the hosted pages (Checkout, the portal) it serves.
    base: String,
}

#[derive(Clone)]
pub struct FakeStripe {
    addr: SocketAddr,
    account: Arc<Mutex<Account>>,
}

impl FakeStripe {
    pub async fn start() -> FakeStripe {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let account =
            Arc::new(Mutex::new(Account { base: format!("http://{addr}"), ..Account::default() }));
        let app = Router::new()
            .route("/v1/customers", post(create_customer).get(list_customers))
            .route("/v1/billing/meter_events", post(create_meter_event))
            .route("/v1/checkout/sessions", post(create_checkout_session))
            .route("/v1/billing_portal/sessions", post(create_portal_session))
            .route("/v1/invoices", get(list_invoices).post(create_invoice))
            .route("/v1/invoiceitems", post(create_invoice_item))
            .route("/v1/invoices/{id}", get(retrieve_invoice))
            .route("/v1/invoices/{id}/finalize", post(finalize_invoice))
            .route("/hosted/{page}", get(hosted_page))
            .fallback(|| async {
                stripe_error(404, "invalid_request_error", "Unrecognized request URL")
            })
            .with_state(account.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve fake Stripe") });
        FakeStripe { addr, account }
    }

    /// The API base Bidline is given (`--stripe-api-base`).
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// Bidline's flags to bill through this fake, with `prices` as the metered prices.
    pub fn args(&self) -> Vec<String> {
        [
            "--stripe-api-base",
            &self.url(),
            "--stripe-secret-key",
            SECRET_KEY,
            "--stripe-webhook-secret",
            WEBHOOK_SECRET,
            "--stripe-metered-prices",
            "price_minutes,price_pings,price_numbers",
        ]
        .map(str::to_owned)
        .to_vec()
    }

    /// Answers the next requests to `path` as `script` says, then normally again.
    pub fn misbehave(&self, path: &str, script: Vec<Misbehaviour>) {
        let script = script.into_iter().rev().collect();
        self.account.lock().unwrap().script.insert(path.to_owned(), script);
    }

    pub fn requests(&self) -> Vec<StripeRequest> {
        self.account.lock().unwrap().requests.clone()
    }

    pub fn requests_to(&self, path: &str) -> Vec<StripeRequest> {
        self.requests().into_iter().filter(|r| r.path == path).collect()
    }

    /// The meter events counted, each identifier once.
    pub fn meter_events(&self) -> Vec<MeterEvent> {
        self.account.lock().unwrap().events.clone()
    }

    pub fn duplicate_identifiers(&self) -> Vec<String> {
        self.account.lock().unwrap().duplicate_identifiers.clone()
    }

    pub fn customers(&self) -> Vec<(String, Value)> {
        self.account.lock().unwrap().customers.clone()
    }

    /// Adds an invoice to the account (as Stripe's billing run would).
    pub fn add_invoice(&self, invoice: Value) {
        self.account.lock().unwrap().invoices.push(invoice);
    }

    /// The invoices in the account, with their lines (`lines.data`).
    pub fn invoices(&self) -> Vec<Value> {
        self.account.lock().unwrap().invoices.clone()
    }

    /// Waits until `count` meter events are counted (at most `timeout`).
    pub async fn wait_for_events(&self, count: usize, timeout: Duration) -> Vec<MeterEvent> {
        let started = std::time::Instant::now();
        loop {
            let events = self.meter_events();
            if events.len() >= count {
                return events;
            }
            assert!(
                started.elapsed() < timeout,
                "{} of {count} meter events after {timeout:?}",
                events.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// An event as Stripe sends it to a webhook endpoint, and its `Stripe-Signature` header
/// signed at `at` (unix seconds) with `secret`.
pub fn signed_event(
    kind: &str,
    object: Value,
    created: i64,
    at: i64,
    secret: &str,
) -> (String, String) {
    let id = format!("evt_{}", uuid::Uuid::now_v7().simple());
    let body = json!({
        "id": id, "object": "event", "api_version": "2025-09-30.clover", "created": created,
        "livemode": false, "pending_webhooks": 1, "type": kind,
        "request": {"id": null, "idempotency_key": null},
        "data": {"object": object},
    })
    .to_string();
    (body.clone(), signature(&body, at, secret))
}

/// `t=<at>,v1=<hex HMAC-SHA256 of "<at>.<body>">`, as Stripe signs.
pub fn signature(body: &str, at: i64, secret: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{at}.{body}").as_bytes());
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={at},v1={hex}")
}

fn stripe_error(status: u16, kind: &str, message: &str) -> Response {
    let body = json!({"error": {"type": kind, "message": message}});
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

type Shared = State<Arc<Mutex<Account>>>;

/// What every endpoint does around its own work: checks the key, records the request,
/// applies the script and idempotency, then answers.
async fn handle(
    account: &Arc<Mutex<Account>>,
    method: &str,
    path: &str,
    headers: &HeaderMap,
    form: Vec<(String, String)>,
    work: impl FnOnce(&mut Account, &[(String, String)]) -> (u16, Value),
) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let mut request = StripeRequest {
        method: method.to_owned(),
        path: path.to_owned(),
        idempotency_key: header("idempotency-key"),
        stripe_version: header("stripe-version"),
        form,
        status: 200,
        at: std::time::Instant::now(),
    };
    let (status, body, hold) = {
        let mut account = account.lock().unwrap();
        let misbehaviour = account.script.get_mut(path).and_then(Vec::pop);
        // Stripe compares parameters, not their order.
        let mut fields = request.form.clone();
        fields.sort();
        let fingerprint = format!("{path}?{fields:?}");
        let (status, body, hold) = if header("authorization").as_deref()
            != Some(&format!("Bearer {SECRET_KEY}"))
        {
            (
                401,
                json!({"error": {"type": "invalid_request_error", "message": "Invalid API Key provided"}}),
                None,
            )
        } else if let Some(Misbehaviour::Fail(status)) = misbehaviour {
            let kind = if status == 429 { "invalid_request_error" } else { "api_error" };
            (
                status,
                json!({"error": {"type": kind, "message": format!("scripted {status}")}}),
                None,
            )
        } else {
            let hold = match misbehaviour {
                Some(Misbehaviour::SlowAnswer(hold)) => Some(hold),
                _ => None,
            };
            let replay = request
                .idempotency_key
                .as_ref()
                .and_then(|key| account.idempotent.get(key).cloned());
            match replay {
                Some((seen, status, body)) if seen == fingerprint => (status, body, hold),
                Some(_) => (
                    400,
                    json!({"error": {"type": "idempotency_error",
                    "message": "Keys for idempotent requests can only be used with the same parameters they were first used with."}}),
                    hold,
                ),
                None => {
                    let (status, body) = work(&mut account, &request.form);
                    if let Some(key) = &request.idempotency_key {
                        account.idempotent.insert(key.clone(), (fingerprint, status, body.clone()));
                    }
                    (status, body, hold)
                }
            }
        };
        request.status = status;
        account.requests.push(request);
        (status, body, hold)
    };
    if let Some(hold) = hold {
        tokio::time::sleep(hold).await;
    }
    (StatusCode::from_u16(status).unwrap(), axum::Json(body)).into_response()
}

fn form(body: &Bytes) -> Vec<(String, String)> {
    url::form_urlencoded::parse(body).into_owned().collect()
}

fn field<'f>(form: &'f [(String, String)], name: &str) -> Option<&'f str> {
    form.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
}

fn invalid(message: &str) -> (u16, Value) {
    (400, json!({"error": {"type": "invalid_request_error", "message": message}}))
}

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

async fn create_customer(State(account): Shared, headers: HeaderMap, body: Bytes) -> Response {
    handle(&account, "POST", "/v1/customers", &headers, form(&body), |account, form| {
        account.next += 1;
        let id = format!("cus_fake{:04}", account.next);
        let metadata: serde_json::Map<String, Value> = form
            .iter()
            .filter_map(|(name, value)| {
                let key = name.strip_prefix("metadata[")?.strip_suffix(']')?;
                Some((key.to_owned(), json!(value)))
            })
            .collect();
        let customer = json!({"id": id, "object": "customer", "created": now(), "livemode": false,
            "name": field(form, "name"), "email": null, "metadata": metadata,
            "invoice_settings": {"default_payment_method": null}});
        account.customers.push((id, customer.clone()));
        (200, customer)
    })
    .await
}

async fn create_meter_event(State(account): Shared, headers: HeaderMap, body: Bytes) -> Response {
    handle(&account, "POST", "/v1/billing/meter_events", &headers, form(&body), |account, form| {
        let Some(event_name) = field(form, "event_name") else {
            return invalid("Missing required param: event_name.");
        };
        let Some(customer) = field(form, "payload[stripe_customer_id]") else {
            return invalid("Missing required param: payload[stripe_customer_id].");
        };
        if !account.customers.iter().any(|(id, _)| id == customer) {
            return invalid(&format!("No such customer: '{customer}'"));
        }
        let Some(value) = field(form, "payload[value]").and_then(|v| v.parse::<i64>().ok()) else {
            return invalid("payload[value] must be a number.");
        };
        let timestamp = field(form, "timestamp").and_then(|t| t.parse().ok()).unwrap_or_else(now);
        if timestamp < now() - 35 * 86_400 || timestamp > now() + 300 {
            return invalid("timestamp must be within the past 35 days or up to 5 minutes in the future.");
        }
        let identifier = field(form, "identifier").map_or_else(|| format!("auto_{}", account.next), str::to_owned);
        if account.events.iter().any(|event| event.identifier == identifier) {
            // Stripe reports these later (meter error reports); the fake remembers them.
            account.duplicate_identifiers.push(identifier.clone());
        } else {
            account.events.push(MeterEvent {
                identifier: identifier.clone(),
                event_name: event_name.to_owned(),
                customer: customer.to_owned(),
                value,
                timestamp,
            });
        }
        (200, json!({"object": "billing.meter_event", "created": now(), "event_name": event_name,
            "identifier": identifier, "livemode": false,
            "payload": {"stripe_customer_id": customer, "value": value.to_string()}, "timestamp": timestamp}))
    })
    .await
}

async fn create_checkout_session(
    State(account): Shared,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&account, "POST", "/v1/checkout/sessions", &headers, form(&body), |account, form| {
        if field(form, "mode") != Some("subscription")
            || field(form, "line_items[0][price]").is_none()
        {
            return invalid(
                "A subscription Checkout Session needs mode=subscription and line_items.",
            );
        }
        account.next += 1;
        let id = format!("cs_test_fake{:04}", account.next);
        (
            200,
            json!({"id": id, "object": "checkout.session", "mode": "subscription",
            "customer": field(form, "customer"), "status": "open", "livemode": false,
            "success_url": field(form, "success_url"), "cancel_url": field(form, "cancel_url"),
            "url": format!("{}/hosted/{id}", account.base)}),
        )
    })
    .await
}

async fn create_portal_session(
    State(account): Shared,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(&account, "POST", "/v1/billing_portal/sessions", &headers, form(&body), |account, form| {
        account.next += 1;
        let id = format!("bps_fake{:04}", account.next);
        (200, json!({"id": id, "object": "billing_portal.session", "customer": field(form, "customer"),
            "return_url": field(form, "return_url"), "livemode": false,
            "url": format!("{}/hosted/{id}", account.base)}))
    })
    .await
}

async fn list_invoices(
    State(account): Shared,
    headers: HeaderMap,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let form: Vec<(String, String)> = query.into_iter().collect();
    handle(&account, "GET", "/v1/invoices", &headers, form, |account, form| {
        let customer = field(form, "customer");
        let data: Vec<Value> = account
            .invoices
            .iter()
            .filter(|invoice| customer.is_none_or(|c| invoice["customer"] == c))
            .cloned()
            .collect();
        (200, json!({"object": "list", "url": "/v1/invoices", "has_more": false, "data": data}))
    })
    .await
}

/// The page Stripe hosts at a session's URL (Checkout, the portal), as a browser lands on it.
async fn hosted_page(axum::extract::Path(page): axum::extract::Path<String>) -> Response {
    let html =
        format!("<!doctype html><title>Fake Stripe</title><h1 id=\"fake-stripe\">{page}</h1>");
    ([("content-type", "text/html")], html).into_response()
}

async fn list_customers(State(account): Shared, headers: HeaderMap) -> Response {
    handle(&account, "GET", "/v1/customers", &headers, Vec::new(), |account, _| {
        let data: Vec<Value> = account.customers.iter().map(|(_, c)| c.clone()).collect();
        (200, json!({"object": "list", "url": "/v1/customers", "has_more": false, "data": data}))
    })
    .await
}

async fn create_invoice(State(account): Shared, headers: HeaderMap, body: Bytes) -> Response {
    handle(&account, "POST", "/v1/invoices", &headers, form(&body), |account, form| {
        let Some(customer) = field(form, "customer") else {
            return invalid("Missing required param: customer.");
        };
        if !account.customers.iter().any(|(id, _)| id == customer) {
            return invalid(&format!("No such customer: '{customer}'"));
        }
        if field(form, "collection_method") == Some("send_invoice") && field(form, "days_until_due").is_none() {
            return invalid("days_until_due is required for send_invoice invoices.");
        }
        account.next += 1;
        let id = format!("in_fake{:04}", account.next);
        let invoice = json!({"id": id, "object": "invoice", "customer": customer, "status": "draft",
            "collection_method": field(form, "collection_method"), "description": field(form, "description"),
            "currency": "usd", "total": 0, "amount_due": 0, "created": now(), "number": null,
            "hosted_invoice_url": null, "livemode": false,
            "metadata": {"bidline_invoice_id": field(form, "metadata[bidline_invoice_id]")},
            "lines": {"object": "list", "data": []}});
        account.invoices.push(invoice.clone());
        (200, invoice)
    })
    .await
}

async fn create_invoice_item(State(account): Shared, headers: HeaderMap, body: Bytes) -> Response {
    handle(&account, "POST", "/v1/invoiceitems", &headers, form(&body), |account, form| {
        let (Some(invoice_id), Some(amount)) =
            (field(form, "invoice"), field(form, "amount").and_then(|a| a.parse::<i64>().ok()))
        else {
            return invalid("An invoice item here needs invoice and amount.");
        };
        if field(form, "currency") != Some("usd") {
            return invalid("currency must be given.");
        }
        account.next += 1;
        let id = format!("ii_fake{:04}", account.next);
        let Some(invoice) = account.invoices.iter_mut().find(|i| i["id"] == invoice_id) else {
            return invalid(&format!("No such invoice: '{invoice_id}'"));
        };
        if invoice["status"] != "draft" {
            return invalid("Items can only be added to draft invoices.");
        }
        let item = json!({"id": id, "object": "invoiceitem", "amount": amount, "currency": "usd",
            "description": field(form, "description"), "invoice": invoice_id, "customer": field(form, "customer")});
        invoice["lines"]["data"].as_array_mut().unwrap().push(item.clone());
        let total = invoice["total"].as_i64().unwrap() + amount;
        invoice["total"] = json!(total);
        invoice["amount_due"] = json!(total);
        (200, item)
    })
    .await
}

async fn finalize_invoice(
    State(account): Shared,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/v1/invoices/{id}/finalize");
    handle(&account, "POST", &path.clone(), &headers, form(&body), move |account, _| {
        let base = account.base.clone();
        account.next += 1;
        let number = format!("FAKE-{:04}", account.next);
        let Some(invoice) = account.invoices.iter_mut().find(|i| i["id"] == id.as_str()) else {
            return (404, json!({"error": {"type": "invalid_request_error", "message": format!("No such invoice: '{id}'")}}));
        };
        if invoice["status"] != "draft" {
            return invalid("This invoice is already finalized.");
        }
        invoice["status"] = json!("open");
        invoice["number"] = json!(number);
        invoice["hosted_invoice_url"] = json!(format!("{base}/hosted/{id}"));
        (200, invoice.clone())
    })
    .await
}

async fn retrieve_invoice(
    State(account): Shared,
    axum::extract::Path(id): axum::extract::Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v1/invoices/{id}");
    handle(&account, "GET", &path, &headers, Vec::new(), move |account, _| {
        match account.invoices.iter().find(|i| i["id"] == id.as_str()) {
            Some(invoice) => (200, invoice.clone()),
            None => (404, json!({"error": {"type": "invalid_request_error", "message": format!("No such invoice: '{id}'")}})),
        }
    })
    .await
}
