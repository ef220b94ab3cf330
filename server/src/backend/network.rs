//! The dashboard's configuration pages: the same generic functions the REST API calls
//! (`network::resource`), chosen by [`Kind`], with the API's JSON in and out — write-only
//! values masked below admin, as the API masks them.

use bidline_app::{
    errors::AppError,
    network::{
        ChangeView, ImportAnswer, Kind, LineErrorView, ListPage, ObjectPageData, PingReport,
        RingTreeData,
    },
};
use serde_json::Value;
use uuid::Uuid;

use super::{caller, internal, member};
use crate::{
    accounts::{OrgId, Permission, Role, audit::By},
    http::AppState,
    network::{
        NetworkError, Status,
        blocked_callers::BlockedCaller,
        buyers::Buyer,
        campaigns::Campaign,
        dni_pools::DniPool,
        import::{self, ImportInput},
        numbers::Number,
        publishers::Publisher,
        resource::{self, Filter, Resource},
        ring_tree,
        targets::Target,
        trunks::Trunk,
    },
    time::rfc3339,
    webhooks::endpoint::Webhook,
};

const PAGE: i64 = 25;

/// Runs `$body` with `$R` the resource type of `$kind`.
macro_rules! with_kind {
    ($kind:expr, $R:ident => $body:expr) => {
        match $kind {
            Kind::Campaign => {
                type $R = Campaign;
                $body
            }
            Kind::Publisher => {
                type $R = Publisher;
                $body
            }
            Kind::Buyer => {
                type $R = Buyer;
                $body
            }
            Kind::Target => {
                type $R = Target;
                $body
            }
            Kind::Number => {
                type $R = Number;
                $body
            }
            Kind::DniPool => {
                type $R = DniPool;
                $body
            }
            Kind::Trunk => {
                type $R = Trunk;
                $body
            }
            Kind::BlockedCaller => {
                type $R = BlockedCaller;
                $body
            }
            Kind::Webhook => {
                type $R = Webhook;
                $body
            }
        }
    };
}

impl From<NetworkError> for AppError {
    fn from(error: NetworkError) -> Self {
        match error {
            NetworkError::Invalid(invalid) | NetworkError::Taken(invalid) => {
                AppError::Invalid(invalid.0)
            }
            NetworkError::NotFound => AppError::NotFound,
            NetworkError::InUse(why) => AppError::Conflict(why),
            NetworkError::Database(error) => internal(error),
        }
    }
}

pub(super) fn id(text: &str) -> Result<Uuid, AppError> {
    text.parse().map_err(|_| AppError::NotFound)
}

fn json(object: &impl serde::Serialize) -> Value {
    serde_json::to_value(object).expect("configuration objects serialise")
}

/// A body that is not the JSON of `T`: the one message serde gives, on no field.
fn parse<T: serde::de::DeserializeOwned>(body: &str) -> Result<T, AppError> {
    serde_json::from_str(body).map_err(|error| AppError::field("body", error.to_string()))
}

/// The member's organization, and who they are for the history, holding `permission`.
async fn scope(state: &AppState, permission: Permission) -> Result<(OrgId, By), AppError> {
    let (org, by, _) = scope_as(state, permission).await?;
    Ok((org, by))
}

/// [`scope`] with the member's role, which decides what of an object they may read.
async fn scope_as(state: &AppState, permission: Permission) -> Result<(OrgId, By, Role), AppError> {
    let caller = caller().await?;
    let member = member(state, &caller, permission).await?;
    Ok((member.org, caller.by(member.user), member.role))
}

/// A history entry's before or after, as `role` may read it.
fn shown_json<R: Resource>(json: Value, role: Role) -> Value {
    let mut json = json;
    if !resource::reveals_secrets(role) {
        resource::mask::<R>(&mut json);
    }
    json
}

pub async fn list(
    state: &AppState,
    kind: Kind,
    name: String,
    status: String,
    cursor: Option<String>,
) -> Result<ListPage, AppError> {
    let (org, _, role) = scope_as(state, Permission::Read).await?;
    let status = match status.as_str() {
        "" => None,
        text => Some(
            Status::parse(text)
                .ok_or_else(|| AppError::field("status", "must be active or paused"))?,
        ),
    };
    let name = Some(name.trim().to_owned()).filter(|name| !name.is_empty());
    let after = cursor
        .filter(|c| !c.is_empty())
        .map(|c| c.parse().map_err(|_| AppError::field("cursor", "is not a cursor")))
        .transpose()?;
    let filter = Filter { name, status };
    let items: Vec<Value> = with_kind!(kind, R => {
        let objects: Vec<R> = resource::list(&state.db, org, &filter, after, PAGE).await?;
        objects.iter().map(|object| resource::shown(object, role)).collect()
    });
    let next_cursor = (items.len() as i64 == PAGE)
        .then(|| items.last().and_then(|item| item["id"].as_str().map(str::to_owned)))
        .flatten();
    Ok(ListPage { items, next_cursor })
}

