//! The fields of each kind's form, and the two conversions a form needs: an object's
//! JSON into the texts its inputs show, and the texts back into the JSON the server
//! reads (the REST API's). Multi-line inputs take a line per item, in a format meant
//! to be typed: `mon 09:00-17:00`, `caller.state in_list FL,GA`, `X-Api-Key: abc`.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::network::Kind;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Text,
    LongText,
    Int,
    Decimal,
    /// An IANA time zone, suggested as it is typed.
    TimeZone,
    /// Dollars and cents as people type them (`35`, `35.50`, `$1,234.50`), stored as cents.
    Money,
    Checkbox,
    /// (value, label) pairs.
    Select(&'static [(&'static str, &'static str)]),
    /// An object of that kind, chosen by name.
    Reference(Kind),
    /// One text per line, as a list.
    Lines,
    /// Some of these (value, label) pairs, ticked; a list like [`Input::Lines`].
    Choices(&'static [(&'static str, &'static str)]),
    /// `mon 09:00-17:00` per line.
    Weekly,
    /// `attribute operator value` per line.
    Conditions,
    /// `Name: value` per line.
    Headers,
    /// Write-only: empty keeps what is stored.
    Secret,
}

#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// Where the value sits in the object's JSON (`revenue.cents`); also the prefix of
    /// the server's error keys about it.
    pub key: &'static str,
    pub label: &'static str,
    pub input: Input,
    pub hint: &'static str,
    /// Empty means `null` (rather than "not given").
    pub nullable: bool,
    /// Shown and sent only while the field `.0` holds `.1`.
    pub when: Option<(&'static str, &'static str)>,
    /// The text of a new object's input, when not the input's own default.
    pub initial: Option<&'static str>,
    /// A reference offers only the objects whose field `.0` holds `.1`.
    pub only: Option<(&'static str, &'static str)>,
}

const fn field(key: &'static str, label: &'static str, input: Input) -> Field {
    Field { key, label, input, hint: "", nullable: false, when: None, initial: None, only: None }
}

impl Field {
    const fn hint(mut self, hint: &'static str) -> Self {
        self.hint = hint;
        self
    }

    const fn nullable(mut self) -> Self {
        self.nullable = true;
        self
    }

    const fn initially(mut self, text: &'static str) -> Self {
        self.initial = Some(text);
        self
    }

    const fn only(mut self, key: &'static str, value: &'static str) -> Self {
        self.only = Some((key, value));
        self
    }

    /// Whether a reference offers `object`.
    pub fn offers(&self, object: &Value) -> bool {
        self.only.is_none_or(|(key, value)| at(object, key).as_str() == Some(value))
    }

    const fn when(mut self, key: &'static str, value: &'static str) -> Self {
        self.when = Some((key, value));
        self
    }

    /// Whether a server error about `error_key` belongs under this field.
    pub fn owns(&self, error_key: &str) -> bool {
        error_key == self.key
            || error_key.strip_prefix(self.key).is_some_and(|rest| rest.starts_with(['.', '[']))
    }
}

const STATUS: Input = Input::Select(&[("active", "Active"), ("paused", "Paused")]);

pub fn fields(kind: Kind) -> &'static [Field] {
    match kind {
        Kind::Campaign => &CAMPAIGN,
        Kind::Publisher => &PUBLISHER,
        Kind::Buyer => &BUYER,
        Kind::Target => &TARGET,
        Kind::Number => &NUMBER,
        Kind::DniPool => &DNI_POOL,
        Kind::Trunk => &TRUNK,
        Kind::BlockedCaller => &BLOCKED_CALLER,
        Kind::Webhook => &WEBHOOK,
    }
}

