//! Callers an organization refuses on every campaign (403), by number. An entry can be
//! paused to let the caller through again without losing why they were blocked.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Invalid, Stamp, Status, resource::Resource, status_field};
use crate::{
    accounts::OrgId,
    db::{Tx, with_tx},
    e164::E164,
};

const MAX_REASON: usize = 200;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct BlockedCaller {
    pub id: Uuid,
    pub number: E164,
    /// Why, for people.
    pub reason: Option<String>,
    pub status: Status,
    #[serde(serialize_with = "crate::time::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "BlockedCallerInput")]
pub struct Input {
    pub number: Option<String>,
    #[serde(default, deserialize_with = "super::double_option")]
    pub reason: Option<Option<String>>,
    pub status: Option<String>,
}

#[derive(sqlx::FromRow)]
pub struct Row {
    id: Uuid,
    number: String,
    reason: Option<String>,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Resource for BlockedCaller {
    const KIND: &'static str = "blocked_caller";
    const TABLE: &'static str = "blocked_callers";
    const SEARCH_COLUMN: &'static str = "number";
    const UNIQUE: Option<(&'static str, &'static str)> = Some(("number", "is already blocked"));
    type Row = Row;
    type Input = Input;

    fn id(&self) -> Uuid {
        self.id
    }

    fn from_row(row: Row) -> Self {
        Self {
            id: row.id,
            number: E164::from_stored(row.number),
            reason: row.reason,
            status: Status::parse(&row.status).unwrap_or(Status::Paused),
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    fn apply(current: Option<&Self>, input: Input) -> Result<Self, Invalid> {
        let mut invalid = Invalid::default();
        let number = match (input.number, current) {
            (Some(text), _) => E164::parse(&text).map_err(|why| invalid.add("number", why)).ok(),
            (None, Some(current)) => Some(current.number.clone()),
            (None, None) => {
                invalid.add("number", "is required");
                None
            }
        };
        let reason = match input.reason {
            Some(reason) => reason.map(|r| r.trim().to_owned()).filter(|r| !r.is_empty()),
            None => current.and_then(|c| c.reason.clone()),
        };
        if reason.as_ref().is_some_and(|r| r.chars().count() > MAX_REASON) {
            invalid.add("reason", format!("must be at most {MAX_REASON} characters"));
        }
        let status = status_field(current.map(|c| c.status), input.status.as_deref(), &mut invalid);
        match number {
            Some(number) if invalid.0.is_empty() => {
                let Stamp { id, created_at, updated_at } =
                    Stamp::of(current.map(|c| (c.id, c.created_at)));
                Ok(Self { id, number, reason, status, created_at, updated_at })
            }
            _ => Err(invalid),
        }
    }

    fn save<'a>(
        tx: &'a mut Tx,
        org: OrgId,
        blocked: &'a Self,
        new: bool,
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
        Box::pin(async move {
            let sql = if new {
                "INSERT INTO blocked_callers (number, reason, status, updated_at, organization_id, id, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $4)"
            } else {
                "UPDATE blocked_callers SET number = $1, reason = $2, status = $3, updated_at = $4 \
                 WHERE organization_id = $5 AND id = $6"
            };
            with_tx!(tx, tx => {
                sqlx::query(sql)
                    .bind(blocked.number.as_str())
                    .bind(&blocked.reason)
                    .bind(blocked.status.as_str())
                    .bind(blocked.updated_at)
                    .bind(org)
                    .bind(blocked.id)
                    .execute(&mut **tx)
                    .await
                    .map(|done| done.rows_affected())
            })
        })
    }
}
