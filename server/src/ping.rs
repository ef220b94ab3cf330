//! Pings to RTB targets: the request a target's settings describe, sent only to public
//! addresses (unless the operator allows private ones), and its answer read with the
//! target's JSONPaths, through one pooled client ([`Pinger`]). The dashboard's and the
//! API's test ping use it now; the routing engine will ping with it for every call.

use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
    time::{Duration, Instant},
};

use bidline_model::ping::{ParsedBid, PingReport, PingRequest, PingResponse};
use serde_json::{Value, json};
use serde_json_path::JsonPath;

use crate::{
    accounts::OrgId,
    db::Db,
    network::{
        Invalid, NetworkError, resource,
        targets::{
            Target,
            revenue::{BidUnit, Method, Revenue, Rtb},
        },
        template,
    },
    outbound,
};

/// How much of an answer is kept for people to read.
const KEPT_BODY: usize = 8 * 1024;
/// A larger answer is a lost bid: no buyer's bid needs more.
const MAX_ANSWER: usize = 64 * 1024;

/// What a ping says about the call. A test ping uses [`Call::sample`].
#[derive(Clone, Debug)]
pub struct Call {
    pub id: String,
    pub caller: String,
    pub area_code: String,
    pub state: String,
    pub dialed: String,
    pub campaign_id: String,
    pub publisher_id: String,
    pub tags: BTreeMap<String, String>,
}

impl Call {
    /// A plausible call for test pings, marked as a test in its tags.
    pub fn sample(campaign_id: Option<String>) -> Self {
        Self {
            id: format!("test-{}", uuid::Uuid::now_v7()),
            caller: "+12125550123".to_owned(),
            area_code: "212".to_owned(),
            state: "NY".to_owned(),
            dialed: "+18005550199".to_owned(),
            campaign_id: campaign_id.unwrap_or_default(),
            publisher_id: String::new(),
            tags: BTreeMap::from([("utm_source".to_owned(), "bidline-test".to_owned())]),
        }
    }

    pub fn attribute(&self, name: &str) -> String {
        match name {
            "call.id" => self.id.clone(),
            "caller.number" => self.caller.clone(),
            "caller.area_code" => self.area_code.clone(),
            "caller.state" => self.state.clone(),
            "dialed" => self.dialed.clone(),
            "campaign.id" => self.campaign_id.clone(),
            "publisher.id" => self.publisher_id.clone(),
            other => other
                .strip_prefix("tag.")
                .and_then(|tag| self.tags.get(tag).cloned())
                .unwrap_or_default(),
        }
    }

    /// Bidline's own ping body, used when a target has no template: the buyer has
    /// `expires_in_ms` to answer.
    fn native_body(&self, expires_in_ms: u32) -> Value {
        let number = Some(&self.caller).filter(|n| !n.is_empty());
        json!({
            "ping_id": self.id,
            "campaign_id": self.campaign_id,
            "publisher_id": self.publisher_id,
            "caller": {"number": number, "area_code": self.area_code, "state": self.state},
            "dialed": self.dialed,
            "tags": self.tags,
            "time": crate::time::rfc3339(chrono::Utc::now()),
            "expires_in_ms": expires_in_ms,
        })
    }

    /// The call as a buyer that sees only the caller's area is told it.
    fn without_number(&self) -> Call {
        Call { caller: String::new(), ..self.clone() }
    }
}

/// `template` with each `{{token}}` replaced by the call's value, escaped for a JSON
/// string (templates are JSON bodies or header values; values are numbers, ids, tags).
pub fn render(template: &str, call: &Call) -> String {
    template::render(template, |name| call.attribute(name), template::Escape::Json)
}

/// Sends pings through one HTTP client, so connections to a buyer are reused from call to
/// call; every address is checked (names by the resolver, literal addresses here).
#[derive(Clone)]
pub struct Pinger {
    client: reqwest::Client,
    allow_private: bool,
}

/// Paths compiled once: every answer of an auction is read with the same few, and
/// parsing one costs more than using it. Bounded: emptied when it grows past
/// [`COMPILED_PATHS`] (only configuration puts paths here).
static PATHS: std::sync::LazyLock<std::sync::RwLock<HashMap<String, Option<Arc<JsonPath>>>>> =
    std::sync::LazyLock::new(Default::default);