const CAMPAIGN: [Field; 12] = [
    field("name", "Name", Input::Text),
    field("status", "Status", STATUS),
    field("time_zone", "Time zone", Input::TimeZone).hint("type a city or region, e.g. New York"),
    field("default_number", "Default (overflow) number", Input::Text).nullable(),
    field("duplicate_window_hours", "Duplicate window (hours)", Input::Int).hint("0 = off"),
    field("reject_duplicates", "Reject duplicates", Input::Checkbox)
        .hint("otherwise they are flagged and routed"),
    field("reject_anonymous", "Reject withheld callers", Input::Checkbox),
    field("conversion_buffer_seconds", "Publisher conversion buffer (s)", Input::Int)
        .hint("talk time that pays the publisher, unless the publisher sets its own"),
    field("floor_cents", "Floor ($)", Input::Money).hint("bids under it are dropped"),
    field("repeat_caller_same_target", "Repeat caller → previous target", Input::Checkbox),
    field("dni_allowed_domains", "DNI domains", Input::Lines).hint("one host name per line"),
    field("dni_params", "DNI parameters", Input::Lines)
        .hint("URL parameters to capture besides utm_*, gclid, fbclid, msclkid…; one per line"),
];

const PUBLISHER: [Field; 7] = [
    field("name", "Name", Input::Text),
    field("status", "Status", STATUS),
    field(
        "payout.kind",
        "Payout",
        Input::Select(&[("fixed", "Fixed per call"), ("percent", "Share of revenue")]),
    ),
    field("payout.cents", "Payout ($)", Input::Money).when("payout.kind", "fixed"),
    field("payout.percent", "Payout (%)", Input::Decimal).when("payout.kind", "percent"),
    field("conversion_buffer_seconds", "Conversion buffer (seconds)", Input::Int)
        .nullable()
        .hint("empty = the campaign's"),
    field("pay_duplicates", "Pay duplicates", Input::Checkbox),
];

const BUYER: [Field; 7] = [
    field("name", "Company", Input::Text),
    field("status", "Status", STATUS),
    field("contact.name", "Contact name", Input::Text).nullable(),
    field("contact.email", "Contact email", Input::Text).nullable(),
    field("contact.phone", "Contact phone", Input::Text).nullable(),
    field("invoicing.enabled", "Invoice through Stripe", Input::Checkbox).hint(
        "converted calls, one line per campaign; needs the organization's Stripe account (Billing)",
    ),
    field(
        "invoicing.cycle",
        "Invoice every",
        Input::Select(&[("monthly", "Month"), ("weekly", "Week (Monday to Monday)")]),
    ),
];

const RTB: (&str, &str) = ("revenue.kind", "rtb");

