//! What a target pays: a fixed amount per converted call, or a live bid (RTB) asked of
//! the buyer for each call, read from its answer with JSONPath.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::network::{Invalid, template};

pub const DEFAULT_BUFFER_SECONDS: u32 = 60;
const MAX_BUFFER_SECONDS: u32 = 86_400;
pub const DEFAULT_TIMEOUT_MS: u32 = 1_000;
const TIMEOUT_MS: std::ops::RangeInclusive<u32> = 50..=10_000;
const MAX_TEMPLATE: usize = 10_000;
const MAX_HEADERS: usize = 30;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Revenue {
    Static { cents: i64, buffer_seconds: u32 },
    Rtb(Box<Rtb>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "PingMethod")]
pub enum Method {
    Get,
    Post,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BidUnit {
    Cents,
    Dollars,
}

/// A ping: where and how to ask, and where in the answer to find the bid. Paths are
/// JSONPath (RFC 9535); the defaults read Bidline's own ping protocol.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Rtb {
    pub ping_url: String,
    pub method: Method,
    pub headers: BTreeMap<String, String>,
    /// `None`: Bidline's own JSON ping.
    pub body_template: Option<String>,
    pub timeout_ms: u32,
    pub accept_path: Option<String>,
    pub bid_path: String,
    pub bid_unit: BidUnit,
    pub destination_path: Option<String>,
    pub min_duration_path: Option<String>,
    /// Where the buyer's own bid id is (`$.bid_id` by default).
    #[serde(default = "default_bid_id_path")]
    pub bid_id_path: Option<String>,
    /// Where the seconds the bid stands for the same caller are (`$.expires_in`).
    #[serde(default = "default_expires_in_path")]
    pub expires_in_path: Option<String>,
    /// The ping carries only the caller's area code and state, never the number: the
    /// buyer learns it when the call reaches them.
    #[serde(default)]
    pub hide_caller: bool,
    pub buffer_seconds: u32,
}

fn default_bid_id_path() -> Option<String> {
    Some("$.bid_id".to_owned())
}

fn default_expires_in_path() -> Option<String> {
    Some("$.expires_in".to_owned())
}

/// The revenue object of a request body; checked by [`parse`].
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RevenueInput")]
pub struct Input {
    pub kind: String,
    pub cents: Option<i64>,
    pub buffer_seconds: Option<i64>,
    pub ping_url: Option<String>,
    pub method: Option<String>,
    pub headers: Option<BTreeMap<String, String>>,
    pub body_template: Option<String>,
    pub timeout_ms: Option<i64>,
    pub accept_path: Option<String>,
    pub bid_path: Option<String>,
    pub bid_unit: Option<String>,
    pub destination_path: Option<String>,
    pub min_duration_path: Option<String>,
    pub bid_id_path: Option<String>,
    pub expires_in_path: Option<String>,
    pub hide_caller: Option<bool>,
}

pub fn parse(input: Input, invalid: &mut Invalid) -> Revenue {
    let buffer_seconds = match input.buffer_seconds {
        None => DEFAULT_BUFFER_SECONDS,
        Some(seconds) => {
            u32::try_from(seconds).ok().filter(|s| *s <= MAX_BUFFER_SECONDS).unwrap_or_else(|| {
                invalid.add(
                    "revenue.buffer_seconds",
                    format!("must be between 0 and {MAX_BUFFER_SECONDS}"),
                );
                0
            })
        }
    };
    match input.kind.trim() {
        "static" => {
            let cents = match input.cents {
                Some(cents) if cents >= 0 => cents,
                Some(_) => {
                    invalid.add("revenue.cents", "must not be negative");
                    0
                }
                None => {
                    invalid
                        .add("revenue.cents", "is required: what a converted call pays, in cents");
                    0
                }
            };
            for (field, set) in [
                ("revenue.ping_url", input.ping_url.is_some()),
                ("revenue.bid_path", input.bid_path.is_some()),
                ("revenue.body_template", input.body_template.is_some()),
            ] {
                if set {
                    invalid.add(field, "is for RTB revenue only");
                }
            }
            Revenue::Static { cents, buffer_seconds }
        }
        "rtb" => {
            if input.cents.is_some() {
                invalid.add(
                    "revenue.cents",
                    "is for static revenue only: an RTB target is paid its bid",
                );
            }
            Revenue::Rtb(Box::new(rtb(input, buffer_seconds, invalid)))
        }
        _ => {
            invalid.add("revenue.kind", "must be static or rtb");
            Revenue::Static { cents: 0, buffer_seconds }
        }
    }
}

