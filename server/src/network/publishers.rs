//! Publishers: who bring calls, and how they are paid — fixed cents per converted call,
//! or a share of the call's revenue — with their own conversion buffer and whether
//! duplicate calls are paid.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize, Serializer, ser::SerializeStruct};
use uuid::Uuid;

use super::{Invalid, Stamp, Status, double_option, name_field, resource::Resource, status_field};
use crate::{
    accounts::OrgId,
    db::{Tx, with_tx},
};

/// The longest conversion buffer: a call that must last a day to count.
const MAX_BUFFER_SECONDS: i64 = 86_400;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Publisher {
    pub id: Uuid,
    pub name: String,
    pub status: Status,
    pub payout: Payout,
    /// `None`: the campaign's buffer applies.
    pub conversion_buffer_seconds: Option<i64>,
    pub pay_duplicates: bool,
    #[serde(serialize_with = "crate::time::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize")]
    pub updated_at: DateTime<Utc>,
}

/// What a publisher earns for a converted call. A share is kept exactly, in basis
/// points (1/100 of a percent), and shown as a percent: `{"kind":"percent","percent":62.5}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Payout {
    Fixed { cents: i64 },
    Percent { basis_points: i64 },
}

impl Serialize for Payout {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut payout = serializer.serialize_struct("Payout", 2)?;
        match *self {
            Self::Fixed { cents } => {
                payout.serialize_field("kind", "fixed")?;
                payout.serialize_field("cents", &cents)?;
            }
            Self::Percent { basis_points } => {
                payout.serialize_field("kind", "percent")?;
                payout.serialize_field("percent", &(basis_points as f64 / 100.0))?;
            }
        }
        payout.end()
    }
}

impl schemars::JsonSchema for Payout {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Payout".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "oneOf": [
                {"type": "object", "required": ["kind", "cents"], "properties": {
                    "kind": {"const": "fixed"}, "cents": {"type": "integer", "minimum": 0}}},
                {"type": "object", "required": ["kind", "percent"], "properties": {
                    "kind": {"const": "percent"},
                    "percent": {"type": "number", "minimum": 0, "maximum": 100, "multipleOf": 0.01}}}
            ]
        })
    }
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "PublisherInput")]
pub struct Input {
    pub name: Option<String>,
    pub status: Option<String>,
    pub payout: Option<PayoutInput>,
    #[serde(default, deserialize_with = "double_option")]
    pub conversion_buffer_seconds: Option<Option<i64>>,
    pub pay_duplicates: Option<bool>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PayoutInput {
    pub kind: String,
    pub cents: Option<i64>,
    pub percent: Option<f64>,
}

fn payout_field(input: PayoutInput, invalid: &mut Invalid) -> Payout {
    match (input.kind.as_str(), input.cents, input.percent) {
        ("fixed", Some(cents), None) if cents >= 0 => return Payout::Fixed { cents },
        ("fixed", Some(_), None) => invalid.add("payout.cents", "must not be negative"),
        ("fixed", _, _) => invalid.add("payout", "a fixed payout has cents, and only cents"),
        ("percent", None, Some(percent)) => {
            let basis_points = (percent * 100.0).round();
            if !(0.0..=100.0).contains(&percent) {
                invalid.add("payout.percent", "must be between 0 and 100");
            } else if (basis_points - percent * 100.0).abs() > 1e-6 {
                invalid.add("payout.percent", "must have at most two decimals");
            } else {
                return Payout::Percent { basis_points: basis_points as i64 };
            }
        }
        ("percent", _, _) => {
            invalid.add("payout", "a percent payout has percent, and only percent")
        }
        _ => invalid.add("payout.kind", "must be fixed or percent"),
    }
    Payout::Fixed { cents: 0 }
}

#[derive(sqlx::FromRow)]
pub struct Row {
    id: Uuid,
    name: String,
    status: String,
    payout_kind: String,
    payout_cents: Option<i64>,
    payout_basis_points: Option<i64>,
    conversion_buffer_seconds: Option<i64>,
    pay_duplicates: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Resource for Publisher {
    const KIND: &'static str = "publisher";
    const TABLE: &'static str = "publishers";
    const USED_BY: &'static [(&'static str, &'static str, &'static str)] =
        &[("numbers", "publisher_id", "numbers")];
    type Row = Row;
    type Input = Input;

    fn id(&self) -> Uuid {
        self.id
    }