const TARGET: [Field; 30] = [
    field("buyer_id", "Buyer", Input::Reference(Kind::Buyer)),
    field("name", "Name", Input::Text),
    field("status", "Status", STATUS),
    field("destination", "Destination", Input::Text).hint("+15551234567, or sip:buyer@host"),
    field("outbound_trunk_id", "Outbound trunk", Input::Reference(Kind::Trunk))
        .only("direction", "outbound")
        .nullable()
        .hint("required for a phone number; none for a SIP URI"),
    field("ring_timeout_seconds", "Ring timeout (seconds)", Input::Int),
    field("concurrency_cap", "Concurrency cap", Input::Int).nullable().hint("empty = no cap"),
    field("time_zone", "Time zone", Input::TimeZone).hint("caps count in it; default UTC"),
    field("caps.hour", "Cap per hour", Input::Int).nullable(),
    field("caps.day", "Cap per day", Input::Int).nullable(),
    field("caps.month", "Cap per month", Input::Int).nullable(),
    field("caps.total", "Cap in total", Input::Int).nullable(),
    field("schedule.weekly", "Opening hours", Input::Weekly)
        .hint("one period per line, e.g. mon 09:00-17:00; empty = always open"),
    field("schedule.time_zone", "Hours' time zone", Input::TimeZone).hint("empty = the target's"),
    field("schedule.closed_dates", "Closed dates", Input::Lines)
        .hint("one per line, e.g. 2026-12-25"),
    field("conditions", "Conditions", Input::Conditions)
        .hint("one per line: attribute operator value, e.g. caller.state in_list FL,GA"),
    field(
        "revenue.kind",
        "Revenue",
        Input::Select(&[("static", "Static"), ("rtb", "RTB (ping for a bid)")]),
    ),
    field("revenue.cents", "Revenue per call ($)", Input::Money).when("revenue.kind", "static"),
    field("revenue.buffer_seconds", "Conversion buffer (seconds)", Input::Int),
    field("revenue.ping_url", "Ping URL", Input::Text).when(RTB.0, RTB.1),
    field("revenue.method", "Method", Input::Select(&[("POST", "POST"), ("GET", "GET")]))
        .when(RTB.0, RTB.1),
    field("revenue.headers", "Headers", Input::Headers)
        .when(RTB.0, RTB.1)
        .hint("Name: value per line"),
    field("revenue.body_template", "Body template", Input::LongText)
        .when(RTB.0, RTB.1)
        .hint("tokens such as {{caller.number}}; empty = Bidline's own ping"),
    field("revenue.timeout_ms", "Timeout (ms)", Input::Int).when(RTB.0, RTB.1),
    field("revenue.bid_path", "Bid JSONPath", Input::Text)
        .when(RTB.0, RTB.1)
        .hint("e.g. $.bidAmount"),
    field(
        "revenue.bid_unit",
        "Bid in",
        Input::Select(&[("cents", "cents"), ("dollars", "dollars")]),
    )
    .when(RTB.0, RTB.1),
    field("revenue.accept_path", "Accept JSONPath", Input::Text).when(RTB.0, RTB.1),
    field("revenue.destination_path", "Destination JSONPath", Input::Text).when(RTB.0, RTB.1),
    field("dynamic_destinations", "Destinations a bid may name", Input::Lines)
        .when(RTB.0, RTB.1)
        .hint("one per line: pbx.buyer.com, *.buyer.com, 203.0.113.0/24, +1555; empty = only the destination above"),
    field("revenue.min_duration_path", "Minimum duration JSONPath", Input::Text).when(RTB.0, RTB.1),
];

/// A buyer's answer format, as the texts of an RTB target's fields.
pub struct Preset {
    pub id: &'static str,
    pub name: &'static str,
    /// (field key, text).
    pub texts: &'static [(&'static str, &'static str)],
}

/// Answer formats an RTB target's fields can be filled from.
pub const RTB_PRESETS: [Preset; 3] = [
    Preset {
        id: "bidline",
        name: "Bidline",
        texts: &[
            ("revenue.bid_path", "$.bid"),
            ("revenue.bid_unit", "cents"),
            ("revenue.accept_path", "$.accept"),
            ("revenue.destination_path", "$.destination"),
            ("revenue.min_duration_path", "$.min_duration"),
        ],
    },
    Preset {
        id: "ringba",
        name: "Ringba-style",
        texts: &[
            ("revenue.bid_path", "$.bidAmount"),
            ("revenue.bid_unit", "dollars"),
            ("revenue.accept_path", ""),
            ("revenue.destination_path", "$.phoneNumber"),
            ("revenue.min_duration_path", "$.bidTerms[0].callMinDuration"),
        ],
    },
    Preset {
        id: "retreaver",
        name: "Retreaver-style",
        texts: &[
            ("revenue.bid_path", "$.retreaver_payout"),
            ("revenue.bid_unit", "dollars"),
            ("revenue.accept_path", ""),
            ("revenue.destination_path", "$.sip_address"),
            ("revenue.min_duration_path", "$.retreaver_seconds"),
        ],
    },
];

const NUMBER: [Field; 6] = [
    field("number", "Number", Input::Text),
    field("campaign_id", "Campaign", Input::Reference(Kind::Campaign)),
    field("publisher_id", "Publisher", Input::Reference(Kind::Publisher)).nullable(),
    field("pool_id", "DNI pool", Input::Reference(Kind::DniPool)).nullable(),
    field("provider", "Provider", Input::Text),
    field("status", "Status", STATUS),
];