const COMPILED_PATHS: usize = 10_000;

fn compiled(path: &str) -> Option<Arc<JsonPath>> {
    if let Some(known) = PATHS.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(path) {
        return known.clone();
    }
    let parsed = JsonPath::parse(path).ok().map(Arc::new);
    let mut paths = PATHS.write().unwrap_or_else(std::sync::PoisonError::into_inner);
    if paths.len() >= COMPILED_PATHS {
        paths.clear();
    }
    paths.insert(path.to_owned(), parsed.clone());
    parsed
}

/// The first value `path` finds in `answer`.
fn first<'a>(answer: &'a Value, path: Option<&str>) -> Option<&'a Value> {
    compiled(path?)?.query(answer).first()
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().trim_start_matches('$').parse().ok(),
        _ => None,
    }
}

/// The bid in an answer, as the target's paths and unit read it.
pub fn parse_bid(rtb: &Rtb, answer: &Value) -> ParsedBid {
    let bid_cents =
        first(answer, Some(&rtb.bid_path)).and_then(number).map(|amount| match rtb.bid_unit {
            BidUnit::Cents => amount.round() as i64,
            BidUnit::Dollars => (amount * 100.0).round() as i64,
        });
    let accepted = match first(answer, rtb.accept_path.as_deref()) {
        Some(Value::Bool(accepted)) => *accepted,
        Some(Value::String(text)) => {
            matches!(text.to_ascii_lowercase().as_str(), "true" | "yes" | "1")
        }
        Some(Value::Number(n)) => n.as_f64().is_some_and(|n| n != 0.0),
        // No accept field: a positive bid is an acceptance.
        _ => bid_cents.is_some_and(|cents| cents > 0),
    };
    let destination = first(answer, rtb.destination_path.as_deref())
        .and_then(Value::as_str)
        .map(str::to_owned)
        .filter(|d| !d.is_empty());
    let seconds = |path: &Option<String>| {
        first(answer, path.as_deref()).and_then(number).map(|s| s.round() as i64)
    };
    let bid_id = first(answer, rtb.bid_id_path.as_deref()).and_then(|id| match id {
        Value::String(text) if !text.is_empty() => Some(text.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    });
    ParsedBid {
        accepted,
        bid_cents,
        destination,
        min_duration_seconds: seconds(&rtb.min_duration_path),
        bid_id,
        expires_in_seconds: seconds(&rtb.expires_in_path).filter(|s| *s > 0),
    }
}

impl Pinger {
    pub fn new(allow_private: bool) -> Result<Self, reqwest::Error> {
        let client = outbound::client(allow_private)
            // A ping is sent once: a buyer may count a retried one twice, and a retry
            // could not beat the auction's deadline anyway.
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(90))
            .build()?;
        Ok(Self { client, allow_private })
    }

    /// Sends `call`'s ping to the target described by `rtb` and reports everything.
    pub async fn send(&self, rtb: &Rtb, call: &Call) -> PingReport {
        let hidden;
        let call = if rtb.hide_caller {
            hidden = call.without_number();
            &hidden
        } else {
            call
        };
        let body = match (rtb.method, &rtb.body_template) {
            (Method::Get, _) => None,
            (Method::Post, Some(template)) => Some(render(template, call)),
            (Method::Post, None) => Some(call.native_body(rtb.timeout_ms).to_string()),
        };
        let mut headers: Vec<(String, String)> =
            rtb.headers.iter().map(|(name, value)| (name.clone(), render(value, call))).collect();
        if body.is_some()
            && !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        {
            headers.push(("Content-Type".to_owned(), "application/json".to_owned()));
        }
        let request = PingRequest {
            method: match rtb.method {
                Method::Get => "GET",
                Method::Post => "POST",
            }
            .to_owned(),
            // Values in a URL are URL-encoded, as in webhooks' URLs.
            url: template::render(
                &rtb.ping_url,
                |name| call.attribute(name),
                template::Escape::Url,
            ),
            headers,
            body,
        };
        let started = Instant::now();
        let result = exchange(self, &request, Duration::from_millis(rtb.timeout_ms.into())).await;
        let latency_ms = started.elapsed().as_millis() as u64;
        match result {
            Ok((status, text)) => {
                let (bid, error) = match serde_json::from_str::<Value>(&text) {
                    Ok(answer) => (Some(parse_bid(rtb, &answer)), None),
                    Err(error) => (None, Some(format!("the answer is not JSON: {error}"))),
                };
                let mut kept = text;
                if kept.len() > KEPT_BODY {
                    let mut cut = KEPT_BODY;
                    while !kept.is_char_boundary(cut) {
                        cut -= 1;
                    }
                    kept.truncate(cut);
                }
                PingReport {
                    request,
                    response: Some(PingResponse { status, body: kept }),
                    latency_ms,
                    bid,
                    error,
                }
            }
            Err(error) => {
                PingReport { request, response: None, latency_ms, bid: None, error: Some(error) }
            }
        }
    }
}

