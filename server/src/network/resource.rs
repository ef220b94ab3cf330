//! What every configuration object shares: its own table with `organization_id` and a
//! UUIDv7 `id`; reading, listing (cursor, name and status filters), deleting and its
//! history work the same for all of them and live here once. Writing differs per
//! object (its columns), so each implements [`Resource::save`].
//!
//! Some values are write-only below admin: the headers a target's pings and a
//! webhook's deliveries carry hold buyers' and receivers' API keys. Roles below admin
//! read them as [`MASK`] (in the object, its answers and its history: [`mask`]), and an
//! update that sends the mask back keeps the stored value.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use sqlx::{FromRow, postgres::PgRow, sqlite::SqliteRow};
use uuid::Uuid;

use super::{
    Invalid, NetworkError, Status,
    history::{self, Action, Change},
};
use crate::{
    accounts::{OrgId, Permission, Role, audit::By},
    db::{Db, Tx, with_pool, with_tx},
};

pub trait Resource:
    Serialize + schemars::JsonSchema + Clone + Send + Sync + Sized + 'static
{
    /// The name of the kind in the history (`buyer`).
    const KIND: &'static str;
    /// Its table; a constant of ours, never input.
    const TABLE: &'static str;
    /// The column `?name=` searches (a part of it, any case).
    const SEARCH_COLUMN: &'static str = "name";
    type Row: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin;
    /// A `POST` (complete) or `PATCH` (partial) body.
    type Input: DeserializeOwned + schemars::JsonSchema + Send;

    fn id(&self) -> Uuid;
    fn from_row(row: Self::Row) -> Self;
    /// `input` applied to `current` (`None` when creating), as the object to store, or
    /// every problem with it.
    fn apply(current: Option<&Self>, input: Self::Input) -> Result<Self, Invalid>;
    /// Objects that point at this one, as (table, column, what they are called); while
    /// any exists, deleting answers [`NetworkError::InUse`].
    const USED_BY: &'static [(&'static str, &'static str, &'static str)] = &[];
    /// The field a unique index guards, and what to say when a write collides with it.
    const UNIQUE: Option<(&'static str, &'static str)> = None;
    /// Whether that index spans every organization: then a collision is a 409 that does
    /// not say whose the value is.
    const UNIQUE_ON_PLATFORM: bool = false;

    /// A value shown only in the answer to the request that made it (a webhook's signing
    /// secret), as (field, value); never in the object's JSON, so never in its history.
    fn shown_once(&self) -> Option<(&'static str, String)> {
        None
    }

    /// Where the object's JSON holds header values only admins may read: a JSON pointer
    /// to a map of header name → value (absent in some objects, e.g. a static target's).
    const WRITE_ONLY_HEADERS: Option<&'static str> = None;

    /// The headers at [`Resource::WRITE_ONLY_HEADERS`], to put back stored values an
    /// update sends masked.
    fn write_only_headers_mut(&mut self) -> Option<&mut BTreeMap<String, String>> {
        None
    }

    /// Checks what `apply` cannot see: ids of other objects must name objects of `org`.
    fn check_references<'a>(
        _db: &'a Db,
        _org: OrgId,
        _object: &'a Self,
    ) -> BoxFuture<'a, Result<(), NetworkError>> {
        Box::pin(async { Ok(()) })
    }

    /// Writes the object: an `INSERT` when `new`, else an `UPDATE` scoped to `org`.
    /// Answers the rows written.
    fn save<'a>(
        tx: &'a mut Tx,
        org: OrgId,
        object: &'a Self,
        new: bool,
    ) -> BoxFuture<'a, Result<u64, sqlx::Error>>;
}

/// What roles below admin read instead of a write-only value.
pub const MASK: &str = "••••";

/// Whether `role` reads write-only values as they are.
pub fn reveals_secrets(role: Role) -> bool {
    role.allows(Permission::Administer)
}

/// `json` — an object of kind `R` as answered, or a history entry's before or after —
/// with its write-only values masked.
pub fn mask<R: Resource>(json: &mut Value) {
    if let Some(pointer) = R::WRITE_ONLY_HEADERS
        && let Some(Value::Object(headers)) = json.pointer_mut(pointer)
    {
        for value in headers.values_mut() {
            *value = Value::String(MASK.to_owned());
        }
    }
}

