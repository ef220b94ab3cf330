//! A target's opening hours: weekly periods in an IANA time zone, and dates it is
//! closed. `null` in the API means always open.

use chrono::{NaiveDate, Weekday};
use serde::{Deserialize, Serialize};

use crate::network::{Invalid, time_zone};

const MAX_PERIODS: usize = 50;
const MAX_CLOSED_DATES: usize = 400;
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Schedule {
    pub time_zone: String,
    pub weekly: Vec<Period>,
    pub closed_dates: Vec<NaiveDate>,
}

/// Open from `open` to `close` (minutes after midnight; `close` up to 24:00) on `day`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "SchedulePeriod")]
pub struct Period {
    pub day: String,
    pub open: String,
    pub close: String,
}

impl Period {
    pub fn weekday(&self) -> Weekday {
        match self.day.as_str() {
            "mon" => Weekday::Mon,
            "tue" => Weekday::Tue,
            "wed" => Weekday::Wed,
            "thu" => Weekday::Thu,
            "fri" => Weekday::Fri,
            "sat" => Weekday::Sat,
            _ => Weekday::Sun,
        }
    }

    /// (open, close) in minutes after midnight.
    pub fn minutes(&self) -> (u16, u16) {
        (clock(&self.open).unwrap_or(0), clock(&self.close).unwrap_or(0))
    }
}

/// What the API accepts; checked by [`parse`].
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "ScheduleInput")]
pub struct Input {
    pub time_zone: Option<String>,
    #[serde(default)]
    pub weekly: Vec<PeriodInput>,
    #[serde(default)]
    pub closed_dates: Vec<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SchedulePeriodInput")]
pub struct PeriodInput {
    pub day: String,
    pub open: String,
    pub close: String,
}

/// `HH:MM` as minutes after midnight; 24:00 is the end of the day.
fn clock(text: &str) -> Option<u16> {
    let (hours, minutes) = text.split_once(':')?;
    if hours.len() != 2 || minutes.len() != 2 {
        return None;
    }
    let (hours, minutes): (u16, u16) = (hours.parse().ok()?, minutes.parse().ok()?);
    match (hours, minutes) {
        (24, 0) => Some(24 * 60),
        (0..=23, 0..=59) => Some(hours * 60 + minutes),
        _ => None,
    }
}

/// The schedule `input` describes; `default_zone` when it names none.
pub fn parse(input: Input, default_zone: &str, invalid: &mut Invalid) -> Schedule {
    let time_zone = match input.time_zone.as_deref().map(str::trim) {
        None => default_zone.to_owned(),
        Some(zone) => time_zone("schedule.time_zone", zone, invalid),
    };
    if input.weekly.is_empty() {
        invalid.add(
            "schedule.weekly",
            "needs at least one opening period (a null schedule is always open)",
        );
    }
    if input.weekly.len() > MAX_PERIODS {
        invalid.add("schedule.weekly", format!("at most {MAX_PERIODS} periods"));
    }
    let mut weekly = Vec::new();
    for (i, period) in input.weekly.into_iter().enumerate() {
        let day = period.day.trim().to_ascii_lowercase();
        if !DAYS.contains(&day.as_str()) {
            invalid.add(
                format!("schedule.weekly[{i}].day"),
                "must be one of mon, tue, wed, thu, fri, sat, sun",
            );
        }
        let open = clock(period.open.trim()).filter(|&m| m < 24 * 60);
        let close = clock(period.close.trim());
        match (open, close) {
            (None, _) => invalid
                .add(format!("schedule.weekly[{i}].open"), "must be a time from 00:00 to 23:59"),
            (_, None) => invalid
                .add(format!("schedule.weekly[{i}].close"), "must be a time from 00:01 to 24:00"),
            (Some(open), Some(close)) if close <= open => invalid.add(
                format!("schedule.weekly[{i}].close"),
                "must be after the opening time (split a period that runs past midnight in two)",
            ),
            _ => {}
        }
        weekly.push(Period {
            day,
            open: period.open.trim().to_owned(),
            close: period.close.trim().to_owned(),
        });
    }
    for (i, a) in weekly.iter().enumerate() {
        let overlap = weekly[..i].iter().any(|b| {
            let ((a_open, a_close), (b_open, b_close)) = (a.minutes(), b.minutes());
            a.day == b.day && a_open < b_close && b_open < a_close
        });
        if overlap {
            invalid.add(format!("schedule.weekly[{i}]"), "overlaps another period of the same day");
        }
    }
    weekly.sort_by_key(|period| (period.weekday().num_days_from_monday(), period.minutes()));
    if input.closed_dates.len() > MAX_CLOSED_DATES {
        invalid.add("schedule.closed_dates", format!("at most {MAX_CLOSED_DATES} dates"));
    }
    let mut closed_dates = Vec::new();
    for text in &input.closed_dates {
        match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
            Ok(date) => closed_dates.push(date),
            Err(_) => invalid
                .add("schedule.closed_dates", format!("{text:?} is not a date like 2026-12-25")),
        }
    }
    closed_dates.sort();
    closed_dates.dedup();
    Schedule { time_zone, weekly, closed_dates }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_json(json: serde_json::Value) -> Result<Schedule, Invalid> {
        let mut invalid = Invalid::default();
        let schedule = parse(serde_json::from_value(json).unwrap(), "UTC", &mut invalid);
        invalid.into_result().map(|()| schedule)
    }

    #[test]
    fn a_working_week_reads_back_in_order() {
        let schedule = parse_json(serde_json::json!({
            "time_zone": "America/Chicago",
            "weekly": [
                {"day": "tue", "open": "09:00", "close": "17:00"},
                {"day": "MON", "open": "13:00", "close": "24:00"},
                {"day": "mon", "open": "08:00", "close": "12:00"}
            ],
            "closed_dates": ["2026-12-25", "2026-01-01", "2026-12-25"]
        }))
        .unwrap();
        assert_eq!(schedule.time_zone, "America/Chicago");
        assert_eq!(
            schedule.weekly.iter().map(|p| (p.day.as_str(), p.minutes())).collect::<Vec<_>>(),
            [("mon", (480, 720)), ("mon", (780, 1440)), ("tue", (540, 1020))]
        );
        assert_eq!(schedule.closed_dates.len(), 2);
    }

    #[test]
    fn schedules_that_make_no_sense_are_refused_field_by_field() {
        let invalid = parse_json(serde_json::json!({
            "time_zone": "Mars/Olympus",
            "weekly": [
                {"day": "funday", "open": "09:00", "close": "17:00"},
                {"day": "mon", "open": "17:00", "close": "09:00"},
                {"day": "tue", "open": "9am", "close": "17:00"},
                {"day": "wed", "open": "09:00", "close": "17:00"},
                {"day": "wed", "open": "16:00", "close": "18:00"}
            ],
            "closed_dates": ["Christmas"]
        }))
        .unwrap_err();
        assert_eq!(
            invalid.0.keys().map(String::as_str).collect::<Vec<_>>(),
            [
                "schedule.closed_dates",
                "schedule.time_zone",
                "schedule.weekly[0].day",
                "schedule.weekly[1].close",
                "schedule.weekly[2].open",
                "schedule.weekly[4]",
            ]
        );
        let empty = parse_json(serde_json::json!({"weekly": []})).unwrap_err();
        assert!(empty.0["schedule.weekly"].contains("always open"));
    }
}
