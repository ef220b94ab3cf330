//! Whether a target takes a call now: its schedule open in its zone, and its conditions
//! true of the call. Conditions are compiled once per snapshot (regexes included), so a
//! call only runs them.

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;
use regex::Regex;
use serde_json::Value;

use crate::{
    network::targets::{
        conditions::{Condition, Operator},
        schedule::Schedule,
    },
    ping::Call,
};

/// Compiled regexes stay small: they run on the routing hot path.
const REGEX_SIZE_LIMIT: usize = 1 << 16;

/// Whether `schedule` is open at `now` (a `None` schedule always is).
pub fn is_open(schedule: Option<&Schedule>, now: DateTime<Utc>) -> bool {
    let Some(schedule) = schedule else { return true };
    let zone: Tz = schedule.time_zone.parse().unwrap_or(Tz::UTC);
    let local = now.with_timezone(&zone);
    if schedule.closed_dates.contains(&local.date_naive()) {
        return false;
    }
    let minute = (local.hour() * 60 + local.minute()) as u16;
    schedule.weekly.iter().any(|period| {
        let (open, close) = period.minutes();
        period.weekday() == local.weekday() && open <= minute && minute < close
    })
}

/// One condition, ready to run.
#[derive(Debug)]
pub struct Rule {
    attribute: String,
    test: Test,
}

#[derive(Debug)]
enum Test {
    Equals(String),
    NotEquals(String),
    StartsWith(String),
    EndsWith(String),
    Contains(String),
    Regex(Regex),
    GreaterThan(f64),
    LessThan(f64),
    InList(Vec<String>),
    Exists,
    NotExists,
}

impl Rule {
    /// The rule of a stored condition; `None` if it no longer compiles (it was checked
    /// when saved, so only a change of regex engine could do that).
    pub fn compile(condition: &Condition) -> Option<Rule> {
        let text = || condition.value.as_str().unwrap_or_default().to_lowercase();
        let number = || condition.value.as_f64();
        let test = match condition.operator {
            Operator::Equals => Test::Equals(text()),
            Operator::NotEquals => Test::NotEquals(text()),
            Operator::StartsWith => Test::StartsWith(text()),
            Operator::EndsWith => Test::EndsWith(text()),
            Operator::Contains => Test::Contains(text()),
            Operator::Regex => Test::Regex(
                regex::RegexBuilder::new(condition.value.as_str()?)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .build()
                    .ok()?,
            ),
            Operator::GreaterThan => Test::GreaterThan(number()?),
            Operator::LessThan => Test::LessThan(number()?),
            Operator::InList => Test::InList(
                condition
                    .value
                    .as_array()?
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_lowercase)
                    .collect(),
            ),
            Operator::Exists => Test::Exists,
            Operator::NotExists => Test::NotExists,
        };
        Some(Rule { attribute: condition.attribute.clone(), test })
    }

    /// Whether the call passes. Text comparisons ignore case; an attribute the call does
    /// not have is empty, and a number test on a text that is not a number fails.
    pub fn holds(&self, call: &Call) -> bool {
        let value = call.attribute(&self.attribute);
        let lower = || value.to_lowercase();
        let numeric = || value.trim().parse::<f64>().ok();
        match &self.test {
            Test::Equals(text) => lower() == *text,
            Test::NotEquals(text) => lower() != *text,
            Test::StartsWith(text) => lower().starts_with(text.as_str()),
            Test::EndsWith(text) => lower().ends_with(text.as_str()),
            Test::Contains(text) => lower().contains(text.as_str()),
            Test::Regex(regex) => regex.is_match(&value),
            Test::GreaterThan(limit) => numeric().is_some_and(|n| n > *limit),
            Test::LessThan(limit) => numeric().is_some_and(|n| n < *limit),
            Test::InList(items) => items.contains(&lower()),
            Test::Exists => !value.is_empty(),
            Test::NotExists => value.is_empty(),
        }
    }

    /// The condition in words, for the auction table's "why not".
    pub fn describe(&self) -> String {
        let (operator, value) = match &self.test {
            Test::Equals(text) => ("equals", text.clone()),
            Test::NotEquals(text) => ("not_equals", text.clone()),
            Test::StartsWith(text) => ("starts_with", text.clone()),
            Test::EndsWith(text) => ("ends_with", text.clone()),
            Test::Contains(text) => ("contains", text.clone()),
            Test::Regex(regex) => ("regex", regex.as_str().to_owned()),
            Test::GreaterThan(limit) => ("greater_than", limit.to_string()),
            Test::LessThan(limit) => ("less_than", limit.to_string()),
            Test::InList(items) => ("in_list", items.join(",")),
            Test::Exists => ("exists", String::new()),
            Test::NotExists => ("not_exists", String::new()),
        };
        format!("{} {operator} {value}", self.attribute).trim_end().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use serde_json::json;

    use super::*;
    use crate::network::targets::schedule::Period;

    fn rule(attribute: &str, operator: Operator, value: Value) -> Rule {
        Rule::compile(&Condition { attribute: attribute.into(), operator, value }).unwrap()
    }

    #[test]
    fn conditions_test_the_calls_attributes() {
        let mut call = Call::sample(None);
        call.tags.insert("age".into(), "70".into());
        let holds = |r: Rule| r.holds(&call);
        assert!(holds(rule("caller.state", Operator::InList, json!(["ca", "ny"]))));
        assert!(holds(rule("caller.state", Operator::Equals, json!("ny"))));
        assert!(!holds(rule("caller.state", Operator::NotEquals, json!("NY"))));
        assert!(holds(rule("caller.area_code", Operator::Regex, json!("^2[01]2$"))));
        assert!(holds(rule("tag.age", Operator::GreaterThan, json!(64.0))));
        assert!(!holds(rule("tag.utm_source", Operator::LessThan, json!(5.0))));
        assert!(holds(rule("tag.gclid", Operator::NotExists, Value::Null)));
        assert!(!holds(rule("tag.gclid", Operator::Exists, Value::Null)));
        assert!(holds(rule("dialed", Operator::StartsWith, json!("+1800"))));
        assert_eq!(
            rule("caller.state", Operator::InList, json!(["CA", "NY"])).describe(),
            "caller.state in_list ca,ny"
        );
    }

    #[test]
    fn a_schedule_is_read_in_its_own_zone() {
        let schedule = Schedule {
            time_zone: "America/New_York".into(),
            weekly: vec![Period { day: "wed".into(), open: "09:00".into(), close: "17:00".into() }],
            closed_dates: vec![chrono::NaiveDate::from_ymd_opt(2026, 12, 9).unwrap()],
        };
        // Wednesday 2 December 2026, 13:59 UTC is 08:59 in New York; 14:00 is 09:00.
        let at = |h, m| Utc.with_ymd_and_hms(2026, 12, 2, h, m, 0).unwrap();
        assert!(!is_open(Some(&schedule), at(13, 59)));
        assert!(is_open(Some(&schedule), at(14, 0)));
        assert!(is_open(Some(&schedule), at(21, 59)));
        assert!(!is_open(Some(&schedule), at(22, 0)));
        let closed_day = Utc.with_ymd_and_hms(2026, 12, 9, 15, 0, 0).unwrap();
        assert!(!is_open(Some(&schedule), closed_day));
        assert!(is_open(None, closed_day));
    }
}
