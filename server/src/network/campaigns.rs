//! Campaigns: the offer calls are about. Each has its IANA time zone (schedules and
//! reports are computed in it), an overflow number, a duplicate-caller window, a floor
//! under which bids are dropped, and the domains its DNI snippet may run on.

use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Invalid, Stamp, Status, double_option, is_dns_name, name_field, resource::Resource,
    status_field, time_zone,
};
use crate::{
    accounts::{OrgId, tokens},
    db::{Tx, with_tx},
    e164::E164,
};

const MAX_WINDOW_HOURS: i64 = 8_760;
const MAX_DOMAINS: usize = 50;
const MAX_PARAMS: usize = 20;
const DNI_KEY_PREFIX: &str = "cmp_";
const DEFAULT_BUFFER_SECONDS: i64 = 60;
const MAX_BUFFER_SECONDS: i64 = 86_400;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Campaign {
    pub id: Uuid,
    pub name: String,
    pub status: Status,
    pub time_zone: String,
    pub default_number: Option<E164>,
    pub duplicate_window_hours: i64,
    pub floor_cents: i64,
    pub repeat_caller_same_target: bool,
    /// Callers who withhold their number get 403 instead of being routed.
    pub reject_anonymous: bool,
    /// A duplicate (same caller within the window) gets 486 instead of being routed.
    pub reject_duplicates: bool,
    /// Talk time a call needs to pay its publisher, unless the publisher sets its own.
    pub conversion_buffer_seconds: i64,
    pub dni_allowed_domains: Vec<String>,
    /// Query parameters the DNI snippet captures besides the standard ones (utm_*,
    /// gclid, gbraid, wbraid, fbclid, msclkid).
    pub dni_params: Vec<String>,
    pub dni_public_key: String,
    #[serde(serialize_with = "crate::time::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::time::serialize")]
    pub updated_at: DateTime<Utc>,
}

/// `dni_public_key` is not here: it is made once, never written.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "CampaignInput")]
pub struct Input {
    pub name: Option<String>,
    pub status: Option<String>,
    pub time_zone: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    pub default_number: Option<Option<String>>,
    pub duplicate_window_hours: Option<i64>,
    pub floor_cents: Option<i64>,
    pub repeat_caller_same_target: Option<bool>,
    pub reject_anonymous: Option<bool>,
    pub reject_duplicates: Option<bool>,
    pub conversion_buffer_seconds: Option<i64>,
    pub dni_allowed_domains: Option<Vec<String>>,
    pub dni_params: Option<Vec<String>>,
}

