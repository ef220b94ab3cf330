//! The REST routes every configuration object has, written once for all of them:
//! `GET /{plural}` (cursor, `?name=`, `?status=`), `POST /{plural}`, `GET`, `PATCH`
//! (any subset of fields) and `DELETE /{plural}/{id}`, and `GET /{plural}/{id}/history`.
//! Reading takes any role; changing takes manager or above. Write-only values (header
//! secrets) read as a mask below admin, in answers and history alike.

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    routing::get,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    ApiError, Page,
    extract::{ApiCaller, ApiJson},
    openapi::{Op, Spec, Who},
    path_id as id,
};
use crate::{
    accounts::Permission,
    http::AppState,
    network::{
        Status,
        resource::{self, Filter, Resource},
    },
    time::rfc3339,
};

/// The routes of `R` under `/{plural}`, documented in `spec` under `tag`.
pub fn routes<R: Resource>(plural: &str, tag: &'static str, spec: &mut Spec) -> Router<AppState> {
    let (object, input) = (spec.schema::<R>(), spec.schema::<R::Input>());
    let changes = Spec::list_of(serde_json::json!({"type": "object", "properties": {
        "at": {"type": "string", "format": "date-time"},
        "actor": {"type": "object", "properties": {"email": {"type": ["string", "null"]}, "api_key": {"type": ["string", "null"]}}},
        "action": {"enum": ["created", "updated", "deleted"]}, "before": {}, "after": {}}}));
    let (all, one) = (format!("/{plural}"), format!("/{plural}/{{id}}"));
    spec.add(
        "get",
        &all,
        Op::new(tag, "List, oldest first", Who::AnyRole)
            .query(&[
                ("cursor", "next_cursor of the previous page"),
                ("limit", "1–200, default 50"),
                ("name", "a part of the name, any case"),
                ("status", "active or paused"),
            ])
            .ok(200, Some(Spec::list_of(object.clone()))),
    );
    spec.add(
        "post",
        &all,
        Op::new(tag, "Create", Who::Manager).body(input.clone()).ok(201, Some(object.clone())),
    );
    spec.add("get", &one, Op::new(tag, "Read one", Who::AnyRole).ok(200, Some(object.clone())));
    spec.add(
        "patch",
        &one,
        Op::new(tag, "Change any subset of the fields", Who::Manager)
            .body(input)
            .ok(200, Some(object)),
    );
    spec.add(
        "delete",
        &one,
        Op::new(tag, "Delete (409 while something depends on it)", Who::Manager).ok(204, None),
    );
    spec.add(
        "get",
        &format!("{one}/history"),
        Op::new(tag, "Every change, newest first", Who::AnyRole).ok(200, Some(changes)),
    );
    Router::new()
        .route(&format!("/{plural}"), get(list::<R>).post(create::<R>))
        .route(&format!("/{plural}/{{id}}"), get(read::<R>).patch(update::<R>).delete(remove::<R>))
        .route(&format!("/{plural}/{{id}}/history"), get(history::<R>))
}

/// `Page`'s fields spelled out: serde's `flatten` loses numbers in query strings.
#[derive(Deserialize)]
struct ListQuery {
    cursor: Option<String>,
    limit: Option<i64>,
    name: Option<String>,
    status: Option<String>,
}

async fn list<R: Resource>(
    State(state): State<AppState>,
    caller: ApiCaller,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let page = Page { cursor: query.cursor, limit: query.limit };
    let limit = page.limit()?;
    let status = match query.status.as_deref() {
        Some(text) => Some(
            Status::parse(text)
                .ok_or_else(|| ApiError::field("status", "must be active or paused"))?,
        ),
        None => None,
    };
    let filter = Filter { name: query.name, status };
    let objects: Vec<R> =
        resource::list(&state.db, caller.org, &filter, page.cursor_id()?, limit).await?;
    let next_cursor = (objects.len() as i64 == limit).then(|| objects.last().map(R::id)).flatten();
    let items: Vec<Value> =
        objects.iter().map(|object| resource::shown(object, caller.role)).collect();
    Ok(Json(json!({ "items": items, "next_cursor": next_cursor })))
}

async fn create<R: Resource>(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(input): ApiJson<R::Input>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Permission::EditConfiguration)?;
    let object = resource::create::<R>(&state.db, caller.org, input, caller.by()).await?;
    let mut answer = resource::created_json(&object);
    if !resource::reveals_secrets(caller.role) {
        resource::mask::<R>(&mut answer);
    }
    Ok((StatusCode::CREATED, Json(answer)))
}

async fn read<R: Resource>(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(text): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let object: R = resource::get(&state.db, caller.org, id(&text)?).await?;
    Ok(Json(resource::shown(&object, caller.role)))
}

async fn update<R: Resource>(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(text): Path<String>,
    ApiJson(input): ApiJson<R::Input>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::EditConfiguration)?;
    let object =
        resource::update::<R>(&state.db, caller.org, id(&text)?, input, caller.by()).await?;
    Ok(Json(resource::shown(&object, caller.role)))
}

async fn remove<R: Resource>(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(text): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Permission::EditConfiguration)?;
    resource::delete::<R>(&state.db, caller.org, id(&text)?, caller.by()).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn history<R: Resource>(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(text): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Permission::Read)?;
    let entries = resource::history::<R>(&state.db, caller.org, id(&text)?).await?;
    let reveal = resource::reveals_secrets(caller.role);
    let shown = |json: sqlx::types::Json<Value>| {
        let mut json = json.0;
        if !reveal {
            resource::mask::<R>(&mut json);
        }
        json
    };
    let items: Vec<Value> = entries
        .into_iter()
        .map(|entry| {
            json!({
                "at": rfc3339(entry.at),
                "actor": { "email": entry.actor_email, "api_key": entry.actor_api_key },
                "action": entry.action,
                "before": entry.before.map(shown),
                "after": entry.after.map(shown),
            })
        })
        .collect();
    Ok(Json(json!({ "items": items, "next_cursor": null })))
}
