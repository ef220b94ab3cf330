//! A report request as the API reads it: what to group by, the range in a time zone, the
//! filters, the order and the size. Every bad parameter is an error naming it.

use std::collections::HashMap;

use chrono::{DateTime, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use uuid::Uuid;

use crate::calls::Status;
use bidline_model::reports::metric_named;

/// What rows are keyed by.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Group {
    Campaign,
    Publisher,
    Buyer,
    Target,
    Number,
    CallerState,
    Tag(String),
    Time(Grain),
}

/// A span of time in the report's zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Grain {
    Hour,
    Day,
    /// Weeks start on Monday.
    Week,
    Month,
}

impl Group {
    fn parse(text: &str) -> Option<Group> {
        Some(match text {
            "campaign" => Group::Campaign,
            "publisher" => Group::Publisher,
            "buyer" => Group::Buyer,
            "target" => Group::Target,
            "number" => Group::Number,
            "caller_state" => Group::CallerState,
            "hour" => Group::Time(Grain::Hour),
            "day" => Group::Time(Grain::Day),
            "week" => Group::Time(Grain::Week),
            "month" => Group::Time(Grain::Month),
            _ => Group::Tag(tag_name(text.strip_prefix("tag.")?)?),
        })
    }
}

/// A tag's name as a report may use it: letters, digits, `.`, `_` and `-`.
fn tag_name(name: &str) -> Option<String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    ok.then(|| name.to_owned())
}

/// The filters a report may have.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    pub campaign_id: Option<Uuid>,
    pub publisher_id: Option<Uuid>,
    pub buyer_id: Option<Uuid>,
    pub target_id: Option<Uuid>,
    /// The tracking number's id (the API takes the number and finds it).
    pub number: Option<String>,
    pub status: Option<Status>,
    pub converted: Option<bool>,
    pub duplicate: Option<bool>,
    pub tags: Vec<(String, String)>,
}

/// How rows are ordered: by a metric or a key, ascending or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sort {
    pub by: String,
    pub descending: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub groups: Vec<Group>,
    /// `[from, to)`.
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub zone: Tz,
    pub filters: Filters,
    pub sort: Option<Sort>,
    pub limit: usize,
}

pub const DEFAULT_LIMIT: usize = 1_000;
pub const MAX_LIMIT: usize = 10_000;
/// Tag filters one report may have (each binds two parameters).
const MAX_TAG_FILTERS: usize = 10;
/// The longest range a report covers.
const MAX_DAYS: u64 = 400;

/// Why a parameter is refused: its name and what it must be.
#[derive(Debug, PartialEq, Eq)]
pub struct Invalid(pub &'static str, pub String);

fn invalid(name: &'static str, why: impl Into<String>) -> Invalid {
    Invalid(name, why.into())
}

impl Request {
    /// Reads `params`; `org_zone` is the organization's zone, the default; `now` ends the
    /// default range (the last 30 days, today included).
    pub fn parse(
        params: &HashMap<String, String>,
        org_zone: &str,
        now: DateTime<Utc>,
    ) -> Result<Request, Invalid> {
        let text = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let groups = groups(text("group_by"))?;
        let zone: Tz = match text("time_zone") {
            Some(zone) => zone.parse().map_err(|_| {
                invalid("time_zone", "must be an IANA time zone like America/New_York")
            })?,
            None => org_zone.parse().unwrap_or(Tz::UTC),
        };
        let today = now.with_timezone(&zone).date_naive();
        let from = match text("from") {
            Some(v) => instant(v, zone, false).ok_or_else(|| invalid("from", DATE))?,
            None => start_of(today - Days::new(29), zone),
        };
        let to = match text("to") {
            Some(v) => instant(v, zone, true).ok_or_else(|| invalid("to", DATE))?,
            None => start_of(today + Days::new(1), zone),
        };
        if to <= from {
            return Err(invalid("to", "must be after from"));
        }
        if to - from > chrono::Duration::days(MAX_DAYS as i64) {
            return Err(invalid("to", format!("must be at most {MAX_DAYS} days after from")));
        }
        let filters = filters(params)?;
        let sort = text("sort").map(|v| sort(v, &groups)).transpose()?;
        let limit = match text("limit") {
            Some(v) => v
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=MAX_LIMIT).contains(n))
                .ok_or_else(|| invalid("limit", format!("must be 1 to {MAX_LIMIT}")))?,
            None => DEFAULT_LIMIT,
        };
        Ok(Request { groups, from, to, zone, filters, sort, limit })
    }
}

