//! Invoicing cycles: weeks (Monday 00:00 to Monday 00:00) and calendar months, in the
//! organization's time zone, as UTC instants.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::network::buyers::Cycle;

/// The last cycle that ended at or before `now`: `[start, end)`.
pub fn last_complete(cycle: Cycle, zone: Tz, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    let today = now.with_timezone(&zone).date_naive();
    let current_start = match cycle {
        Cycle::Weekly => today - Days::new(u64::from(today.weekday().num_days_from_monday())),
        Cycle::Monthly => today.with_day(1).unwrap_or(today),
    };
    let previous_start = match cycle {
        Cycle::Weekly => current_start - Days::new(7),
        Cycle::Monthly => current_start - Months::new(1),
    };
    (midnight(previous_start, zone), midnight(current_start, zone))
}

/// The first instant of `day` in `zone` (a day that starts in a DST gap starts at its
/// first existing instant).
fn midnight(day: NaiveDate, zone: Tz) -> DateTime<Utc> {
    let start = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    zone.from_local_datetime(&start)
        .earliest()
        .or_else(|| zone.from_local_datetime(&(start + chrono::Duration::hours(1))).earliest())
        .map_or_else(|| Utc.from_utc_datetime(&start), |at| at.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().unwrap()
    }

    #[test]
    fn the_last_week_is_monday_to_monday_in_the_zone() {
        let zone: Tz = "America/New_York".parse().unwrap();
        // Thursday 3 December 2026, 18:00 UTC: the last whole week is 23–30 November.
        let (start, end) = last_complete(Cycle::Weekly, zone, utc("2026-12-03T18:00:00Z"));
        assert_eq!(start, utc("2026-11-23T05:00:00Z"));
        assert_eq!(end, utc("2026-11-30T05:00:00Z"));
    }

    #[test]
    fn the_last_month_is_the_calendar_month_before_in_the_zone() {
        let zone: Tz = "America/Los_Angeles".parse().unwrap();
        // 1 December 03:00 UTC is still 30 November in Los Angeles: October is the last.
        let (start, end) = last_complete(Cycle::Monthly, zone, utc("2026-12-01T03:00:00Z"));
        assert_eq!(start, utc("2026-10-01T07:00:00Z"));
        assert_eq!(end, utc("2026-11-01T07:00:00Z"));
    }
}
