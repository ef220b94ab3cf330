//! Buyers: the companies that pay for calls. A buyer's targets (its destinations)
//! arrive with the targets resource.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use uuid::Uuid;

use super::{
    Invalid, NetworkError, Status, double_option,
    history::{self, Action, Change, insert_change},
};
use crate::{
    accounts::{OrgId, audit::By, normalize_email},
    db::{Db, with_pool},
    time::rfc3339,
};

const KIND: &str = "buyer";
const MAX_NAME: usize = 100;
const MAX_CONTACT: usize = 200;

/// A buyer as the API answers it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Buyer {
    pub id: Uuid,
    pub name: String,
    pub status: Status,
    pub contact: Contact,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// A `POST` (all of it) or `PATCH` (any part) body.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Input {
    pub name: Option<String>,
    pub status: Option<String>,
    pub contact: Option<ContactInput>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    #[serde(default, deserialize_with = "double_option")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    pub phone: Option<Option<String>>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    name: String,
    status: String,
    contact_name: Option<String>,
    contact_email: Option<String>,
    contact_phone: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<Row> for Buyer {
    fn from(row: Row) -> Self {
        Self {
            id: row.id,
            name: row.name,
            // The column's CHECK admits only these two.
            status: Status::parse(&row.status).unwrap_or(Status::Paused),
            contact: Contact {
                name: row.contact_name,
                email: row.contact_email,
                phone: row.contact_phone,
            },
            created_at: rfc3339(row.created_at),
            updated_at: rfc3339(row.updated_at),
        }
    }
}

/// `input` applied to `current` (or to an empty buyer), checked field by field.
fn apply(current: Option<&Buyer>, input: Input) -> Result<(String, Status, Contact), Invalid> {
    let mut invalid = Invalid::default();
    let name = match input.name.map(|name| name.trim().to_owned()) {
        Some(name) if name.is_empty() => {
            invalid.add("name", "must not be empty");
            String::new()
        }
        Some(name) if name.chars().count() > MAX_NAME => {
            invalid.add("name", format!("must be at most {MAX_NAME} characters"));
            String::new()
        }
        Some(name) => name,
        None => match current {
            Some(buyer) => buyer.name.clone(),
            None => {
                invalid.add("name", "is required");
                String::new()
            }
        },
    };
    let status = match input.status.as_deref() {
        Some(text) => Status::parse(text).unwrap_or_else(|| {
            invalid.add("status", "must be active or paused");
            Status::Active
        }),
        None => current.map_or(Status::Active, |buyer| buyer.status),
    };
    let mut contact = current.map(|buyer| buyer.contact.clone()).unwrap_or_default();
    if let Some(change) = input.contact {
        let mut text =
            |field: &'static str, value: Option<Option<String>>, slot: &mut Option<String>| {
                if let Some(value) = value {
                    let value = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
                    if value.as_ref().is_some_and(|v| v.chars().count() > MAX_CONTACT) {
                        invalid.add(field, format!("must be at most {MAX_CONTACT} characters"));
                    }
                    *slot = value;
                }
            };
        text("contact.name", change.name, &mut contact.name);
        text("contact.phone", change.phone, &mut contact.phone);
        text("contact.email", change.email, &mut contact.email);
    }
    if let Some(email) = &contact.email {
        match normalize_email(email) {
            Ok(normalized) => contact.email = Some(normalized),
            Err(_) => invalid.add("contact.email", "is not an email address"),
        }
    }
    invalid.into_result()?;
    Ok((name, status, contact))
}

fn snapshot(buyer: &Buyer) -> Value {
    serde_json::to_value(buyer).expect("a buyer serialises")
}

pub async fn create(db: &Db, org: OrgId, input: Input, by: By) -> Result<Buyer, NetworkError> {
    let (name, status, contact) = apply(None, input)?;
    let now = Utc::now();
    let buyer = Buyer {
        id: Uuid::now_v7(),
        name,
        status,
        contact,
        created_at: rfc3339(now),
        updated_at: rfc3339(now),
    };
    let after = snapshot(&buyer);
    let change = Change {
        org,
        kind: KIND,
        object: buyer.id,
        by,
        action: Action::Created,
        before: None,
        after: Some(&after),
    };
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "INSERT INTO buyers \
             (id, organization_id, name, status, contact_name, contact_email, contact_phone, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
        )
        .bind(buyer.id)
        .bind(org)
        .bind(&buyer.name)
        .bind(buyer.status.as_str())
        .bind(&buyer.contact.name)
        .bind(&buyer.contact.email)
        .bind(&buyer.contact.phone)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        insert_change!(tx, &change)?;
        tx.commit().await
    })?;
    Ok(buyer)
}