    fn from_row(row: Row) -> Self {
        // The table's CHECKs admit only these shapes.
        let payout = match (row.payout_kind.as_str(), row.payout_cents, row.payout_basis_points) {
            ("percent", _, Some(basis_points)) => Payout::Percent { basis_points },
            (_, cents, _) => Payout::Fixed { cents: cents.unwrap_or_default() },
        };
        Self {
            id: row.id,
            name: row.name,
            status: Status::parse(&row.status).unwrap_or(Status::Paused),
            payout,
            conversion_buffer_seconds: row.conversion_buffer_seconds,
            pay_duplicates: row.pay_duplicates,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    fn apply(current: Option<&Self>, input: Input) -> Result<Self, Invalid> {
        let mut invalid = Invalid::default();
        let name = name_field(current.map(|p| p.name.as_str()), input.name, &mut invalid);
        let status = status_field(current.map(|p| p.status), input.status.as_deref(), &mut invalid);
        let payout = match (input.payout, current) {
            (Some(payout), _) => payout_field(payout, &mut invalid),
            (None, Some(current)) => current.payout,
            (None, None) => {
                invalid.add("payout", "is required");
                Payout::Fixed { cents: 0 }
            }
        };
        let conversion_buffer_seconds = match input.conversion_buffer_seconds {
            Some(Some(seconds)) if !(0..=MAX_BUFFER_SECONDS).contains(&seconds) => {
                invalid.add(
                    "conversion_buffer_seconds",
                    format!("must be between 0 and {MAX_BUFFER_SECONDS}"),
                );
                None
            }
            Some(seconds) => seconds,
            None => current.and_then(|p| p.conversion_buffer_seconds),
        };
        let pay_duplicates =
            input.pay_duplicates.or(current.map(|p| p.pay_duplicates)).unwrap_or(false);
        invalid.into_result()?;
        let Stamp { id, created_at, updated_at } = Stamp::of(current.map(|p| (p.id, p.created_at)));
        Ok(Self {
            id,
            name,
            status,
            payout,
            conversion_buffer_seconds,
            pay_duplicates,
            created_at,
            updated_at,
        })
    }

    fn save<'a>(
        tx: &'a mut Tx,
        org: OrgId,
        publisher: &'a Self,
        new: bool,
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
        Box::pin(async move {
            let sql = if new {
                "INSERT INTO publishers (name, status, payout_kind, payout_cents, payout_basis_points, \
                 conversion_buffer_seconds, pay_duplicates, updated_at, organization_id, id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $8)"
            } else {
                "UPDATE publishers SET name = $1, status = $2, payout_kind = $3, payout_cents = $4, \
                 payout_basis_points = $5, conversion_buffer_seconds = $6, pay_duplicates = $7, updated_at = $8 \
                 WHERE organization_id = $9 AND id = $10"
            };
            let (kind, cents, basis_points) = match publisher.payout {
                Payout::Fixed { cents } => ("fixed", Some(cents), None),
                Payout::Percent { basis_points } => ("percent", None, Some(basis_points)),
            };
            with_tx!(tx, tx => {
                sqlx::query(sql)
                    .bind(&publisher.name)
                    .bind(publisher.status.as_str())
                    .bind(kind)
                    .bind(cents)
                    .bind(basis_points)
                    .bind(publisher.conversion_buffer_seconds)
                    .bind(publisher.pay_duplicates)
                    .bind(publisher.updated_at)
                    .bind(org)
                    .bind(publisher.id)
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

    fn payout(json: serde_json::Value) -> Result<Payout, Invalid> {
        let mut invalid = Invalid::default();
        let payout = payout_field(serde_json::from_value(json).unwrap(), &mut invalid);
        invalid.into_result().map(|()| payout)
    }

    #[test]
    fn payouts_are_fixed_cents_or_a_percent_with_two_decimals_at_most() {
        assert_eq!(
            payout(serde_json::json!({"kind": "fixed", "cents": 1500})).unwrap(),
            Payout::Fixed { cents: 1500 }
        );
        assert_eq!(
            payout(serde_json::json!({"kind": "percent", "percent": 62.5})).unwrap(),
            Payout::Percent { basis_points: 6250 }
        );
        for bad in [
            serde_json::json!({"kind": "fixed", "cents": -1}),
            serde_json::json!({"kind": "fixed", "percent": 10}),
            serde_json::json!({"kind": "percent", "percent": 100.5}),
            serde_json::json!({"kind": "percent", "percent": 12.345}),
            serde_json::json!({"kind": "bonus", "cents": 1}),
        ] {
            assert!(payout(bad.clone()).is_err(), "{bad} passed");
        }
    }

    #[test]
    fn a_percent_payout_shows_as_a_percent() {
        let json = serde_json::to_value(Payout::Percent { basis_points: 6250 }).unwrap();
        assert_eq!(json, serde_json::json!({"kind": "percent", "percent": 62.5}));
    }
}