/// `object`'s JSON as `role` may read it.
pub fn shown<R: Resource>(object: &R, role: Role) -> Value {
    let mut shown = json(object);
    if !reveals_secrets(role) {
        mask::<R>(&mut shown);
    }
    shown
}

/// Puts the stored value back wherever `object` (as an update made it) holds the mask:
/// the writer read the object masked and sent it back. A mask with nothing stored
/// under its name is refused, never stored.
fn keep_masked<R: Resource>(current: Option<&R>, object: &mut R) -> Result<(), Invalid> {
    let Some(pointer) = R::WRITE_ONLY_HEADERS else { return Ok(()) };
    let mut current = current.cloned();
    let stored = current.as_mut().and_then(R::write_only_headers_mut);
    let Some(headers) = object.write_only_headers_mut() else { return Ok(()) };
    let mut invalid = Invalid::default();
    for (name, value) in headers.iter_mut().filter(|(_, value)| value.as_str() == MASK) {
        match stored.as_ref().and_then(|stored| stored.get(name)) {
            Some(kept) => value.clone_from(kept),
            None => {
                let field = pointer.trim_start_matches('/').replace('/', ".");
                invalid.add(field, format!("{name} is masked: send its value"));
            }
        }
    }
    invalid.into_result()
}

/// Filters of a list: `name` matches a part of the name, any case.
#[derive(Debug, Default)]
pub struct Filter {
    pub name: Option<String>,
    pub status: Option<Status>,
}

fn json(object: &impl Serialize) -> Value {
    serde_json::to_value(object).expect("configuration objects serialise")
}

/// A new object as its creator is answered: its JSON, and what it shows once.
pub fn created_json<R: Resource>(object: &R) -> Value {
    let mut answer = json(object);
    if let (Some((field, value)), Value::Object(fields)) = (object.shown_once(), &mut answer) {
        fields.insert(field.to_owned(), Value::String(value));
    }
    answer
}

/// A unique-index collision as the field error it is, when `R` declares one.
fn collision<R: Resource>(error: sqlx::Error) -> NetworkError {
    match (&error, R::UNIQUE) {
        (sqlx::Error::Database(database), Some((field, message)))
            if database.is_unique_violation() =>
        {
            let mut invalid = Invalid::default();
            invalid.add(field, message);
            if R::UNIQUE_ON_PLATFORM {
                NetworkError::Taken(invalid)
            } else {
                NetworkError::Invalid(invalid)
            }
        }
        _ => NetworkError::Database(error),
    }
}

pub async fn create<R: Resource>(
    db: &Db,
    org: OrgId,
    input: R::Input,
    by: By,
) -> Result<R, NetworkError> {
    let mut object = R::apply(None, input)?;
    keep_masked(None, &mut object)?;
    R::check_references(db, org, &object).await?;
    let after = json(&object);
    let change = Change {
        org,
        kind: R::KIND,
        object: object.id(),
        by,
        action: Action::Created,
        before: None,
        after: Some(&after),
    };
    let mut tx = db.begin().await?;
    R::save(&mut tx, org, &object, true).await.map_err(collision::<R>)?;
    history::record(&mut tx, &change).await?;
    tx.commit().await?;
    Ok(object)
}