pub async fn get(db: &Db, org: OrgId, id: Uuid) -> Result<Buyer, NetworkError> {
    let row: Option<Row> = with_pool!(db, pool => {
        sqlx::query_as("SELECT * FROM buyers WHERE organization_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .fetch_optional(pool)
            .await
    })?;
    row.map(Buyer::from).ok_or(NetworkError::NotFound)
}

/// Filters of the list: `name` matches a part of the name, any case.
#[derive(Debug, Default)]
pub struct Filter {
    pub name: Option<String>,
    pub status: Option<Status>,
}

/// Up to `limit` buyers after the cursor `after`, oldest first (ids are UUIDv7).
pub async fn list(
    db: &Db,
    org: OrgId,
    filter: &Filter,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<Buyer>, NetworkError> {
    let pattern =
        filter.name.as_ref().map(|name| format!("%{}%", escape_like(&name.to_lowercase())));
    let rows: Vec<Row> = with_pool!(db, pool => {
        sqlx::query_as(
            "SELECT * FROM buyers WHERE organization_id = $1 \
             AND ($2 IS NULL OR id > $2) \
             AND ($3 IS NULL OR lower(name) LIKE $3 ESCAPE '\\') \
             AND ($4 IS NULL OR status = $4) \
             ORDER BY id LIMIT $5",
        )
        .bind(org)
        .bind(after)
        .bind(&pattern)
        .bind(filter.status.map(Status::as_str))
        .bind(limit)
        .fetch_all(pool)
        .await
    })?;
    Ok(rows.into_iter().map(Buyer::from).collect())
}

/// `%`, `_` and `\` in a search are literal characters, not patterns.
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

pub async fn update(
    db: &Db,
    org: OrgId,
    id: Uuid,
    input: Input,
    by: By,
) -> Result<Buyer, NetworkError> {
    let current = get(db, org, id).await?;
    let (name, status, contact) = apply(Some(&current), input)?;
    let now = Utc::now();
    let buyer = Buyer { name, status, contact, updated_at: rfc3339(now), ..current.clone() };
    let (before, after) = (snapshot(&current), snapshot(&buyer));
    let change = Change {
        org,
        kind: KIND,
        object: id,
        by,
        action: Action::Updated,
        before: Some(&before),
        after: Some(&after),
    };
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE buyers SET name = $1, status = $2, contact_name = $3, contact_email = $4, \
             contact_phone = $5, updated_at = $6 WHERE organization_id = $7 AND id = $8",
        )
        .bind(&buyer.name)
        .bind(buyer.status.as_str())
        .bind(&buyer.contact.name)
        .bind(&buyer.contact.email)
        .bind(&buyer.contact.phone)
        .bind(now)
        .bind(org)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Err(NetworkError::NotFound);
        }
        insert_change!(tx, &change)?;
        tx.commit().await
    })?;
    Ok(buyer)
}

pub async fn delete(db: &Db, org: OrgId, id: Uuid, by: By) -> Result<(), NetworkError> {
    let current = get(db, org, id).await?;
    let before = snapshot(&current);
    let change = Change {
        org,
        kind: KIND,
        object: id,
        by,
        action: Action::Deleted,
        before: Some(&before),
        after: None,
    };
    with_pool!(db, pool => {
        let mut tx = pool.begin().await?;
        let deleted = sqlx::query("DELETE FROM buyers WHERE organization_id = $1 AND id = $2")
            .bind(org)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Err(NetworkError::NotFound);
        }
        insert_change!(tx, &change)?;
        tx.commit().await
    })?;
    Ok(())
}

/// The buyer's changes, newest first; only for a buyer that exists.
pub async fn history(db: &Db, org: OrgId, id: Uuid) -> Result<Vec<history::Entry>, NetworkError> {
    get(db, org, id).await?;
    Ok(history::of(db, org, KIND, id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(json: serde_json::Value) -> Input {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_new_buyer_needs_a_name_and_gets_every_problem_at_once() {
        let Err(invalid) = apply(
            None,
            input(serde_json::json!({"status": "sleeping", "contact": {"email": "nope"}})),
        ) else {
            panic!("accepted")
        };
        assert_eq!(
            invalid.0.keys().copied().collect::<Vec<_>>(),
            ["contact.email", "name", "status"]
        );
    }

    #[test]
    fn a_patch_keeps_what_it_does_not_name_and_null_clears() {
        let (name, status, contact) = apply(
            None,
            input(serde_json::json!({"name": " Acme Insurance ", "contact": {"email": "Buy@Acme.example", "phone": "+1 555"}})),
        )
        .unwrap();
        assert_eq!((name.as_str(), status), ("Acme Insurance", Status::Active));
        assert_eq!(contact.email.as_deref(), Some("buy@acme.example"));
        let buyer = Buyer {
            id: Uuid::now_v7(),
            name,
            status,
            contact,
            created_at: String::new(),
            updated_at: String::new(),
        };
        let (name, status, contact) = apply(
            Some(&buyer),
            input(serde_json::json!({"status": "paused", "contact": {"phone": null}})),
        )
        .unwrap();
        assert_eq!((name.as_str(), status), ("Acme Insurance", Status::Paused));
        assert_eq!(contact.phone, None);
        assert_eq!(contact.email.as_deref(), Some("buy@acme.example"));
    }

    #[test]
    fn searches_treat_pattern_characters_literally() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
    }
}
