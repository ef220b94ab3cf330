//! DNI pools: numbers a campaign hands to its website visitors in turn, each held by
//! one visitor for the pool's lease time.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Invalid, NetworkError, Stamp, Status, check_own, name_field, resource::Resource, status_field,
};
use crate::{
    accounts::OrgId,
    db::{Db, Tx, with_tx},
};

const DEFAULT_LEASE_MINUTES: i64 = 30;
const MAX_LEASE_MINUTES: i64 = 1_440;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct DniPool {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub name: String,
    pub status: Status,
    pub lease_minutes: i64,
    #[serde(serialize_with = "crate::time::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize")]
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "DniPoolInput")]
pub struct Input {
    pub campaign_id: Option<Uuid>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub lease_minutes: Option<i64>,
}

#[derive(sqlx::FromRow)]
pub struct Row {
    id: Uuid,
    campaign_id: Uuid,
    name: String,
    status: String,
    lease_minutes: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl Resource for DniPool {
    const KIND: &'static str = "dni_pool";
    const TABLE: &'static str = "dni_pools";
    const USED_BY: &'static [(&'static str, &'static str, &'static str)] =
        &[("numbers", "pool_id", "numbers")];
    type Row = Row;
    type Input = Input;

    fn id(&self) -> Uuid {
        self.id
    }

    fn from_row(row: Row) -> Self {
        Self {
            id: row.id,
            campaign_id: row.campaign_id,
            name: row.name,
            status: Status::parse(&row.status).unwrap_or(Status::Paused),
            lease_minutes: row.lease_minutes,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    fn apply(current: Option<&Self>, input: Input) -> Result<Self, Invalid> {
        let mut invalid = Invalid::default();
        let name = name_field(current.map(|p| p.name.as_str()), input.name, &mut invalid);
        let status = status_field(current.map(|p| p.status), input.status.as_deref(), &mut invalid);
        let campaign_id = input.campaign_id.or(current.map(|p| p.campaign_id));
        if campaign_id.is_none() {
            invalid.add("campaign_id", "is required");
        }
        let lease_minutes = input
            .lease_minutes
            .or(current.map(|p| p.lease_minutes))
            .unwrap_or(DEFAULT_LEASE_MINUTES);
        if !(1..=MAX_LEASE_MINUTES).contains(&lease_minutes) {
            invalid.add("lease_minutes", format!("must be between 1 and {MAX_LEASE_MINUTES}"));
        }
        match campaign_id {
            Some(campaign_id) if invalid.0.is_empty() => {
                let Stamp { id, created_at, updated_at } =
                    Stamp::of(current.map(|p| (p.id, p.created_at)));
                Ok(Self { id, campaign_id, name, status, lease_minutes, created_at, updated_at })
            }
            _ => Err(invalid),
        }
    }

    fn check_references<'a>(
        db: &'a Db,
        org: OrgId,
        pool: &'a Self,
    ) -> BoxFuture<'a, Result<(), NetworkError>> {
        Box::pin(async move {
            let mut invalid = Invalid::default();
            check_own(
                &mut invalid,
                db,
                org,
                ("campaign_id", "campaigns", "campaign"),
                pool.campaign_id,
            )
            .await?;
            Ok(invalid.into_result()?)
        })
    }

    fn save<'a>(
        tx: &'a mut Tx,
        org: OrgId,
        pool: &'a Self,
        new: bool,
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
        Box::pin(async move {
            let sql = if new {
                "INSERT INTO dni_pools (campaign_id, name, status, lease_minutes, updated_at, organization_id, id, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $5)"
            } else {
                "UPDATE dni_pools SET campaign_id = $1, name = $2, status = $3, lease_minutes = $4, updated_at = $5 \
                 WHERE organization_id = $6 AND id = $7"
            };
            with_tx!(tx, tx => {
                sqlx::query(sql)
                    .bind(pool.campaign_id)
                    .bind(&pool.name)
                    .bind(pool.status.as_str())
                    .bind(pool.lease_minutes)
                    .bind(pool.updated_at)
                    .bind(org)
                    .bind(pool.id)
                    .execute(&mut **tx)
                    .await
                    .map(|done| done.rows_affected())
            })
        })
    }
}
