//! Tracking numbers: an E.164 number, sending its calls to one campaign, perhaps on
//! behalf of one publisher. A number reaches one place on the public network, so it
//! belongs to at most one organization on the whole platform: the one its calls are for.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Invalid, NetworkError, Stamp, Status, check_own, double_option, patched, resource::Resource,
    status_field,
};
use crate::{
    accounts::{
        OrgId,
        audit::{By, Event, insert_event},
    },
    db::{Db, Tx, with_pool, with_tx},
    e164::E164,
};

const MAX_PROVIDER: usize = 50;
/// A number another organization holds: whose it is stays unsaid.
pub const IN_USE: &str = "is already in use";
/// A number the caller's own organization holds already.
pub const IN_THIS_ORGANIZATION: &str = "is already in this organization";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Number {
    pub id: Uuid,
    pub number: E164,
    pub campaign_id: Uuid,
    pub publisher_id: Option<Uuid>,
    /// The DNI pool the number serves in, if any; then it is the pool's campaign's.
    pub pool_id: Option<Uuid>,
    /// Who the number was bought from, for people (`"Twilio"`, `"Bandwidth"`, …).
    pub provider: String,
    pub status: Status,
    #[serde(serialize_with = "crate::time::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "NumberInput")]
pub struct Input {
    pub number: Option<String>,
    pub campaign_id: Option<Uuid>,
    #[serde(default, deserialize_with = "double_option")]
    pub publisher_id: Option<Option<Uuid>>,
    #[serde(default, deserialize_with = "double_option")]
    pub pool_id: Option<Option<Uuid>>,
    pub provider: Option<String>,
    pub status: Option<String>,
}

#[derive(sqlx::FromRow)]
pub struct Row {
    id: Uuid,
    number: String,
    campaign_id: Uuid,
    publisher_id: Option<Uuid>,
    pool_id: Option<Uuid>,
    provider: String,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Resource for Number {
    const KIND: &'static str = "number";
    const TABLE: &'static str = "numbers";
    const SEARCH_COLUMN: &'static str = "number";
    const UNIQUE: Option<(&'static str, &'static str)> = Some(("number", IN_USE));
    const UNIQUE_ON_PLATFORM: bool = true;
    type Row = Row;
    type Input = Input;

    fn id(&self) -> Uuid {
        self.id
    }

    fn from_row(row: Row) -> Self {
        Self {
            id: row.id,
            number: E164::from_stored(row.number),
            campaign_id: row.campaign_id,
            publisher_id: row.publisher_id,
            pool_id: row.pool_id,
            provider: row.provider,
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
        let campaign_id = input.campaign_id.or(current.map(|n| n.campaign_id));
        if campaign_id.is_none() {
            invalid.add("campaign_id", "is required");
        }
        let publisher_id = patched(input.publisher_id, current.and_then(|n| n.publisher_id));
        let pool_id = patched(input.pool_id, current.and_then(|n| n.pool_id));
        let provider = input
            .provider
            .map(|p| p.trim().to_owned())
            .or(current.map(|n| n.provider.clone()))
            .unwrap_or_default();
        if provider.chars().count() > MAX_PROVIDER {
            invalid.add("provider", format!("must be at most {MAX_PROVIDER} characters"));
        }
        let status = status_field(current.map(|n| n.status), input.status.as_deref(), &mut invalid);
        match (number, campaign_id) {
            (Some(number), Some(campaign_id)) if invalid.0.is_empty() => {
                let Stamp { id, created_at, updated_at } =
                    Stamp::of(current.map(|n| (n.id, n.created_at)));
                Ok(Self {
                    id,
                    number,
                    campaign_id,
                    publisher_id,
                    pool_id,
                    provider,
                    status,
                    created_at,
                    updated_at,
                })
            }
            _ => Err(invalid),
        }
    }

    fn check_references<'a>(
        db: &'a Db,
        org: OrgId,
        number: &'a Self,
    ) -> BoxFuture<'a, Result<(), NetworkError>> {
        Box::pin(async move {
            let mut invalid = Invalid::default();
            let holder: Option<OrgId> = with_pool!(db, pool => {
                sqlx::query_scalar("SELECT organization_id FROM numbers WHERE number = $1 AND id <> $2")
                    .bind(number.number.as_str())
                    .bind(number.id)
                    .fetch_optional(pool)
                    .await
            })?;
            match holder {
                Some(holder) if holder == org => invalid.add("number", IN_THIS_ORGANIZATION),
                Some(_) => {
                    let mut taken = Invalid::default();
                    taken.add("number", IN_USE);
                    return Err(NetworkError::Taken(taken));
                }
                None => {}
            }
            check_own(
                &mut invalid,
                db,
                org,
                ("campaign_id", "campaigns", "campaign"),
                number.campaign_id,
            )
            .await?;
            if let Some(publisher) = number.publisher_id {
                check_own(
                    &mut invalid,
                    db,
                    org,
                    ("publisher_id", "publishers", "publisher"),
                    publisher,
                )
                .await?;
            }
            if let Some(pool) = number.pool_id {
                let sql =
                    "SELECT campaign_id FROM dni_pools WHERE organization_id = $1 AND id = $2";
                let campaign: Option<Uuid> = with_pool!(db, pool_conn => {
                    sqlx::query_scalar(sql).bind(org).bind(pool).fetch_optional(pool_conn).await
                })?;
                match campaign {
                    None => invalid.add("pool_id", "is not a DNI pool of this organization"),
                    Some(campaign) if campaign != number.campaign_id => {
                        invalid.add("pool_id", "belongs to another campaign than the number's")
                    }
                    Some(_) => {}
                }
            }
            Ok(invalid.into_result()?)
        })
    }

    fn save<'a>(
        tx: &'a mut Tx,
        org: OrgId,
        number: &'a Self,
        new: bool,
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
        Box::pin(async move {
            let sql = if new {
                "INSERT INTO numbers (number, campaign_id, publisher_id, pool_id, provider, status, updated_at, \
                 organization_id, id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $7)"
            } else {
                "UPDATE numbers SET number = $1, campaign_id = $2, publisher_id = $3, pool_id = $4, \
                 provider = $5, status = $6, updated_at = $7 WHERE organization_id = $8 AND id = $9"
            };
            with_tx!(tx, tx => {
                sqlx::query(sql)
                    .bind(number.number.as_str())
                    .bind(number.campaign_id)
                    .bind(number.publisher_id)
                    .bind(number.pool_id)
                    .bind(&number.provider)
                    .bind(number.status.as_str())
                    .bind(number.updated_at)
                    .bind(org)
                    .bind(number.id)
                    .execute(&mut **tx)
                    .await
                    .map(|done| done.rows_affected())
            })
        })
    }
}