const BLOCKED_CALLER: [Field; 3] = [
    field("number", "Number", Input::Text).hint("any common format; refused on every campaign"),
    field("status", "Status", STATUS).hint("paused lets the caller through again"),
    field("reason", "Reason", Input::Text).nullable(),
];

const WEBHOOK: [Field; 13] = [
    field("name", "Name", Input::Text),
    field("enabled", "Enabled", Input::Checkbox).initially("true"),
    field("kind", "Kind", Input::Select(&[("webhook", "Webhook"), ("pixel", "Pixel (GET with the call in its URL)")])),
    field("url", "URL", Input::Text)
        .hint("tokens such as {{call.id}}, {{caller.number}}, {{call.revenue}}, {{tag.utm_source}} are URL-encoded"),
    field("method", "Method", Input::Select(&[("POST", "POST"), ("PUT", "PUT"), ("GET", "GET")]))
        .when("kind", "webhook"),
    field("events", "Events", Input::Choices(&[
        ("call.incoming", "A call comes in (call.incoming)"),
        ("call.routed", "It is routed to buyers (call.routed)"),
        ("call.answered", "A buyer answers (call.answered)"),
        ("bid.won", "A bid wins (bid.won)"),
        ("call.completed", "It ends (call.completed)"),
        ("call.converted", "It converts (call.converted)"),
        ("call.duplicate", "It is a duplicate (call.duplicate)"),
        ("call.adjusted", "A postback changes it (call.adjusted)"),
    ]))
    .initially("call.completed"),
    field("campaign_id", "Only this campaign", Input::Reference(Kind::Campaign)).nullable(),
    field("publisher_id", "Only this publisher", Input::Reference(Kind::Publisher)).nullable(),
    field("buyer_id", "Only this buyer", Input::Reference(Kind::Buyer)).nullable(),
    field("conditions", "Conditions", Input::Conditions)
        .hint("one per line, all must hold: tag.utm_source equals google"),
    field("headers", "Headers", Input::Headers).hint("one per line: X-Api-Key: abc"),
    field("body_template", "Body template", Input::LongText)
        .nullable()
        .when("kind", "webhook")
        .hint("empty = Bidline's JSON (the call, the event, the delivery id)"),
    field("max_concurrency", "Requests at once", Input::Int).initially("4"),
];

const DNI_POOL: [Field; 4] = [
    field("name", "Name", Input::Text),
    field("campaign_id", "Campaign", Input::Reference(Kind::Campaign)),
    field("status", "Status", STATUS),
    field("lease_minutes", "Lease (minutes)", Input::Int),
];

const OUTBOUND: (&str, &str) = ("direction", "outbound");

const TRUNK: [Field; 10] = [
    field("name", "Name", Input::Text),
    field("status", "Status", STATUS),
    field(
        "direction",
        "Direction",
        Input::Select(&[
            ("outbound", "Outbound (to buyers)"),
            ("inbound", "Inbound (from carriers)"),
        ]),
    ),
    field("allowed_cidrs", "Allowed networks", Input::Lines)
        .when("direction", "inbound")
        .hint("one per line, e.g. 203.0.113.0/24"),
    field("host", "Host", Input::Text).when(OUTBOUND.0, OUTBOUND.1),
    field("port", "Port", Input::Int).when(OUTBOUND.0, OUTBOUND.1),
    field("transport", "Transport", Input::Select(&[("udp", "UDP"), ("tcp", "TCP")]))
        .when(OUTBOUND.0, OUTBOUND.1),
    field("dial_format", "Dial format", Input::Text)
        .when(OUTBOUND.0, OUTBOUND.1)
        .hint("e.g. +{e164} or {national}"),
    field("username", "Digest username", Input::Text).nullable(),
    field("password", "Digest password", Input::Secret)
        .hint("write-only: empty keeps the stored one"),
];

