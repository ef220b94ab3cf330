//! Targets: a buyer's destinations, each with its limits (ring timeout, concurrency,
//! caps), opening hours, the calls it takes (conditions) and what it pays (revenue).

pub mod conditions;
pub mod dynamic;
pub mod revenue;
pub mod schedule;

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::types::Json;
use uuid::Uuid;

use self::{conditions::Condition, dynamic::Allowed, revenue::Revenue, schedule::Schedule};
use super::{
    Invalid, NetworkError, Stamp, Status, check_own, destination::Destination, double_option,
    name_field, patched, resource::Resource, status_field, time_zone,
};
use crate::{
    accounts::OrgId,
    db::{Db, Tx, with_pool, with_tx},
    e164::E164,
};

const DEFAULT_RING_TIMEOUT: u32 = 30;
const MAX_RING_TIMEOUT: u32 = 300;
const DEFAULT_TIME_ZONE: &str = "UTC";

/// Calls a target takes per hour, day and month (in its time zone) and in all; `None`
/// is no limit.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct Caps {
    pub hour: Option<u32>,
    pub day: Option<u32>,
    pub month: Option<u32>,
    pub total: Option<u32>,
}

/// A cap window.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Hour,
    Day,
    Month,
    Total,
}

impl Period {
    pub const ALL: [Period; 4] = [Period::Hour, Period::Day, Period::Month, Period::Total];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Hour => "hour",
            Self::Day => "day",
            Self::Month => "month",
            Self::Total => "total",
        }
    }

    pub fn parse(text: &str) -> Option<Period> {
        Self::ALL.into_iter().find(|period| period.as_str() == text)
    }

    pub fn cap(self, caps: &Caps) -> Option<u32> {
        match self {
            Self::Hour => caps.hour,
            Self::Day => caps.day,
            Self::Month => caps.month,
            Self::Total => caps.total,
        }
    }

    /// The window `at` falls in, as local time text in `zone`.
    pub fn bucket(self, at: DateTime<Utc>, zone: &str) -> String {
        let zone: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::Tz::UTC);
        let local = at.with_timezone(&zone);
        match self {
            Self::Hour => local.format("%Y-%m-%dT%H").to_string(),
            Self::Day => local.format("%Y-%m-%d").to_string(),
            Self::Month => local.format("%Y-%m").to_string(),
            Self::Total => "all".to_owned(),
        }
    }
}

/// A target as the API answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Target {
    pub id: Uuid,
    pub buyer_id: Uuid,
    pub name: String,
    pub status: Status,
    pub destination: Destination,
    /// The trunk a phone number is dialed through (the destination, or one a bid names);
    /// `None` for SIP URIs.
    pub outbound_trunk_id: Option<Uuid>,
    /// Where a bid's destination may send the call; empty, a bid's destination is not
    /// taken.
    pub dynamic_destinations: Vec<Allowed>,
    pub ring_timeout_seconds: u32,
    pub concurrency_cap: Option<u32>,
    /// The zone caps are counted in (and the schedule's, unless it names its own).
    pub time_zone: String,
    pub caps: Caps,
    pub schedule: Option<Schedule>,
    pub conditions: Vec<Condition>,
    pub revenue: Revenue,
    #[serde(serialize_with = "crate::time::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize")]
    pub updated_at: DateTime<Utc>,
}