#[derive(sqlx::FromRow)]
pub struct Row {
    id: Uuid,
    name: String,
    status: String,
    time_zone: String,
    default_number: Option<String>,
    duplicate_window_hours: i64,
    floor_cents: i64,
    repeat_caller_same_target: bool,
    reject_anonymous: bool,
    reject_duplicates: bool,
    conversion_buffer_seconds: i64,
    dni_allowed_domains: sqlx::types::Json<Vec<String>>,
    dni_params: sqlx::types::Json<Vec<String>>,
    dni_public_key: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

/// A host name as a browser reports it: lower case, dot-separated labels of letters,
/// digits and hyphens.
fn host_name(text: &str) -> Option<String> {
    let host = text.trim().trim_end_matches('.').to_lowercase();
    (host.contains('.') && is_dns_name(&host)).then_some(host)
}

impl Resource for Campaign {
    const KIND: &'static str = "campaign";
    const TABLE: &'static str = "campaigns";
    const USED_BY: &'static [(&'static str, &'static str, &'static str)] =
        &[("numbers", "campaign_id", "numbers"), ("dni_pools", "campaign_id", "DNI pools")];
    type Row = Row;
    type Input = Input;

    fn id(&self) -> Uuid {
        self.id
    }

    fn from_row(row: Row) -> Self {
        Self {
            id: row.id,
            name: row.name,
            status: Status::parse(&row.status).unwrap_or(Status::Paused),
            time_zone: row.time_zone,
            default_number: row.default_number.map(E164::from_stored),
            duplicate_window_hours: row.duplicate_window_hours,
            floor_cents: row.floor_cents,
            repeat_caller_same_target: row.repeat_caller_same_target,
            reject_anonymous: row.reject_anonymous,
            reject_duplicates: row.reject_duplicates,
            conversion_buffer_seconds: row.conversion_buffer_seconds,
            dni_allowed_domains: row.dni_allowed_domains.0,
            dni_params: row.dni_params.0,
            dni_public_key: row.dni_public_key,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }

    fn apply(current: Option<&Self>, input: Input) -> Result<Self, Invalid> {
        let mut invalid = Invalid::default();
        let name = name_field(current.map(|c| c.name.as_str()), input.name, &mut invalid);
        let status = status_field(current.map(|c| c.status), input.status.as_deref(), &mut invalid);
        let time_zone = match (input.time_zone, current) {
            (Some(zone), _) => time_zone("time_zone", &zone, &mut invalid),
            (None, Some(current)) => current.time_zone.clone(),
            (None, None) => {
                invalid.add("time_zone", "is required, e.g. America/New_York");
                String::new()
            }
        };
        let default_number = match input.default_number {
            Some(Some(number)) => {
                E164::parse(&number).map_err(|why| invalid.add("default_number", why)).ok()
            }
            Some(None) => None,
            None => current.and_then(|c| c.default_number.clone()),
        };
        let duplicate_window_hours =
            input.duplicate_window_hours.or(current.map(|c| c.duplicate_window_hours)).unwrap_or(0);
        if !(0..=MAX_WINDOW_HOURS).contains(&duplicate_window_hours) {
            invalid.add(
                "duplicate_window_hours",
                format!("must be between 0 (off) and {MAX_WINDOW_HOURS}"),
            );
        }
        let floor_cents = input.floor_cents.or(current.map(|c| c.floor_cents)).unwrap_or(0);
        if floor_cents < 0 {
            invalid.add("floor_cents", "must not be negative");
        }
        let repeat_caller_same_target = input
            .repeat_caller_same_target
            .or(current.map(|c| c.repeat_caller_same_target))
            .unwrap_or(false);
        let reject_anonymous =
            input.reject_anonymous.or(current.map(|c| c.reject_anonymous)).unwrap_or(false);
        let reject_duplicates =
            input.reject_duplicates.or(current.map(|c| c.reject_duplicates)).unwrap_or(false);
        let conversion_buffer_seconds = input
            .conversion_buffer_seconds
            .or(current.map(|c| c.conversion_buffer_seconds))
            .unwrap_or(DEFAULT_BUFFER_SECONDS);
        if !(0..=MAX_BUFFER_SECONDS).contains(&conversion_buffer_seconds) {
            invalid.add(
                "conversion_buffer_seconds",
                format!("must be between 0 and {MAX_BUFFER_SECONDS}"),
            );
        }
        let dni_allowed_domains = match input.dni_allowed_domains {
            Some(domains) => {
                if domains.len() > MAX_DOMAINS {
                    invalid.add(
                        "dni_allowed_domains",
                        format!("must list at most {MAX_DOMAINS} domains"),
                    );
                }
                let mut hosts = Vec::new();
                for domain in &domains {
                    match host_name(domain) {
                        Some(host) if !hosts.contains(&host) => hosts.push(host),
                        Some(_) => {}
                        None => invalid
                            .add("dni_allowed_domains", format!("{domain:?} is not a domain name")),
                    }
                }
                hosts
            }
            None => current.map(|c| c.dni_allowed_domains.clone()).unwrap_or_default(),
        };
        let dni_params = match input.dni_params {
            Some(params) => {
                let names: Vec<String> = params.iter().map(|p| p.trim().to_owned()).collect();
                if names.len() > MAX_PARAMS {
                    invalid.add("dni_params", format!("must list at most {MAX_PARAMS} parameters"));
                }
                for name in &names {
                    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_whitespace) {
                        invalid.add(
                            "dni_params",
                            format!("{name:?} is not a URL parameter name (1 to 64 characters, no spaces)"),
                        );
                    }
                }
                names
            }
            None => current.map(|c| c.dni_params.clone()).unwrap_or_default(),
        };
        invalid.into_result()?;
        let Stamp { id, created_at, updated_at } = Stamp::of(current.map(|c| (c.id, c.created_at)));
        let dni_public_key =
            current.map_or_else(|| tokens::generate(DNI_KEY_PREFIX), |c| c.dni_public_key.clone());
        Ok(Self {
            id,
            name,
            status,
            time_zone,
            default_number,
            duplicate_window_hours,
            floor_cents,
            repeat_caller_same_target,
            reject_anonymous,
            reject_duplicates,
            conversion_buffer_seconds,
            dni_allowed_domains,
            dni_params,
            dni_public_key,
            created_at,
            updated_at,
        })
    }

    fn save<'a>(
        tx: &'a mut Tx,
        org: OrgId,
        campaign: &'a Self,
        new: bool,
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>> {
        Box::pin(async move {
            let sql = if new {
                "INSERT INTO campaigns (name, status, time_zone, default_number, duplicate_window_hours, \
                 floor_cents, repeat_caller_same_target, dni_allowed_domains, updated_at, organization_id, id, \
                 dni_public_key, reject_anonymous, reject_duplicates, conversion_buffer_seconds, dni_params, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $9)"
            } else {
                "UPDATE campaigns SET name = $1, status = $2, time_zone = $3, default_number = $4, \
                 duplicate_window_hours = $5, floor_cents = $6, repeat_caller_same_target = $7, \
                 dni_allowed_domains = $8, updated_at = $9, reject_anonymous = $13, \
                 reject_duplicates = $14, conversion_buffer_seconds = $15, dni_params = $16 \
                 WHERE organization_id = $10 AND id = $11 AND dni_public_key = $12"
            };
            with_tx!(tx, tx => {
                sqlx::query(sql)
                    .bind(&campaign.name)
                    .bind(campaign.status.as_str())
                    .bind(&campaign.time_zone)
                    .bind(campaign.default_number.as_ref().map(E164::as_str))
                    .bind(campaign.duplicate_window_hours)
                    .bind(campaign.floor_cents)
                    .bind(campaign.repeat_caller_same_target)
                    .bind(sqlx::types::Json(&campaign.dni_allowed_domains))
                    .bind(campaign.updated_at)
                    .bind(org)
                    .bind(campaign.id)
                    .bind(&campaign.dni_public_key)
                    .bind(campaign.reject_anonymous)
                    .bind(campaign.reject_duplicates)
                    .bind(campaign.conversion_buffer_seconds)
                    .bind(sqlx::types::Json(&campaign.dni_params))
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

    #[test]
    fn domains_are_host_names() {
        assert_eq!(host_name(" Shop.Example.COM. ").as_deref(), Some("shop.example.com"));
        for bad in
            ["localhost", "http://shop.example", "-bad.example", "shop..example", "a b.example"]
        {
            assert_eq!(host_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_new_campaign_needs_a_name_and_a_real_time_zone() {
        let input = Input {
            time_zone: Some("Mars/Olympus".into()),
            floor_cents: Some(-1),
            ..Default::default()
        };
        let invalid = Campaign::apply(None, input).unwrap_err();
        assert_eq!(
            invalid.0.keys().map(String::as_str).collect::<Vec<_>>(),
            ["floor_cents", "name", "time_zone"]
        );
    }
}
