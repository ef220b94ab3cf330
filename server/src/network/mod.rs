//! The configuration a network lives in: campaigns, publishers, buyers, targets,
//! numbers and trunks (built one resource at a time), and the history of its changes.
//!
//! Every function takes the caller's [`OrgId`](crate::accounts::OrgId) and puts it in the
//! query, so another organization's object is simply not found. Every change writes a
//! [`history`] row in the same transaction.

pub mod blocked_callers;
pub mod buyers;
pub mod campaigns;
pub mod destination;
pub mod dni_pools;
pub mod history;
pub mod import;
pub mod numbers;
pub mod publishers;
pub mod resource;
pub mod ring_tree;
pub mod targets;
pub mod template;
pub mod trunks;

use std::collections::BTreeMap;

/// Input that breaks rules: field → message, all of them at once.
#[derive(Debug, Default, thiserror::Error)]
#[error("invalid input")]
pub struct Invalid(pub BTreeMap<String, String>);

impl Invalid {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| message.into());
    }

    /// `Err(self)` when anything was added.
    pub fn into_result(self) -> Result<(), Invalid> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("not found")]
    NotFound,
    /// Deleting it would leave others pointing at nothing.
    #[error("in use: {0}")]
    InUse(String),
    /// A value only one organization on the platform may hold (a phone number) is held
    /// already; which organization holds it is never said.
    #[error("taken")]
    Taken(Invalid),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// A configuration object's on/off switch.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Active,
    Paused,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "active" => Some(Self::Active),
            "paused" => Some(Self::Paused),
            _ => None,
        }
    }
}

const MAX_NAME: usize = 100;

/// The name after `input`: trimmed, 1 to 100 characters; required when creating.
pub fn name_field(current: Option<&str>, input: Option<String>, invalid: &mut Invalid) -> String {
    match input.map(|name| name.trim().to_owned()) {
        Some(name) if name.is_empty() => invalid.add("name", "must not be empty"),
        Some(name) if name.chars().count() > MAX_NAME => {
            invalid.add("name", format!("must be at most {MAX_NAME} characters"))
        }
        Some(name) => return name,
        None => match current {
            Some(name) => return name.to_owned(),
            None => invalid.add("name", "is required"),
        },
    }
    String::new()
}

/// The status after `input`; `active` when creating without one.
pub fn status_field(current: Option<Status>, input: Option<&str>, invalid: &mut Invalid) -> Status {
    match input {
        Some(text) => Status::parse(text).unwrap_or_else(|| {
            invalid.add("status", "must be active or paused");
            Status::Active
        }),
        None => current.unwrap_or(Status::Active),
    }
}

/// A `PATCH` field that may be cleared: absent keeps `current`, `null` clears, a value
/// replaces.
pub fn patched<T>(input: Option<Option<T>>, current: Option<T>) -> Option<T> {
    match input {
        Some(value) => value,
        None => current,
    }
}

/// An IANA time zone in its canonical spelling; `field` gets the error otherwise.
pub fn time_zone(field: &str, text: &str, invalid: &mut Invalid) -> String {
    match text.trim().parse::<chrono_tz::Tz>() {
        Ok(tz) => tz.name().to_owned(),
        Err(_) => {
            invalid.add(field, "is not an IANA time zone, such as America/New_York");
            String::new()
        }
    }
}

/// A DNS name: dot-separated labels of letters, digits and inner hyphens, at most 253
/// characters. (An IPv4 address is one too; callers that mind check for it.)
pub fn is_dns_name(host: &str) -> bool {
    host.len() <= 253
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// An object's id and times after a write: a new id and creation time for a new
/// object, its own for an existing one, and `updated_at` now. Times are cut to the
/// microsecond, as PostgreSQL keeps them, so what is answered when an object is saved
/// is exactly what is read back later.
pub struct Stamp {
    pub id: uuid::Uuid,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

impl Stamp {
    /// `current`: the existing object's id and creation time, if it exists.
    pub fn of(current: Option<(uuid::Uuid, chrono::DateTime<chrono::Utc>)>) -> Self {
        let now = chrono::DateTime::from_timestamp_micros(chrono::Utc::now().timestamp_micros())
            .expect("a time in range");
        let (id, created_at) = current.unwrap_or_else(|| (uuid::Uuid::now_v7(), now));
        Self { id, created_at, updated_at: now }
    }
}

/// `table`'s row `id` must be in `org`; otherwise `field` gets "is not a `what` of this
/// organization".
pub async fn check_own(
    invalid: &mut Invalid,
    db: &crate::db::Db,
    org: crate::accounts::OrgId,
    (field, table, what): (&'static str, &str, &str),
    id: uuid::Uuid,
) -> Result<(), sqlx::Error> {
    if !exists(db, table, org, id).await? {
        invalid.add(field, format!("is not a {what} of this organization"));
    }
    Ok(())
}

/// Whether `table` has a row `id` in `org`.
pub async fn exists(
    db: &crate::db::Db,
    table: &str,
    org: crate::accounts::OrgId,
    id: uuid::Uuid,
) -> Result<bool, sqlx::Error> {
    let sql = format!("SELECT count(*) FROM {table} WHERE organization_id = $1 AND id = $2");
    let count: i64 = crate::db::with_pool!(db, pool => {
        sqlx::query_scalar(&sql).bind(org).bind(id).fetch_one(pool).await
    })?;
    Ok(count > 0)
}

/// For `PATCH` bodies: absent (`None`), `null` (`Some(None)`), or a value.
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: serde::Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    serde::Deserialize::deserialize(deserializer).map(Some)
}
