//! A call's timeline as people read it: each event a sentence, timed from the call's
//! start, naming targets and buyers instead of giving their ids. The API keeps the events
//! as stored (`kind` and `detail`).

use bidline_app::calls::{EventLine, dollars};
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::{calls::query::EventView, time::rfc3339};

/// What the sentences need to name things.
pub struct Names<'a> {
    pub target: &'a dyn Fn(Uuid) -> String,
    pub buyer: &'a dyn Fn(Uuid) -> String,
}

/// The call's events, timed from `started`.
pub fn lines(events: &[EventView], started: DateTime<Utc>, names: &Names) -> Vec<EventLine> {
    events
        .iter()
        .map(|event| EventLine {
            at: rfc3339(event.at),
            after: after(event.at - started),
            kind: event.kind.clone(),
            text: sentence(&event.kind, &event.detail, names),
        })
        .collect()
}

/// `+0.42 s` within the first minute, then `+2:05`.
fn after(elapsed: chrono::TimeDelta) -> String {
    let ms = elapsed.num_milliseconds().max(0);
    if ms < 60_000 {
        format!("+{}.{:02} s", ms / 1000, ms % 1000 / 10)
    } else {
        let seconds = ms / 1000;
        format!("+{}:{:02}", seconds / 60, seconds % 60)
    }
}

fn text(detail: &Value, field: &str) -> Option<String> {
    match &detail[field] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn named(detail: &Value, field: &str, name: &dyn Fn(Uuid) -> String) -> String {
    detail[field]
        .as_str()
        .and_then(|id| id.parse().ok())
        .map_or_else(|| "a target".to_owned(), name)
}

fn plural(count: u64, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

fn sentence(kind: &str, detail: &Value, names: &Names) -> String {
    let count = |field: &str| detail[field].as_u64().unwrap_or(0);
    let target = || named(detail, "target_id", names.target);
    let sip = || text(detail, "sip_status").map(|s| format!(" (SIP {s})")).unwrap_or_default();
    match kind {
        "initiated" => format!(
            "Call from {} to {}, sent by {}.",
            text(detail, "caller").unwrap_or_else(|| "a withheld number".into()),
            text(detail, "dialed").unwrap_or_default(),
            text(detail, "source").unwrap_or_else(|| "the carrier".into()),
        ),
        "screened" => {
            let who = if detail["anonymous"].as_bool() == Some(true) {
                "The caller withheld their number"
            } else {
                "The caller's number is known"
            };
            let duplicate = if detail["duplicate"].as_bool() == Some(true) {
                "a duplicate: they called this campaign within its duplicate window"
            } else {
                "not a duplicate"
            };
            format!("{who}; {duplicate}.")
        }
        "auction" => format!(
            "Auction: {} in the ring tree, {} pinged, {} to ring, decided in {} ms.",
            plural(count("ring_tree"), "target", "targets"),
            count("pinged"),
            count("candidates"),
            text(detail, "ms").unwrap_or_else(|| "?".into()),
        ),
        "refused" => format!(
            "Refused: {}{}.",
            text(detail, "reason").unwrap_or_else(|| "no reason given".into()),
            sip()
        ),
        "routed" => format!(
            "Handed to the SIP edge with {} to try in order.",
            plural(count("destinations"), "destination", "destinations")
        ),
        "leg.trying" => format!(
            "Dialing {} at {}.",
            target(),
            text(detail, "uri").unwrap_or_else(|| "its address".into())
        ),
        "leg.ringing" => format!("{} is ringing{}.", target(), sip()),
        "leg.answered" => format!("{} answered.", target()),
        "leg.failed" => format!(
            "{} did not take the call: {} {}.",
            target(),
            text(detail, "status").unwrap_or_default(),
            text(detail, "reason").unwrap_or_default()
        ),
        "bridged" => format!("Connected the caller to {}.", target()),
        "ended" => format!(
            "Ended as {}: {}{}.",
            text(detail, "status").unwrap_or_else(|| "ended".into()),
            text(detail, "reason").unwrap_or_else(|| "no reason given".into()),
            sip()
        ),
        "postback" => postback(detail, names),
        other => format!("{other}: {detail}"),
    }
}

/// "Postback from Acme Insurance: converted no → yes, revenue $0.00 → $45.00."
fn postback(detail: &Value, names: &Names) -> String {
    let buyer = named(detail, "buyer_id", names.buyer);
    let mut changes = Vec::new();
    let yes_no = |v: &Value| if v.as_bool() == Some(true) { "yes" } else { "no" };
    let converted = &detail["converted"];
    if converted["before"] != converted["after"] {
        changes.push(format!(
            "converted {} → {}",
            yes_no(&converted["before"]),
            yes_no(&converted["after"])
        ));
    }
    for (field, label) in [("revenue_cents", "revenue"), ("payout_cents", "payout")] {
        let (before, after) = (&detail[field]["before"], &detail[field]["after"]);
        if before != after {
            let money = |v: &Value| v.as_i64().map(dollars).unwrap_or_default();
            changes.push(format!("{label} {} → {}", money(before), money(after)));
        }
    }
    if changes.is_empty() {
        format!("Postback from {buyer}: nothing changed.")
    } else {
        format!("Postback from {buyer}: {}.", changes.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn names() -> (impl Fn(Uuid) -> String, impl Fn(Uuid) -> String) {
        (|_| "Delta line 2".to_owned(), |_| "Delta Home Pros".to_owned())
    }

    #[test]
    fn events_read_as_sentences_with_names() {
        let (target, buyer) = names();
        let names = Names { target: &target, buyer: &buyer };
        let id = Uuid::nil().to_string();
        let failed = json!({"leg": 0, "target_id": id, "status": 486, "reason": "Busy Here"});
        assert_eq!(
            sentence("leg.failed", &failed, &names),
            "Delta line 2 did not take the call: 486 Busy Here."
        );
        let postback = json!({
            "buyer_id": id,
            "converted": {"before": false, "after": true},
            "revenue_cents": {"before": 0, "after": 4500},
            "payout_cents": {"before": 1000, "after": 1000},
        });
        assert_eq!(
            sentence("postback", &postback, &names),
            "Postback from Delta Home Pros: converted no → yes, revenue $0.00 → $45.00."
        );
        let ended =
            json!({"status": "completed", "reason": "the caller hung up", "sip_status": null});
        assert_eq!(sentence("ended", &ended, &names), "Ended as completed: the caller hung up.");
    }

    #[test]
    fn times_count_from_the_start() {
        assert_eq!(after(chrono::TimeDelta::milliseconds(420)), "+0.42 s");
        assert_eq!(after(chrono::TimeDelta::milliseconds(59_999)), "+59.99 s");
        assert_eq!(after(chrono::TimeDelta::seconds(125)), "+2:05");
    }
}