/// Reports numbers the platform-wide uniqueness migration took from an organization
/// (another, older one held them too): a warning in the log and an entry in the
/// organization's audit log, once each. Runs after every migration.
pub async fn report_released(db: &Db) -> Result<(), sqlx::Error> {
    let released: Vec<(Uuid, OrgId, String, Uuid)> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT id, organization_id, number, campaign_id FROM released_numbers \
             WHERE reported_at IS NULL ORDER BY id",
        )
        .fetch_all(pool)
        .await
    })?;
    for (id, org, number, campaign_id) in released {
        tracing::warn!(
            organization_id = %org.0, %number, %campaign_id,
            "released a number another organization held first: its calls go to that organization"
        );
        let event = Event::new(
            org,
            By::operator(),
            "number.released",
            serde_json::json!({
                "number": number,
                "campaign_id": campaign_id,
                "reason": "another organization held this number first; a number belongs to one organization",
            }),
        );
        let mut tx = db.begin().await?;
        with_tx!(&mut tx, tx => {
            insert_event!(&mut **tx, &event)?;
            sqlx::query("UPDATE released_numbers SET reported_at = $1 WHERE id = $2")
                .bind(Utc::now())
                .bind(id)
                .execute(&mut **tx)
                .await?;
        });
        tx.commit().await?;
    }
    Ok(())
}