const GROUPS: &str = "one or two of campaign, publisher, buyer, target, number, caller_state, \
    tag.NAME, hour, day, week, month";
const DATE: &str = "must be a date (2026-12-05) or a time (2026-12-05T10:00:00Z)";

fn groups(text: Option<&str>) -> Result<Vec<Group>, Invalid> {
    let text = text.ok_or_else(|| invalid("group_by", format!("is required: {GROUPS}")))?;
    let groups: Vec<Group> = text
        .split(',')
        .map(|part| {
            Group::parse(part.trim())
                .ok_or_else(|| invalid("group_by", format!("{part:?} is not {GROUPS}")))
        })
        .collect::<Result<_, _>>()?;
    if groups.len() > 2 {
        return Err(invalid("group_by", format!("must be {GROUPS}")));
    }
    if groups.len() == 2 && groups[0] == groups[1] {
        return Err(invalid("group_by", "names the same dimension twice"));
    }
    if groups.iter().filter(|g| matches!(g, Group::Time(_))).count() > 1 {
        return Err(invalid("group_by", "may have one of hour, day, week and month"));
    }
    Ok(groups)
}

/// The start of `date` in `zone` (its first instant, where a shift skips midnight).
pub fn start_of(date: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
    match zone.from_local_datetime(&midnight) {
        chrono::LocalResult::Single(at) | chrono::LocalResult::Ambiguous(at, _) => {
            at.with_timezone(&Utc)
        }
        // Midnight skipped by a clock change: the day starts an hour later.
        chrono::LocalResult::None => start_of_after_gap(midnight, zone),
    }
}

fn start_of_after_gap(midnight: chrono::NaiveDateTime, zone: Tz) -> DateTime<Utc> {
    (1..=4)
        .find_map(|h| {
            zone.from_local_datetime(&(midnight + chrono::Duration::minutes(30 * h))).earliest()
        })
        .map_or_else(|| Utc.from_utc_datetime(&midnight), |at| at.with_timezone(&Utc))
}

/// A date (its start, or with `end` the start of the next day: dates are inclusive) or an
/// RFC 3339 time.
fn instant(text: &str, zone: Tz, end: bool) -> Option<DateTime<Utc>> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let date = if end { date.checked_add_days(Days::new(1))? } else { date };
        return Some(start_of(date, zone));
    }
    DateTime::parse_from_rfc3339(text).ok().map(|at| at.with_timezone(&Utc))
}

fn filters(params: &HashMap<String, String>) -> Result<Filters, Invalid> {
    let text = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    let id = |name: &'static str| -> Result<Option<Uuid>, Invalid> {
        text(name).map(|v| v.parse().map_err(|_| invalid(name, "must be an id"))).transpose()
    };
    let flag = |name: &'static str| -> Result<Option<bool>, Invalid> {
        text(name)
            .map(|v| match v {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(invalid(name, "must be true or false")),
            })
            .transpose()
    };
    let mut tags: Vec<(String, String)> = Vec::new();
    for (name, value) in params {
        if let Some(tag) = name.strip_prefix("tag.") {
            let tag = tag_name(tag)
                .ok_or_else(|| invalid("tag", format!("{name:?} is not a tag name")))?;
            tags.push((tag, value.clone()));
        }
    }
    if tags.len() > MAX_TAG_FILTERS {
        return Err(invalid("tag", format!("at most {MAX_TAG_FILTERS} tag filters")));
    }
    tags.sort();
    Ok(Filters {
        campaign_id: id("campaign_id")?,
        publisher_id: id("publisher_id")?,
        buyer_id: id("buyer_id")?,
        target_id: id("target_id")?,
        number: text("number")
            .map(|v| {
                crate::e164::E164::parse(v)
                    .map(|n| n.as_str().to_owned())
                    .map_err(|why| invalid("number", why))
            })
            .transpose()?,
        status: text("status")
            .map(|v| {
                Status::parse(v).ok_or_else(|| {
                    invalid("status", "must be ringing, connected, completed, failed, rejected, abandoned or interrupted")
                })
            })
            .transpose()?,
        converted: flag("converted")?,
        duplicate: flag("duplicate")?,
        tags,
    })
}