/// A `POST` (all of it) or `PATCH` (any part) body. Nested objects (`schedule`,
/// `conditions`, `revenue`) are replaced whole; each cap can be set alone.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "TargetInput")]
pub struct Input {
    pub buyer_id: Option<Uuid>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub destination: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub outbound_trunk_id: Option<Option<Uuid>>,
    pub dynamic_destinations: Option<Vec<String>>,
    pub ring_timeout_seconds: Option<i64>,
    #[serde(default, deserialize_with = "double_option")]
    pub concurrency_cap: Option<Option<i64>>,
    pub time_zone: Option<String>,
    pub caps: Option<CapsInput>,
    #[serde(default, deserialize_with = "double_option")]
    pub schedule: Option<Option<schedule::Input>>,
    pub conditions: Option<Vec<conditions::Input>>,
    pub revenue: Option<revenue::Input>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapsInput {
    #[serde(default, deserialize_with = "double_option")]
    pub hour: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub day: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub month: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    pub total: Option<Option<i64>>,
}

#[derive(sqlx::FromRow)]
pub struct Row {
    id: Uuid,
    buyer_id: Uuid,
    name: String,
    status: String,
    destination: String,
    outbound_trunk_id: Option<Uuid>,
    dynamic_destinations: Json<Vec<Allowed>>,
    ring_timeout_seconds: i64,
    concurrency_cap: Option<i64>,
    time_zone: String,
    cap_hour: Option<i64>,
    cap_day: Option<i64>,
    cap_month: Option<i64>,
    cap_total: Option<i64>,
    schedule: Option<Json<Schedule>>,
    conditions: Json<Vec<Condition>>,
    revenue: Json<Revenue>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn count(value: Option<i64>) -> Option<u32> {
    value.and_then(|v| u32::try_from(v).ok())
}

impl Resource for Target {
    const KIND: &'static str = "target";
    const TABLE: &'static str = "targets";
    const USED_BY: &'static [(&'static str, &'static str, &'static str)] =
        &[("ring_tree_entries", "target_id", "ring-tree entries")];
    /// A buyer's ping endpoint takes its API key in a header.
    const WRITE_ONLY_HEADERS: Option<&'static str> = Some("/revenue/headers");
    type Row = Row;
    type Input = Input;

    fn write_only_headers_mut(
        &mut self,
    ) -> Option<&mut std::collections::BTreeMap<String, String>> {
        match &mut self.revenue {
            Revenue::Rtb(rtb) => Some(&mut rtb.headers),
            Revenue::Static { .. } => None,
        }
    }

    fn id(&self) -> Uuid {
        self.id
    }