fn at<'a>(object: &'a Value, key: &str) -> &'a Value {
    key.split('.').fold(object, |value, part| &value[part])
}

/// The text an input shows for `field` of `object` (or the default of a new object).
pub fn text_of(field: &Field, object: Option<&Value>) -> String {
    let Some(object) = object else {
        if let Some(text) = field.initial {
            return text.to_owned();
        }
        return match field.input {
            Input::Select(options) => options[0].0.to_owned(),
            Input::Checkbox => "false".to_owned(),
            _ => String::new(),
        };
    };
    let value = at(object, field.key);
    let lines = |items: &Value, line: &dyn Fn(&Value) -> String| {
        items
            .as_array()
            .map(|items| items.iter().map(line).collect::<Vec<_>>().join("\n"))
            .unwrap_or_default()
    };
    match (field.input, value) {
        (Input::Secret, _) | (_, Value::Null) => String::new(),
        (Input::Checkbox, value) => value.as_bool().unwrap_or(false).to_string(),
        (Input::Lines | Input::Choices(_), items) => lines(items, &|item| plain(item)),
        (Input::Weekly, items) => lines(items, &|p| {
            format!("{} {}-{}", plain(&p["day"]), plain(&p["open"]), plain(&p["close"]))
        }),
        (Input::Conditions, items) => lines(items, &|c| {
            let value = match &c["value"] {
                Value::Array(items) => items.iter().map(plain).collect::<Vec<_>>().join(","),
                other => plain(other),
            };
            format!("{} {} {value}", plain(&c["attribute"]), plain(&c["operator"]))
                .trim_end()
                .to_owned()
        }),
        (Input::Headers, Value::Object(map)) => map
            .iter()
            .map(|(name, value)| format!("{name}: {}", plain(value)))
            .collect::<Vec<_>>()
            .join("\n"),
        (Input::Money, Value::Number(cents)) => cents.as_i64().map(dollars).unwrap_or_default(),
        (Input::Select(_), Value::String(text)) if field.key == "revenue.method" => {
            text.to_uppercase()
        }
        (_, value) => plain(value),
    }
}

/// `35.50` for 3550 cents: what a money input shows (no `$`, no thousands separators, so
/// that it reads back unchanged).
fn dollars(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{}.{:02}", cents / 100, cents % 100)
}

/// Cents from dollars as people type them: `35`, `35.5`, `$1,234.56`, `-2.50`; `None` for
/// anything else, fractions of a cent included.
fn cents(text: &str) -> Option<i64> {
    let (negative, text) = match text.trim().strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.trim()),
    };
    let digits: String =
        text.strip_prefix('$').unwrap_or(text).chars().filter(|c| *c != ',').collect();
    let (whole, fraction) = digits.split_once('.').unwrap_or((&digits, ""));
    let numeric = |part: &str| part.chars().all(|c| c.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty())
        || !numeric(whole)
        || !numeric(fraction)
        || fraction.len() > 2
    {
        return None;
    }
    let whole: i64 = if whole.is_empty() { 0 } else { whole.parse().ok()? };
    let fraction: i64 = format!("{fraction:0<2}").parse().ok()?;
    let cents = whole.checked_mul(100)?.checked_add(fraction)?;
    Some(if negative { -cents } else { cents })
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Whether `field` is shown (and sent) given the form's current texts.
pub fn shown(field: &Field, texts: &BTreeMap<&'static str, String>) -> bool {
    field.when.is_none_or(|(key, value)| texts.get(key).is_some_and(|text| text == value))
}

