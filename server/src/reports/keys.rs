//! How a row's keys read: each dimension's field names, and the names of the ids.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Days, Utc};
use chrono_tz::Tz;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::request::{Grain, Group};
use crate::{
    accounts::OrgId,
    db::{Db, with_pool},
};

/// The field a group's key goes in (and that `sort` names).
pub fn name(group: &Group) -> String {
    match group {
        Group::Campaign => "campaign_id".into(),
        Group::Publisher => "publisher_id".into(),
        Group::Buyer => "buyer_id".into(),
        Group::Target => "target_id".into(),
        Group::Number => "number_id".into(),
        Group::CallerState => "caller_state".into(),
        Group::Tag(tag) => format!("tag.{tag}"),
        Group::Time(Grain::Hour) => "hour".into(),
        Group::Time(Grain::Day) => "day".into(),
        Group::Time(Grain::Week) => "week".into(),
        Group::Time(Grain::Month) => "month".into(),
    }
}

/// The field beside a group's id that names it, if any.
pub fn label(group: &Group) -> Option<&'static str> {
    match group {
        Group::Campaign => Some("campaign_name"),
        Group::Publisher => Some("publisher_name"),
        Group::Buyer => Some("buyer_name"),
        Group::Target => Some("target_name"),
        Group::Number => Some("number"),
        _ => None,
    }
}

/// Every key field rows of `groups` have, in order (CSV columns).
pub fn fields(groups: &[Group]) -> Vec<String> {
    groups
        .iter()
        .flat_map(|g| std::iter::once(name(g)).chain(label(g).map(str::to_owned)))
        .collect()
}

/// The start of the span of `grain` that `at` falls in, in `zone`, as the row shows it:
/// an hour as RFC 3339 with the zone's offset, a day or a week (its Monday) as a date, a
/// month as `2026-12`.
pub fn span(at: DateTime<Utc>, grain: Grain, zone: Tz) -> String {
    let local = at.with_timezone(&zone);
    let date = local.date_naive();
    match grain {
        // The local hour: quarter hours of a +05:30 zone fall in the hour they start in.
        Grain::Hour => local.format("%Y-%m-%dT%H:00:00%:z").to_string(),
        Grain::Day => date.format("%Y-%m-%d").to_string(),
        Grain::Week => (date - Days::new(date.weekday().num_days_from_monday().into()))
            .format("%Y-%m-%d")
            .to_string(),
        Grain::Month => date.format("%Y-%m").to_string(),
    }
}

/// Names of the organization's objects, for the ids rows show.
#[derive(Debug, Default)]
pub struct Names(HashMap<Uuid, String>);

impl Names {
    /// The names of what `groups` key rows by.
    pub async fn load(db: &Db, org: OrgId, groups: &[Group]) -> Result<Names, sqlx::Error> {
        let mut names = HashMap::new();
        for group in groups {
            let sql = match group {
                Group::Campaign => "SELECT id, name FROM campaigns WHERE organization_id = $1",
                Group::Publisher => "SELECT id, name FROM publishers WHERE organization_id = $1",
                Group::Buyer => "SELECT id, name FROM buyers WHERE organization_id = $1",
                Group::Target => "SELECT id, name FROM targets WHERE organization_id = $1",
                Group::Number => "SELECT id, number FROM numbers WHERE organization_id = $1",
                _ => continue,
            };
            let rows: Vec<(Uuid, String)> =
                with_pool!(db, pool => sqlx::query_as(sql).bind(org).fetch_all(pool).await)?;
            names.extend(rows);
        }
        Ok(Names(names))
    }

    /// The name of the object `id`, if it is one of those loaded.
    pub fn get(&self, id: Uuid) -> Option<&str> {
        self.0.get(&id).map(String::as_str)
    }

    /// `keys` of a row: each group's value, and beside an id its name (`null` when the
    /// object is gone or the calls had none, e.g. no buyer).
    pub fn keys(&self, groups: &[Group], values: &[String]) -> Map<String, Value> {
        let mut keys = Map::new();
        for (group, value) in groups.iter().zip(values) {
            let field = name(group);
            let shown = if value.is_empty() { Value::Null } else { Value::String(value.clone()) };
            if let Some(label) = label(group) {
                let named = value.parse::<Uuid>().ok().and_then(|id| self.0.get(&id));
                keys.insert(
                    label.to_owned(),
                    named.map_or(Value::Null, |n| Value::String(n.clone())),
                );
            }
            keys.insert(field, shown);
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn spans_are_read_in_the_reports_zone() {
        let at = Utc.with_ymd_and_hms(2026, 12, 7, 4, 45, 0).unwrap(); // a Monday
        let kolkata: Tz = "Asia/Kolkata".parse().unwrap();
        assert_eq!(span(at, Grain::Hour, kolkata), "2026-12-07T10:00:00+05:30");
        let new_york: Tz = "America/New_York".parse().unwrap();
        assert_eq!(span(at, Grain::Day, new_york), "2026-12-06");
        assert_eq!(span(at, Grain::Week, new_york), "2026-11-30");
        assert_eq!(span(at, Grain::Week, kolkata), "2026-12-07");
        assert_eq!(span(at, Grain::Month, Tz::UTC), "2026-12");
    }
}