    fn from_row(row: Row) -> Self {
        let destination = if row.destination.starts_with("sip") {
            Destination::Sip(row.destination)
        } else {
            Destination::Phone(E164::from_stored(row.destination))
        };
        Self {
            id: row.id,
            buyer_id: row.buyer_id,
            name: row.name,
            status: Status::parse(&row.status).unwrap_or(Status::Paused),
            destination,
            outbound_trunk_id: row.outbound_trunk_id,
            dynamic_destinations: row.dynamic_destinations.0,
            ring_timeout_seconds: count(Some(row.ring_timeout_seconds))
                .unwrap_or(DEFAULT_RING_TIMEOUT),
            concurrency_cap: count(row.concurrency_cap),
            time_zone: row.time_zone,
            caps: Caps {
                hour: count(row.cap_hour),
                day: count(row.cap_day),
                month: count(row.cap_month),
                total: count(row.cap_total),
            },
            schedule: row.schedule.map(|json| json.0),
            conditions: row.conditions.0,
            revenue: row.revenue.0,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    fn apply(current: Option<&Self>, input: Input) -> Result<Self, Invalid> {
        let mut invalid = Invalid::default();
        let name = name_field(current.map(|t| t.name.as_str()), input.name, &mut invalid);
        let status = status_field(current.map(|t| t.status), input.status.as_deref(), &mut invalid);
        let buyer_id = input.buyer_id.or(current.map(|t| t.buyer_id));
        if buyer_id.is_none() {
            invalid.add("buyer_id", "is required");
        }
        let destination = match (input.destination, current) {
            (Some(text), _) => Destination::parse(&text)
                .and_then(|destination| destination.check_public().map(|()| destination))
                .map_err(|why| invalid.add("destination", why))
                .ok(),
            (None, Some(current)) => Some(current.destination.clone()),
            (None, None) => {
                invalid.add("destination", "is required: a phone number or a SIP URI");
                None
            }
        };
        let outbound_trunk_id =
            patched(input.outbound_trunk_id, current.and_then(|t| t.outbound_trunk_id));
        let dynamic_destinations = match input.dynamic_destinations {
            Some(texts) => dynamic::parse(&texts).unwrap_or_else(|why| {
                invalid.add("dynamic_destinations", why);
                Vec::new()
            }),
            None => current.map(|t| t.dynamic_destinations.clone()).unwrap_or_default(),
        };
        match (&destination, outbound_trunk_id) {
            (Some(Destination::Phone(_)), None) => {
                invalid.add("outbound_trunk_id", "is required to dial a phone number")
            }
            (Some(Destination::Sip(_)), Some(_)) => invalid
                .add("outbound_trunk_id", "must be null for a SIP URI, which is called directly"),
            (Some(Destination::Sip(_)), None)
                if dynamic_destinations.iter().any(Allowed::is_prefix) =>
            {
                invalid.add(
                    "dynamic_destinations",
                    "number prefixes are dialed through the target's outbound trunk, which \
                     only a target dialing a phone number has",
                )
            }
            _ => {}
        }
        let ring_timeout_seconds = match input.ring_timeout_seconds {
            None => current.map_or(DEFAULT_RING_TIMEOUT, |t| t.ring_timeout_seconds),
            Some(seconds) => u32::try_from(seconds)
                .ok()
                .filter(|s| (1..=MAX_RING_TIMEOUT).contains(s))
                .unwrap_or_else(|| {
                    invalid.add(
                        "ring_timeout_seconds",
                        format!("must be between 1 and {MAX_RING_TIMEOUT}"),
                    );
                    DEFAULT_RING_TIMEOUT
                }),
        };
        let mut limit =
            |field: &'static str, value: Option<Option<i64>>, current: Option<u32>| match value {
                None => current,
                Some(None) => None,
                Some(Some(n)) => u32::try_from(n).map(Some).unwrap_or_else(|_| {
                    invalid.add(field, "must be 0 or more (null for no limit)");
                    None
                }),
            };
        let concurrency_cap = limit(
            "concurrency_cap",
            input.concurrency_cap,
            current.and_then(|t| t.concurrency_cap),
        );
        let old = current.map(|t| t.caps).unwrap_or_default();
        let change = input.caps.unwrap_or_default();
        let caps = Caps {
            hour: limit("caps.hour", change.hour, old.hour),
            day: limit("caps.day", change.day, old.day),
            month: limit("caps.month", change.month, old.month),
            total: limit("caps.total", change.total, old.total),
        };
        let time_zone = match (input.time_zone, current) {
            (Some(zone), _) => time_zone("time_zone", &zone, &mut invalid),
            (None, Some(current)) => current.time_zone.clone(),
            (None, None) => DEFAULT_TIME_ZONE.to_owned(),
        };
        let schedule = match input.schedule {
            Some(Some(schedule)) => Some(schedule::parse(schedule, &time_zone, &mut invalid)),
            Some(None) => None,
            None => current.and_then(|t| t.schedule.clone()),
        };
        let conditions = match input.conditions {
            Some(inputs) => conditions::parse(inputs, &mut invalid),
            None => current.map(|t| t.conditions.clone()).unwrap_or_default(),
        };
        let revenue = match (input.revenue, current) {
            (Some(revenue), _) => Some(revenue::parse(revenue, &mut invalid)),
            (None, Some(current)) => Some(current.revenue.clone()),
            (None, None) => {
                invalid.add(
                    "revenue",
                    "is required: {\"kind\":\"static\",\"cents\":N} or {\"kind\":\"rtb\",…}",
                );
                None
            }
        };
        invalid.into_result()?;
        let (Some(buyer_id), Some(destination), Some(revenue)) = (buyer_id, destination, revenue)
        else {
            unreachable!("each missing part was reported above");
        };
        let Stamp { id, created_at, updated_at } = Stamp::of(current.map(|t| (t.id, t.created_at)));
        Ok(Self {
            id,
            buyer_id,
            name,
            status,
            destination,
            outbound_trunk_id,
            dynamic_destinations,
            ring_timeout_seconds,
            concurrency_cap,
            time_zone,
            caps,
            schedule,
            conditions,
            revenue,
            created_at,
            updated_at,
        })
    }

    fn check_references<'a>(
        db: &'a Db,
        org: OrgId,
        target: &'a Self,
    ) -> BoxFuture<'a, Result<(), NetworkError>> {
        Box::pin(async move {
            let mut invalid = Invalid::default();
            check_own(&mut invalid, db, org, ("buyer_id", "buyers", "buyer"), target.buyer_id)
                .await?;
            if let Some(trunk) = target.outbound_trunk_id {
                let direction: Option<String> = with_pool!(db, pool => {
                    sqlx::query_scalar("SELECT direction FROM trunks WHERE organization_id = $1 AND id = $2")
                        .bind(org)
                        .bind(trunk)
                        .fetch_optional(pool)
                        .await
                })?;
                match direction.as_deref() {
                    None => invalid.add("outbound_trunk_id", "is not a trunk of this organization"),
                    Some("outbound") => {}
                    Some(_) => invalid.add(
                        "outbound_trunk_id",
                        "is an inbound trunk: calls go out through an outbound one",
                    ),
                }
            }
            Ok(invalid.into_result()?)
        })
    }

    fn save<'a>(
        tx: &'a mut Tx,
        org: OrgId,
        target: &'a Self,
        new: bool,
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
        Box::pin(async move {
            let sql = if new {
                "INSERT INTO targets (buyer_id, name, status, destination, outbound_trunk_id, \
                 ring_timeout_seconds, concurrency_cap, time_zone, cap_hour, cap_day, cap_month, cap_total, \
                 schedule, conditions, revenue, updated_at, organization_id, id, dynamic_destinations, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $16)"
            } else {
                "UPDATE targets SET buyer_id = $1, name = $2, status = $3, destination = $4, \
                 outbound_trunk_id = $5, ring_timeout_seconds = $6, concurrency_cap = $7, time_zone = $8, \
                 cap_hour = $9, cap_day = $10, cap_month = $11, cap_total = $12, schedule = $13, \
                 conditions = $14, revenue = $15, updated_at = $16, dynamic_destinations = $19 \
                 WHERE organization_id = $17 AND id = $18"
            };
            let caps = target.caps;
            with_tx!(tx, tx => {
                sqlx::query(sql)
                    .bind(target.buyer_id)
                    .bind(&target.name)
                    .bind(target.status.as_str())
                    .bind(target.destination.as_str())
                    .bind(target.outbound_trunk_id)
                    .bind(i64::from(target.ring_timeout_seconds))
                    .bind(target.concurrency_cap.map(i64::from))
                    .bind(&target.time_zone)
                    .bind(caps.hour.map(i64::from))
                    .bind(caps.day.map(i64::from))
                    .bind(caps.month.map(i64::from))
                    .bind(caps.total.map(i64::from))
                    .bind(target.schedule.as_ref().map(Json))
                    .bind(Json(&target.conditions))
                    .bind(Json(&target.revenue))
                    .bind(target.updated_at)
                    .bind(org)
                    .bind(target.id)
                    .bind(Json(&target.dynamic_destinations))
                    .execute(&mut **tx)
                    .await
                    .map(|done| done.rows_affected())
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apply(current: Option<&Target>, json: serde_json::Value) -> Result<Target, Invalid> {
        Target::apply(current, serde_json::from_value(json).unwrap())
    }

    fn a_target() -> Target {
        apply(
            None,
            serde_json::json!({
                "buyer_id": Uuid::now_v7(), "name": "Acme East", "destination": "sip:east@acme.example",
                "revenue": {"kind": "static", "cents": 4500}, "caps": {"day": 50}
            }),
        )
        .unwrap()
    }

    #[test]
    fn a_new_target_gets_sensible_defaults() {
        let target = a_target();
        assert_eq!((target.ring_timeout_seconds, target.time_zone.as_str()), (30, "UTC"));
        assert_eq!(target.caps, Caps { day: Some(50), ..Caps::default() });
        assert_eq!((target.schedule, target.concurrency_cap), (None, None), "always open, no cap");
    }

    #[test]
    fn a_phone_number_needs_a_trunk_and_a_sip_uri_refuses_one() {
        let invalid =
            apply(Some(&a_target()), serde_json::json!({"destination": "+1 555 010 0200"}))
                .unwrap_err();
        assert_eq!(invalid.0["outbound_trunk_id"], "is required to dial a phone number");
        let phone = apply(
            Some(&a_target()),
            serde_json::json!({"destination": "+1 555 010 0200", "outbound_trunk_id": Uuid::now_v7()}),
        )
        .unwrap();
        assert_eq!(phone.destination.as_str(), "+15550100200");
        let invalid =
            apply(Some(&phone), serde_json::json!({"destination": "sip:a@b.example"})).unwrap_err();
        assert!(invalid.0["outbound_trunk_id"].starts_with("must be null"));
    }

    #[test]
    fn numbers_a_bid_may_name_are_dialed_through_the_targets_trunk() {
        let allow = serde_json::json!({"dynamic_destinations": ["+1555", "*.buyer.example"]});
        let invalid = apply(Some(&a_target()), allow.clone()).unwrap_err();
        assert!(invalid.0["dynamic_destinations"].contains("outbound trunk"), "{invalid:?}");
        let trunk = Uuid::now_v7();
        let phone = serde_json::json!({"destination": "+15550100200", "outbound_trunk_id": trunk});
        let phone = apply(Some(&a_target()), phone).unwrap();
        let allowed = apply(Some(&phone), allow).unwrap();
        assert_eq!(allowed.dynamic_destinations.len(), 2);
        let invalid =
            apply(Some(&allowed), serde_json::json!({"dynamic_destinations": ["10.1.2.0/24"]}))
                .unwrap_err();
        assert!(invalid.0["dynamic_destinations"].contains("private"));
    }

    #[test]
    fn a_patch_changes_one_cap_and_keeps_the_rest() {
        let target =
            apply(Some(&a_target()), serde_json::json!({"caps": {"hour": 5, "day": null}}))
                .unwrap();
        assert_eq!(target.caps, Caps { hour: Some(5), ..Caps::default() });
        let invalid = apply(
            Some(&target),
            serde_json::json!({"caps": {"month": -1}, "ring_timeout_seconds": 0}),
        )
        .unwrap_err();
        assert_eq!(
            invalid.0.keys().map(String::as_str).collect::<Vec<_>>(),
            ["caps.month", "ring_timeout_seconds"]
        );
    }

    #[test]
    fn a_new_target_lists_everything_missing() {
        let invalid = apply(None, serde_json::json!({})).unwrap_err();
        assert_eq!(
            invalid.0.keys().map(String::as_str).collect::<Vec<_>>(),
            ["buyer_id", "destination", "name", "revenue"]
        );
    }
}

#[cfg(test)]
pub mod testing {
    use super::*;

    /// An active target that rings a SIP URI, takes every call and pays $10 a call.
    pub fn target() -> Target {
        let now = Utc::now();
        Target {
            id: Uuid::now_v7(),
            buyer_id: Uuid::now_v7(),
            name: "Test target".into(),
            status: Status::Active,
            destination: Destination::Sip("sip:buyer@192.0.2.10".into()),
            outbound_trunk_id: None,
            dynamic_destinations: Vec::new(),
            ring_timeout_seconds: DEFAULT_RING_TIMEOUT,
            concurrency_cap: None,
            time_zone: DEFAULT_TIME_ZONE.into(),
            caps: Caps::default(),
            schedule: None,
            conditions: Vec::new(),
            revenue: Revenue::Static { cents: 1000, buffer_seconds: 60 },
            created_at: now,
            updated_at: now,
        }
    }
}