/// The API's JSON from the form's texts, or the problems found before asking the
/// server (field key → message).
pub fn body(
    kind: Kind,
    texts: &BTreeMap<&'static str, String>,
) -> Result<Value, BTreeMap<String, String>> {
    let mut object = Value::Object(Map::new());
    let mut problems = BTreeMap::new();
    for field in fields(kind).iter().filter(|f| shown(f, texts)) {
        let text = texts.get(field.key).map(|t| t.trim()).unwrap_or_default();
        let value = match value(field, text) {
            Ok(Some(value)) => value,
            Ok(None) => continue,
            Err(message) => {
                problems.insert(field.key.to_owned(), message);
                continue;
            }
        };
        let mut slot = &mut object;
        for part in field.key.split('.') {
            slot = &mut slot[part];
        }
        *slot = value;
    }
    if kind == Kind::Target && object["schedule"]["weekly"].as_array().is_none_or(Vec::is_empty) {
        object["schedule"] = Value::Null;
    }
    if problems.is_empty() { Ok(object) } else { Err(problems) }
}

/// The JSON of one field; `None` when it is not to be sent.
fn value(field: &Field, text: &str) -> Result<Option<Value>, String> {
    let empty = if field.nullable { Some(Value::Null) } else { None };
    if text.is_empty()
        && !matches!(
            field.input,
            Input::Checkbox
                | Input::Lines
                | Input::Choices(_)
                | Input::Weekly
                | Input::Conditions
                | Input::Headers
        )
    {
        return Ok(empty);
    }
    let lines = || text.lines().map(str::trim).filter(|line| !line.is_empty());
    Ok(Some(match field.input {
        Input::Text
        | Input::LongText
        | Input::TimeZone
        | Input::Select(_)
        | Input::Reference(_)
        | Input::Secret => json!(text),
        Input::Int => json!(text.parse::<i64>().map_err(|_| "must be a whole number".to_owned())?),
        Input::Decimal => json!(text.parse::<f64>().map_err(|_| "must be a number".to_owned())?),
        Input::Money => {
            json!(cents(text).ok_or_else(|| "must be dollars and cents, like 35.50".to_owned())?)
        }
        Input::Checkbox => json!(text == "true"),
        Input::Lines | Input::Choices(_) => json!(lines().collect::<Vec<_>>()),
        Input::Weekly => {
            let mut periods = Vec::new();
            for line in lines() {
                let parsed = line.split_once(char::is_whitespace).and_then(|(day, hours)| {
                    let (open, close) = hours.trim().split_once('-')?;
                    Some(json!({"day": day, "open": open.trim(), "close": close.trim()}))
                });
                periods.push(
                    parsed.ok_or_else(|| format!("{line:?}: write a period as mon 09:00-17:00"))?,
                );
            }
            json!(periods)
        }
        Input::Conditions => {
            let mut conditions = Vec::new();
            for line in lines() {
                let mut parts = line.splitn(3, char::is_whitespace);
                let (Some(attribute), Some(operator)) = (parts.next(), parts.next()) else {
                    return Err(format!("{line:?}: write a condition as attribute operator value"));
                };
                let mut condition = json!({"attribute": attribute, "operator": operator});
                if let Some(value) = parts.next().map(str::trim).filter(|v| !v.is_empty()) {
                    condition["value"] = json!(value);
                }
                conditions.push(condition);
            }
            json!(conditions)
        }
        Input::Headers => {
            let mut headers = Map::new();
            for line in lines() {
                let (name, value) = line
                    .split_once(':')
                    .ok_or_else(|| format!("{line:?}: write a header as Name: value"))?;
                headers.insert(name.trim().to_owned(), json!(value.trim()));
            }
            Value::Object(headers)
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(pairs: &[(&'static str, &str)]) -> BTreeMap<&'static str, String> {
        pairs.iter().map(|(k, v)| (*k, v.to_string())).collect()
    }

    #[test]
    fn a_static_target_form_becomes_the_apis_json() {
        let body = body(
            Kind::Target,
            &texts(&[
                ("buyer_id", "b-1"),
                ("name", " East "),
                ("status", "active"),
                ("destination", "+15550100200"),
                ("outbound_trunk_id", "t-1"),
                ("ring_timeout_seconds", "30"),
                ("concurrency_cap", ""),
                ("caps.day", "100"),
                ("schedule.weekly", "mon 09:00-17:00\n\ntue 09:00 - 12:00"),
                ("conditions", "caller.state in_list FL,GA\ntag.gclid exists"),
                ("revenue.kind", "static"),
                ("revenue.cents", "$35"),
                ("revenue.ping_url", "https://ignored.example"),
            ]),
        )
        .unwrap();
        assert_eq!(body["name"], "East");
        assert_eq!(body["concurrency_cap"], Value::Null, "empty nullable is null");
        assert_eq!(body["caps"]["day"], 100);
        assert_eq!(
            body["schedule"]["weekly"][1],
            json!({"day": "tue", "open": "09:00", "close": "12:00"})
        );
        assert_eq!(body["conditions"][1], json!({"attribute": "tag.gclid", "operator": "exists"}));
        assert_eq!(
            body["revenue"],
            json!({"kind": "static", "cents": 3500}),
            "RTB fields are not sent"
        );
    }

    #[test]
    fn money_is_typed_in_dollars_and_stored_in_cents() {
        for (typed, stored) in [
            ("35", 3500),
            ("35.5", 3550),
            ("$1,234.56", 123_456),
            (".05", 5),
            ("-2.50", -250),
            ("0", 0),
        ] {
            assert_eq!(cents(typed), Some(stored), "{typed}");
        }
        for refused in ["", "$", "12.345", "1.2.3", "ten", "1e3", "$-5"] {
            assert_eq!(cents(refused), None, "{refused}");
        }
        assert_eq!(dollars(3550), "35.50");
        assert_eq!(cents(&dollars(-1)), Some(-1));
        let payout = fields(Kind::Publisher).iter().find(|f| f.key == "payout.cents").unwrap();
        assert_eq!(text_of(payout, Some(&json!({"payout": {"cents": 1200}}))), "12.00");
        let problems =
            body(Kind::Publisher, &texts(&[("payout.kind", "fixed"), ("payout.cents", "12.345")]))
                .unwrap_err();
        assert_eq!(problems["payout.cents"], "must be dollars and cents, like 35.50");
    }

    #[test]
    fn no_opening_hours_is_always_open_and_bad_lines_are_named() {
        let open =
            body(Kind::Target, &texts(&[("schedule.weekly", ""), ("revenue.kind", "static")]))
                .unwrap();
        assert_eq!(open["schedule"], Value::Null);
        let problems = body(
            Kind::Target,
            &texts(&[
                ("schedule.weekly", "monday all day"),
                ("caps.day", "ten"),
                ("revenue.kind", "static"),
            ]),
        )
        .unwrap_err();
        assert_eq!(
            problems.keys().map(String::as_str).collect::<Vec<_>>(),
            ["caps.day", "schedule.weekly"]
        );
    }

    #[test]
    fn an_object_reads_back_into_the_texts_that_make_it() {
        let target = json!({
            "schedule": {"weekly": [{"day": "mon", "open": "09:00", "close": "17:00"}], "closed_dates": ["2026-12-25"]},
            "conditions": [{"attribute": "caller.state", "operator": "in_list", "value": ["FL", "GA"]}],
            "revenue": {"kind": "rtb", "method": "post", "headers": {"X-Key": "k"}}
        });
        let text = |key| {
            text_of(fields(Kind::Target).iter().find(|f| f.key == key).unwrap(), Some(&target))
        };
        assert_eq!(text("schedule.weekly"), "mon 09:00-17:00");
        assert_eq!(text("schedule.closed_dates"), "2026-12-25");
        assert_eq!(text("conditions"), "caller.state in_list FL,GA");
        assert_eq!(text("revenue.headers"), "X-Key: k");
        assert_eq!(text("revenue.method"), "POST");
        let field = Field { key: "schedule.weekly", ..fields(Kind::Target)[0] };
        assert!(field.owns("schedule.weekly[0].open") && !field.owns("schedule.weeklyx"));
    }
}