fn rtb(input: Input, buffer_seconds: u32, invalid: &mut Invalid) -> Rtb {
    let ping_url = input.ping_url.unwrap_or_default().trim().to_owned();
    if ping_url.is_empty() {
        invalid.add("revenue.ping_url", "is required for RTB");
    } else if let Err(problem) = template::check_url(&ping_url, &[]) {
        invalid.add("revenue.ping_url", problem);
    }
    let method = match input.method.as_deref().map(|m| m.trim().to_ascii_uppercase()) {
        None => Method::Post,
        Some(m) if m == "POST" => Method::Post,
        Some(m) if m == "GET" => Method::Get,
        Some(_) => {
            invalid.add("revenue.method", "must be GET or POST");
            Method::Post
        }
    };
    let headers = input.headers.unwrap_or_default();
    if headers.len() > MAX_HEADERS {
        invalid.add("revenue.headers", format!("at most {MAX_HEADERS} headers"));
    }
    for (name, value) in &headers {
        if axum::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            invalid.add("revenue.headers", format!("{name:?} is not a header name"));
        } else if axum::http::HeaderValue::from_str(value).is_err() {
            invalid.add(
                "revenue.headers",
                format!("the value of {name} has characters a header cannot hold"),
            );
        } else if let Err(message) = template::check(value) {
            invalid.add("revenue.headers", format!("{name} {message}"));
        }
    }
    let body_template = input.body_template.filter(|body| !body.trim().is_empty());
    if let Some(body) = &body_template {
        if body.len() > MAX_TEMPLATE {
            invalid.add("revenue.body_template", format!("must be at most {MAX_TEMPLATE} bytes"));
        } else if let Err(message) = template::check(body) {
            invalid.add("revenue.body_template", message);
        }
        if method == Method::Get {
            invalid.add("revenue.body_template", "a GET ping has no body: use POST");
        }
    }
    let timeout_ms = match input.timeout_ms {
        None => DEFAULT_TIMEOUT_MS,
        Some(ms) => {
            u32::try_from(ms).ok().filter(|ms| TIMEOUT_MS.contains(ms)).unwrap_or_else(|| {
                invalid.add(
                    "revenue.timeout_ms",
                    format!("must be between {} and {}", TIMEOUT_MS.start(), TIMEOUT_MS.end()),
                );
                DEFAULT_TIMEOUT_MS
            })
        }
    };
    let mut path = |field: &'static str, text: Option<String>, default: Option<&str>| {
        let text = text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        let text = text.or(default.map(str::to_owned))?;
        if let Err(error) = serde_json_path::JsonPath::parse(&text) {
            invalid.add(field, format!("is not a JSONPath like $.bid ({error})"));
        }
        Some(text)
    };
    let accept_path = path("revenue.accept_path", input.accept_path, Some("$.accept"));
    let bid_path = path("revenue.bid_path", input.bid_path, Some("$.bid")).unwrap_or_default();
    let destination_path =
        path("revenue.destination_path", input.destination_path, Some("$.destination"));
    let min_duration_path =
        path("revenue.min_duration_path", input.min_duration_path, Some("$.min_duration"));
    let bid_id_path = path("revenue.bid_id_path", input.bid_id_path, Some("$.bid_id"));
    let expires_in_path =
        path("revenue.expires_in_path", input.expires_in_path, Some("$.expires_in"));
    let bid_unit = match input.bid_unit.as_deref().map(str::trim) {
        None | Some("cents") => BidUnit::Cents,
        Some("dollars") => BidUnit::Dollars,
        Some(_) => {
            invalid.add("revenue.bid_unit", "must be cents or dollars");
            BidUnit::Cents
        }
    };
    Rtb {
        ping_url,
        method,
        headers,
        body_template,
        timeout_ms,
        accept_path,
        bid_path,
        bid_unit,
        destination_path,
        min_duration_path,
        bid_id_path,
        expires_in_path,
        hide_caller: input.hide_caller.unwrap_or(false),
        buffer_seconds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_json(json: serde_json::Value) -> (Revenue, Invalid) {
        let mut invalid = Invalid::default();
        let revenue = parse(serde_json::from_value(json).unwrap(), &mut invalid);
        (revenue, invalid)
    }

    #[test]
    fn an_rtb_target_reads_another_platforms_answer() {
        let (revenue, invalid) = parse_json(serde_json::json!({
            "kind": "rtb",
            "ping_url": "https://buyer.example/ping",
            "headers": {"X-Api-Key": "k-123"},
            "body_template": "{\"cid\":\"{{caller.number}}\",\"src\":\"{{tag.utm_source}}\"}",
            "bid_path": "$.bidAmount",
            "bid_unit": "dollars",
            "destination_path": "$.phoneNumber",
            "min_duration_path": "$.bidTerms[0].callMinDuration"
        }));
        assert!(invalid.0.is_empty(), "{invalid:?}");
        let Revenue::Rtb(rtb) = revenue else { panic!("static") };
        assert_eq!((rtb.method, rtb.timeout_ms, rtb.buffer_seconds), (Method::Post, 1000, 60));
        assert_eq!(rtb.accept_path.as_deref(), Some("$.accept"), "Bidline's protocol by default");
    }

    #[test]
    fn bad_paths_templates_and_urls_are_named() {
        let (_, invalid) = parse_json(serde_json::json!({
            "kind": "rtb",
            "ping_url": "ftp://buyer.example",
            "method": "GET",
            "body_template": "{{caller.zip}}",
            "timeout_ms": 60000,
            "bid_path": "$.[bid",
            "bid_unit": "euros",
            "headers": {"Bad Header": "x"}
        }));
        assert_eq!(
            invalid.0.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "revenue.bid_path",
                "revenue.bid_unit",
                "revenue.body_template",
                "revenue.headers",
                "revenue.ping_url",
                "revenue.timeout_ms",
            ]
        );
    }

    #[test]
    fn static_revenue_needs_cents_and_nothing_of_rtb() {
        let (revenue, invalid) = parse_json(serde_json::json!({"kind": "static", "cents": 2500}));
        assert!(invalid.0.is_empty());
        assert_eq!(revenue, Revenue::Static { cents: 2500, buffer_seconds: 60 });
        let (_, invalid) = parse_json(
            serde_json::json!({"kind": "static", "cents": -1, "ping_url": "https://x.example"}),
        );
        assert_eq!(
            invalid.0.keys().map(String::as_str).collect::<Vec<_>>(),
            ["revenue.cents", "revenue.ping_url"]
        );
    }
}