/// Every object of `kind` in the organization, oldest first.
pub async fn all(state: &AppState, kind: Kind) -> Result<Vec<Value>, AppError> {
    let (org, _, role) = scope_as(state, Permission::Read).await?;
    Ok(all_of(state, org, kind, role).await?)
}

async fn all_of(
    state: &AppState,
    org: OrgId,
    kind: Kind,
    role: Role,
) -> Result<Vec<Value>, NetworkError> {
    const BATCH: i64 = 200;
    let mut items = Vec::new();
    let mut after = None;
    loop {
        let batch: Vec<Value> = with_kind!(kind, R => {
            let objects: Vec<R> = resource::list(&state.db, org, &Filter::default(), after, BATCH).await?;
            objects.iter().map(|object| resource::shown(object, role)).collect()
        });
        let full = batch.len() as i64 == BATCH;
        after = batch.last().and_then(|item| item["id"].as_str()?.parse().ok());
        items.extend(batch);
        if !full {
            return Ok(items);
        }
    }
}

/// An object, its history, and for a campaign its ring tree and the targets to choose.
pub async fn page(state: &AppState, kind: Kind, text: String) -> Result<ObjectPageData, AppError> {
    let (org, _, role) = scope_as(state, Permission::Read).await?;
    let id = id(&text)?;
    let (object, entries) = with_kind!(kind, R => {
        let shown = |entry: crate::network::history::Entry| crate::network::history::Entry {
            before: entry.before.map(|json| sqlx::types::Json(shown_json::<R>(json.0, role))),
            after: entry.after.map(|json| sqlx::types::Json(shown_json::<R>(json.0, role))),
            ..entry
        };
        (
            resource::shown(&resource::get::<R>(&state.db, org, id).await?, role),
            resource::history::<R>(&state.db, org, id).await?.into_iter().map(shown).collect::<Vec<_>>(),
        )
    });
    let ring_tree = match kind {
        Kind::Campaign => Some(RingTreeData {
            entries: ring_tree::get(&state.db, org, id).await?.iter().map(json).collect(),
            targets: all_of(state, org, Kind::Target, role).await?,
        }),
        _ => None,
    };
    let history = entries
        .into_iter()
        .map(|entry| ChangeView {
            at: rfc3339(entry.at),
            actor: entry
                .actor_email
                .or(entry.actor_api_key.map(|key| format!("API key {key}")))
                .unwrap_or_else(|| "Bidline".to_owned()),
            action: entry.action,
            before: entry.before.map(|json| json.0),
            after: entry.after.map(|json| json.0),
        })
        .collect();
    Ok(ObjectPageData { object, history, ring_tree })
}

pub async fn save(
    state: &AppState,
    kind: Kind,
    text: Option<String>,
    body: String,
) -> Result<Value, AppError> {
    let (org, by, role) = scope_as(state, Permission::EditConfiguration).await?;
    let id = text.filter(|t| !t.is_empty()).map(|t| id(&t)).transpose()?;
    Ok(with_kind!(kind, R => {
        let input: <R as Resource>::Input = parse(&body)?;
        match id {
            Some(id) => resource::shown(&resource::update::<R>(&state.db, org, id, input, by).await?, role),
            None => shown_json::<R>(
                resource::created_json(&resource::create::<R>(&state.db, org, input, by).await?),
                role,
            ),
        }
    }))
}

pub async fn delete(state: &AppState, kind: Kind, text: String) -> Result<(), AppError> {
    let (org, by) = scope(state, Permission::EditConfiguration).await?;
    let id = id(&text)?;
    with_kind!(kind, R => resource::delete::<R>(&state.db, org, id, by).await?);
    Ok(())
}

pub async fn save_ring_tree(
    state: &AppState,
    campaign: String,
    body: String,
) -> Result<Vec<Value>, AppError> {
    let (org, by) = scope(state, Permission::EditConfiguration).await?;
    let campaign = id(&campaign)?;
    let entries = parse(&body)?;
    let saved = ring_tree::put(&state.db, org, campaign, entries, by).await?;
    Ok(saved.iter().map(json).collect())
}

pub async fn import_numbers(
    state: &AppState,
    body: String,
    preview: bool,
) -> Result<ImportAnswer, AppError> {
    let (org, by) = scope(state, Permission::EditConfiguration).await?;
    let mut input: ImportInput = parse(&body)?;
    input.preview = preview;
    let stores_valid_lines = input.import_valid_lines;
    let report = import::import(&state.db, org, input, by).await?;
    let stored = !preview && (report.errors.is_empty() || stores_valid_lines);
    Ok(ImportAnswer {
        numbers: report.imported.iter().map(|n| n.number.as_str().to_owned()).collect(),
        errors: report
            .errors
            .into_iter()
            .map(|e| LineErrorView { line: e.line, text: e.text, error: e.error })
            .collect(),
        stored,
    })
}

pub async fn test_ping(state: &AppState, target: String) -> Result<PingReport, AppError> {
    let (org, _, role) = scope_as(state, Permission::EditConfiguration).await?;
    let reveal = resource::reveals_secrets(role);
    Ok(crate::ping::test(&state.db, org, id(&target)?, &state.pinger, reveal).await?)
}