/// Stores several new objects, already applied and checked, in one transaction: all of
/// them or none.
pub async fn create_all<R: Resource>(
    db: &Db,
    org: OrgId,
    objects: &[R],
    by: By,
) -> Result<(), NetworkError> {
    let mut tx = db.begin().await?;
    for object in objects {
        let after = json(object);
        let change = Change {
            org,
            kind: R::KIND,
            object: object.id(),
            by,
            action: Action::Created,
            before: None,
            after: Some(&after),
        };
        R::save(&mut tx, org, object, true).await.map_err(collision::<R>)?;
        history::record(&mut tx, &change).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn get<R: Resource>(db: &Db, org: OrgId, id: Uuid) -> Result<R, NetworkError> {
    let sql = format!("SELECT * FROM {} WHERE organization_id = $1 AND id = $2", R::TABLE);
    let row: Option<R::Row> = with_pool!(db, pool => {
        sqlx::query_as(&sql).bind(org).bind(id).fetch_optional(pool).await
    })?;
    row.map(R::from_row).ok_or(NetworkError::NotFound)
}

/// Up to `limit` objects after the cursor `after`, oldest first (ids are UUIDv7).
pub async fn list<R: Resource>(
    db: &Db,
    org: OrgId,
    filter: &Filter,
    after: Option<Uuid>,
    limit: i64,
) -> Result<Vec<R>, NetworkError> {
    let pattern =
        filter.name.as_ref().map(|name| format!("%{}%", escape_like(&name.to_lowercase())));
    let sql = format!(
        "SELECT * FROM {} WHERE organization_id = $1 \
         AND ($2 IS NULL OR id > $2) \
         AND ($3 IS NULL OR lower({}) LIKE $3 ESCAPE '\\') \
         AND ($4 IS NULL OR status = $4) \
         ORDER BY id LIMIT $5",
        R::TABLE,
        R::SEARCH_COLUMN
    );
    let rows: Vec<R::Row> = with_pool!(db, pool => {
        sqlx::query_as(&sql)
            .bind(org)
            .bind(after)
            .bind(&pattern)
            .bind(filter.status.map(Status::as_str))
            .bind(limit)
            .fetch_all(pool)
            .await
    })?;
    Ok(rows.into_iter().map(R::from_row).collect())
}

/// `%`, `_` and `\` in a search are literal characters, not patterns.
fn escape_like(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

pub async fn update<R: Resource>(
    db: &Db,
    org: OrgId,
    id: Uuid,
    input: R::Input,
    by: By,
) -> Result<R, NetworkError> {
    let current: R = get(db, org, id).await?;
    let mut object = R::apply(Some(&current), input)?;
    keep_masked(Some(&current), &mut object)?;
    R::check_references(db, org, &object).await?;
    let (before, after) = (json(&current), json(&object));
    let change = Change {
        org,
        kind: R::KIND,
        object: id,
        by,
        action: Action::Updated,
        before: Some(&before),
        after: Some(&after),
    };
    let mut tx = db.begin().await?;
    if R::save(&mut tx, org, &object, false).await.map_err(collision::<R>)? == 0 {
        return Err(NetworkError::NotFound);
    }
    history::record(&mut tx, &change).await?;
    tx.commit().await?;
    Ok(object)
}

pub async fn delete<R: Resource>(
    db: &Db,
    org: OrgId,
    id: Uuid,
    by: By,
) -> Result<(), NetworkError> {
    let current: R = get(db, org, id).await?;
    let before = json(&current);
    let change = Change {
        org,
        kind: R::KIND,
        object: id,
        by,
        action: Action::Deleted,
        before: Some(&before),
        after: None,
    };
    let sql = format!("DELETE FROM {} WHERE organization_id = $1 AND id = $2", R::TABLE);
    let mut tx = db.begin().await?;
    // Counted inside the transaction that deletes, so nothing can start pointing here
    // in between unnoticed: the foreign keys refuse that, and this names what remains.
    for (table, column, what) in R::USED_BY {
        let count_sql =
            format!("SELECT count(*) FROM {table} WHERE organization_id = $1 AND {column} = $2");
        let count: i64 = with_tx!(&mut tx, tx => {
            sqlx::query_scalar(&count_sql).bind(org).bind(id).fetch_one(&mut **tx).await?
        });
        if count > 0 {
            return Err(NetworkError::InUse(format!("{count} {what} still use it")));
        }
    }
    let deleted = with_tx!(&mut tx, tx => {
        sqlx::query(&sql).bind(org).bind(id).execute(&mut **tx).await?.rows_affected()
    });
    if deleted == 0 {
        return Err(NetworkError::NotFound);
    }
    history::record(&mut tx, &change).await?;
    tx.commit().await?;
    Ok(())
}

/// The object's changes, newest first; only for an object that exists.
pub async fn history<R: Resource>(
    db: &Db,
    org: OrgId,
    id: Uuid,
) -> Result<Vec<history::Entry>, NetworkError> {
    get::<R>(db, org, id).await?;
    Ok(history::of(db, org, R::KIND, id).await?)
}

#[cfg(test)]
mod tests {
    use super::escape_like;

    #[test]
    fn searches_treat_pattern_characters_literally() {
        assert_eq!(escape_like("50%_off\\"), "50\\%\\_off\\\\");
    }
}