/// A sample ping to the organization's RTB target `id`.
pub async fn test(
    db: &Db,
    org: OrgId,
    id: uuid::Uuid,
    pinger: &Pinger,
    reveal_headers: bool,
) -> Result<PingReport, NetworkError> {
    let target: Target = resource::get(db, org, id).await?;
    let Revenue::Rtb(rtb) = &target.revenue else {
        let mut invalid = Invalid::default();
        invalid.add("revenue", "is static: only RTB targets are pinged");
        return Err(invalid.into());
    };
    let mut report = pinger.send(rtb, &Call::sample(None)).await;
    // The configured headers are write-only below admin (they hold the buyer's key).
    if !reveal_headers {
        for (name, value) in &mut report.request.headers {
            if rtb.headers.contains_key(name) {
                *value = resource::MASK.to_owned();
            }
        }
    }
    Ok(report)
}

/// Sends the request within `timeout` (resolving, connecting and reading included).
async fn exchange(
    pinger: &Pinger,
    request: &PingRequest,
    timeout: Duration,
) -> Result<(u16, String), String> {
    let url = url::Url::parse(&request.url).map_err(|error| format!("not a URL: {error}"))?;
    outbound::check_url(&url, pinger.allow_private)?;
    let client = &pinger.client;
    let method = if request.method == "GET" { reqwest::Method::GET } else { reqwest::Method::POST };
    let mut builder = client.request(method, url).timeout(timeout);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if let Some(body) = &request.body {
        builder = builder.body(body.clone());
    }
    let response = builder.send().await.map_err(|error| {
        if error.is_timeout() {
            format!("no answer within {} ms", timeout.as_millis())
        } else {
            format!("the request failed: {}", outbound::with_causes(&error))
        }
    })?;
    let status = response.status().as_u16();
    let too_large = || format!("the answer is larger than {} KiB", MAX_ANSWER / 1024);
    if response.content_length().is_some_and(|length| length > MAX_ANSWER as u64) {
        return Err(too_large());
    }
    // Read as it arrives, so an endless answer is cut at the limit, not buffered.
    let mut response = response;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|error| {
        if error.is_timeout() {
            format!("no answer within {} ms", timeout.as_millis())
        } else {
            format!("the answer could not be read: {}", outbound::with_causes(&error))
        }
    })? {
        if body.len() + chunk.len() > MAX_ANSWER {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(body)
        .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned());
    Ok((status, text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rtb(bid_path: &str, unit: BidUnit) -> Rtb {
        Rtb {
            ping_url: "https://buyer.example/ping".into(),
            method: Method::Post,
            headers: BTreeMap::new(),
            body_template: None,
            timeout_ms: 1000,
            accept_path: Some("$.accept".into()),
            bid_path: bid_path.into(),
            bid_unit: unit,
            destination_path: Some("$.phoneNumber".into()),
            min_duration_path: Some("$.bidTerms[0].callMinDuration".into()),
            bid_id_path: Some("$.bid_id".into()),
            expires_in_path: Some("$.expires_in".into()),
            hide_caller: false,
            buffer_seconds: 60,
        }
    }

    /// A buyer on loopback that answers every request with `head` and then `body`, the
    /// body in pieces `pause` apart.
    async fn buyer(head: String, body: Vec<u8>, pause: Duration) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut stream, _)) = listener.accept().await {
                let (head, body) = (head.clone(), body.clone());
                tokio::spawn(async move {
                    let mut request = [0u8; 4096];
                    let _ = stream.read(&mut request).await;
                    let _ = stream.write_all(head.as_bytes()).await;
                    for piece in body.chunks(1024) {
                        if stream.write_all(piece).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(pause).await;
                    }
                });
            }
        });
        format!("http://{addr}/ping")
    }

    async fn ping(url: String, timeout_ms: u32) -> PingReport {
        let mut target = rtb("$.bid", BidUnit::Cents);
        target.ping_url = url;
        target.timeout_ms = timeout_ms;
        Pinger::new(true).unwrap().send(&target, &Call::sample(None)).await
    }

    #[tokio::test]
    async fn an_oversized_answer_is_a_lost_bid() {
        let body = vec![b' '; 100 * 1024];
        let declared = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
        let report = ping(buyer(declared, body.clone(), Duration::ZERO).await, 2000).await;
        assert_eq!(report.error.as_deref(), Some("the answer is larger than 64 KiB"));
        let chunked = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n".to_owned();
        let report = ping(buyer(chunked, body, Duration::ZERO).await, 2000).await;
        assert_eq!(report.error.as_deref(), Some("the answer is larger than 64 KiB"));
    }

    #[tokio::test]
    async fn a_slow_drip_answer_runs_out_of_time() {
        // 20 pieces 100 ms apart: two seconds to deliver, against a 300 ms timeout.
        let body = vec![b' '; 20 * 1024];
        let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
        let started = Instant::now();
        let report = ping(buyer(head, body, Duration::from_millis(100)).await, 300).await;
        assert_eq!(report.error.as_deref(), Some("no answer within 300 ms"));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[tokio::test]
    async fn a_name_that_resolves_to_loopback_is_refused_by_the_resolver() {
        let mut target = rtb("$.bid", BidUnit::Cents);
        target.ping_url = "http://localhost:9/ping".into();
        let report = Pinger::new(false).unwrap().send(&target, &Call::sample(None)).await;
        let error = report.error.unwrap();
        assert!(error.contains("loopback, private or link-local"), "{error}");
        assert!(report.response.is_none());
    }

    #[test]
    fn a_ringba_style_answer_reads_as_a_bid() {
        let answer = json!({"bidAmount": "12.5", "phoneNumber": "+15550100200", "bidTerms": [{"callMinDuration": 90}]});
        let bid = parse_bid(&rtb("$.bidAmount", BidUnit::Dollars), &answer);
        assert_eq!(
            bid,
            ParsedBid {
                accepted: true,
                bid_cents: Some(1250),
                destination: Some("+15550100200".into()),
                min_duration_seconds: Some(90),
                bid_id: None,
                expires_in_seconds: None,
            }
        );
        let declined =
            parse_bid(&rtb("$.bid", BidUnit::Cents), &json!({"accept": false, "bid": 900}));
        assert!(!declined.accepted);
    }

    #[test]
    fn a_retreaver_style_answer_reads_as_a_bid() {
        let mut target = rtb("$.retreaver_payout", BidUnit::Dollars);
        target.accept_path = None;
        target.destination_path = Some("$.sip_address".into());
        target.min_duration_path = Some("$.retreaver_seconds".into());
        let answer = json!({"retreaver_payout": "18.00", "retreaver_seconds": 120, "sip_address": "sip:buyer@pbx.example"});
        let bid = parse_bid(&target, &answer);
        assert!(bid.accepted, "a positive bid accepts when there is no accept field");
        assert_eq!(bid.bid_cents, Some(1800));
        assert_eq!(bid.destination.as_deref(), Some("sip:buyer@pbx.example"));
        assert_eq!(bid.min_duration_seconds, Some(120));
    }

    #[test]
    fn a_hidden_caller_is_left_out_of_the_ping() {
        let call = Call::sample(None).without_number();
        let body = call.native_body(800);
        assert_eq!(body["caller"], json!({"number": null, "area_code": "212", "state": "NY"}));
        assert_eq!(body["expires_in_ms"], 800);
        assert_eq!(render("{{caller.number}}|{{caller.state}}", &call), "|NY");
    }

    #[test]
    fn templates_print_the_calls_values_safely() {
        let mut call = Call::sample(Some("c-1".into()));
        call.tags.insert("note".into(), "say \"hi\"".into());
        assert_eq!(
            render(r#"{"cid":"{{caller.number}}","n":"{{ tag.note }}","x":"{{tag.none}}"}"#, &call),
            r#"{"cid":"+12125550123","n":"say \"hi\"","x":""}"#
        );
    }
}