fn sort(text: &str, groups: &[Group]) -> Result<Sort, Invalid> {
    let (descending, by) = match text.strip_prefix('-') {
        Some(by) => (true, by),
        None => (false, text),
    };
    let key = groups.iter().any(|g| super::keys::name(g) == by);
    if metric_named(by).is_none() && !key {
        return Err(invalid(
            "sort",
            "must be a metric or a group_by dimension, with - for descending",
        ));
    }
    Ok(Sort { by: by.to_owned(), descending })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &[(&str, &str)]) -> Result<Request, Invalid> {
        let params = query.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let now = Utc.with_ymd_and_hms(2026, 12, 5, 15, 0, 0).unwrap();
        Request::parse(&params, "America/New_York", now)
    }

    #[test]
    fn dates_are_whole_days_of_the_zone_and_to_is_inclusive() {
        let r =
            parse(&[("group_by", "campaign,day"), ("from", "2026-12-01"), ("to", "2026-12-02")])
                .unwrap();
        assert_eq!(r.groups, vec![Group::Campaign, Group::Time(Grain::Day)]);
        assert_eq!(r.from, Utc.with_ymd_and_hms(2026, 12, 1, 5, 0, 0).unwrap());
        assert_eq!(r.to, Utc.with_ymd_and_hms(2026, 12, 3, 5, 0, 0).unwrap());
        let r = parse(&[("group_by", "day"), ("time_zone", "UTC")]).unwrap();
        assert_eq!(r.from, Utc.with_ymd_and_hms(2026, 11, 6, 0, 0, 0).unwrap());
        assert_eq!(r.to, Utc.with_ymd_and_hms(2026, 12, 6, 0, 0, 0).unwrap());
    }

    #[test]
    fn bad_parameters_are_named() {
        assert_eq!(parse(&[]).unwrap_err().0, "group_by");
        assert_eq!(parse(&[("group_by", "day,hour")]).unwrap_err().0, "group_by");
        assert_eq!(parse(&[("group_by", "campaign,publisher,buyer")]).unwrap_err().0, "group_by");
        assert_eq!(parse(&[("group_by", "tag.a\"b")]).unwrap_err().0, "group_by");
        assert_eq!(
            parse(&[("group_by", "day"), ("time_zone", "Mars/Olympus")]).unwrap_err().0,
            "time_zone"
        );
        assert_eq!(parse(&[("group_by", "day"), ("from", "yesterday")]).unwrap_err().0, "from");
        assert_eq!(
            parse(&[("group_by", "day"), ("from", "2026-12-05"), ("to", "2026-12-01")])
                .unwrap_err()
                .0,
            "to"
        );
        assert_eq!(parse(&[("group_by", "day"), ("sort", "-nonsense")]).unwrap_err().0, "sort");
        assert_eq!(parse(&[("group_by", "day"), ("limit", "0")]).unwrap_err().0, "limit");
        assert_eq!(
            parse(&[("group_by", "day"), ("campaign_id", "x")]).unwrap_err().0,
            "campaign_id"
        );
        let tags: Vec<(String, &str)> = (0..11).map(|i| (format!("tag.t{i}"), "x")).collect();
        let mut query: Vec<(&str, &str)> = tags.iter().map(|(k, v)| (k.as_str(), *v)).collect();
        query.push(("group_by", "day"));
        assert_eq!(parse(&query).unwrap_err().0, "tag");
        assert!(
            parse(&[
                ("group_by", "tag.utm_source"),
                ("sort", "-revenue_cents"),
                ("tag.caller.state", "NY")
            ])
            .is_ok()
        );
    }
}
