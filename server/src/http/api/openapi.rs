//! The OpenAPI 3.1 document of `/api/v1`, generated from the code: each module documents
//! its routes where it declares them ([`Spec::add`]), and the JSON Schemas of bodies and
//! answers are derived from the Rust types that read and write them (`schemars`), so the
//! document cannot drift from what the server does.
//!
//! Served at `GET /api/v1/openapi.json`, and as a readable page at `GET /api/v1/docs`.

use std::{fmt::Write as _, sync::Arc};

use axum::{Json, Router, extract::State, http::header, response::Html, routing::get};
use schemars::{JsonSchema, SchemaGenerator, generate::SchemaSettings};
use serde_json::{Map, Value, json};

use crate::http::AppState;

/// Who may call an operation (each role holds the permissions of those below it).
#[derive(Clone, Copy)]
pub enum Who {
    Anyone,
    AnyRole,
    Manager,
    Admin,
    Owner,
}

impl Who {
    fn describe(self) -> &'static str {
        match self {
            Self::Anyone => "No API key needed.",
            Self::AnyRole => "Any API key of the organization.",
            Self::Manager => "An API key with the manager role or above.",
            Self::Admin => "An API key with the admin role or above.",
            Self::Owner => "An API key with the owner role.",
        }
    }
}

/// One operation, as its module describes it.
pub struct Op {
    pub tag: &'static str,
    pub summary: &'static str,
    pub who: Who,
    /// Query parameters: (name, description).
    pub query: &'static [(&'static str, &'static str)],
    pub body: Option<Value>,
    /// The success status and the schema of its body (`None`: no body).
    pub ok: (u16, Option<Value>),
}

impl Op {
    pub fn new(tag: &'static str, summary: &'static str, who: Who) -> Self {
        Self { tag, summary, who, query: &[], body: None, ok: (200, None) }
    }

    pub fn query(mut self, query: &'static [(&'static str, &'static str)]) -> Self {
        self.query = query;
        self
    }

    pub fn body(mut self, schema: Value) -> Self {
        self.body = Some(schema);
        self
    }

    pub fn ok(mut self, status: u16, schema: Option<Value>) -> Self {
        self.ok = (status, schema);
        self
    }
}

/// The document being assembled while the router is built.
pub struct Spec {
    generator: SchemaGenerator,
    paths: Map<String, Value>,
    /// Requests Bidline makes to others (OpenAPI 3.1 `webhooks`): buyer pings.
    webhooks: Map<String, Value>,
}

impl Default for Spec {
    fn default() -> Self {
        let mut settings = SchemaSettings::draft2020_12();
        settings.definitions_path = "/components/schemas".into();
        Self { generator: settings.into_generator(), paths: Map::new(), webhooks: Map::new() }
    }
}

impl Spec {
    /// A reference to `T`'s schema, which the document's components will hold.
    pub fn schema<T: JsonSchema>(&mut self) -> Value {
        self.generator.subschema_for::<T>().to_value()
    }

    /// `{"items": [item], "next_cursor": …}`.
    pub fn list_of(item: Value) -> Value {
        json!({
            "type": "object",
            "required": ["items", "next_cursor"],
            "properties": {
                "items": {"type": "array", "items": item},
                "next_cursor": {"type": ["string", "null"], "description": "Pass as ?cursor= for the next page; null on the last."}
            }
        })
    }

    /// Documents `method path` (path as axum spells it, `{id}` for parameters).
    pub fn add(&mut self, method: &str, path: &str, op: Op) {
        let mut parameters: Vec<Value> = path
            .split('/')
            .filter_map(|part| part.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        parameters.extend(op.query.iter().map(|(name, description)| {
            json!({"name": name, "in": "query", "required": false, "description": description, "schema": {"type": "string"}})
        }));
        let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}});
        let mut responses = Map::new();
        let (status, answer) = op.ok;
        responses.insert(
            status.to_string(),
            match answer {
                Some(schema) => json!({"description": "Success", "content": {"application/json": {"schema": schema}}}),
                None => json!({"description": "Success, no body"}),
            },
        );
        if !matches!(op.who, Who::Anyone) {
            responses.insert("401".into(), error("Missing, unknown or revoked API key"));
            responses.insert("403".into(), error("The key's role may not do this"));
        }
        if path.contains('{') {
            responses.insert("404".into(), error("No such object in the key's organization"));
        }
        if op.body.is_some() || method == "delete" {
            responses.insert(
                "422".into(),
                error("Invalid input: `fields` maps each bad field to what is wrong"),
            );
        }
        if method == "delete" {
            responses.insert("409".into(), error("Something still depends on it"));
        }
        let mut operation = json!({
            "tags": [op.tag],
            "summary": op.summary,
            "description": op.who.describe(),
            "parameters": parameters,
            "responses": responses,
        });
        if matches!(op.who, Who::Anyone) {
            operation["security"] = json!([]);
        }
        if let Some(body) = op.body {
            operation["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": body}}});
        }
        let item = self.paths.entry(format!("/api/v1{path}")).or_insert_with(|| json!({}));
        item[method] = operation;
    }

    /// Documents a request Bidline sends (a path item under `webhooks`).
    pub fn webhook(&mut self, name: &str, item: Value) {
        self.webhooks.insert(name.to_owned(), item);
    }

    pub fn document(mut self) -> Value {
        let mut schemas = self.generator.take_definitions(true);
        schemas.insert(
            "Error".into(),
            json!({
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {"type": "string"},
                    "fields": {"type": "object", "additionalProperties": {"type": "string"}}
                }
            }),
        );
        json!({
            "openapi": "3.1.0",
            "info": {
                "title": "Bidline API",
                "version": env!("CARGO_PKG_VERSION"),
                "description": "Configuration and reports of a Bidline organization. JSON in and out; money is integer cents; times are RFC 3339 UTC; ids are UUIDv7. Lists are oldest first, paged with ?cursor=&limit= (1–200, default 50). PATCH takes any subset of an object's fields; null clears a nullable one. Bodies with unknown fields are refused."
            },
            "servers": [{"url": "/"}],
            "security": [{"bearer": []}],
            "components": {
                "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "An API key (bl_…) made in the dashboard or by `bidline org create`."}},
                "schemas": schemas
            },
            "paths": self.paths,
            "webhooks": self.webhooks,
        })
    }
}

/// Documents the document's own routes.
pub fn describe(spec: &mut Spec) {
    let this = Op::new("Documentation", "This document (OpenAPI 3.1)", Who::Anyone);
    spec.add("get", "/openapi.json", this.ok(200, Some(json!({"type": "object"}))));
    spec.add("get", "/docs", Op::new("Documentation", "This document as a page", Who::Anyone));
}

/// Serves the finished document; no API key needed.
pub fn serve(document: Value) -> Router<AppState> {
    let document = Arc::new(document);
    let page = document.clone();
    Router::new()
        .route(
            "/openapi.json",
            get(move || {
                let document = document.clone();
                async move { ([(header::CACHE_CONTROL, "no-cache")], Json(document.as_ref().clone())) }
            }),
        )
        .route(
            "/docs",
            get(move |State(state): State<AppState>| {
                let page = page.clone();
                // The stylesheet lives in the current build's asset folder.
                async move { Html(render(&page, &state.leptos.site_pkg_dir)) }
            }),
        )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The document as HTML: operations by tag, then every schema. No scripts, nothing
/// fetched from elsewhere.
fn render(document: &Value, pkg_dir: &str) -> String {
    let mut by_tag: std::collections::BTreeMap<String, Vec<(String, String, &Value)>> =
        Default::default();
    for (path, item) in document["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let tag = op["tags"][0].as_str().unwrap_or("Other").to_owned();
            by_tag.entry(tag).or_default().push((method.to_uppercase(), path.clone(), op));
        }
    }
    let mut html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Bidline API</title>\
         <link rel=\"stylesheet\" href=\"/{pkg_dir}/{}.css\"></head><body class=\"api-docs\"><main>",
        bidline_app::OUTPUT_NAME
    );
    let info = &document["info"];
    let _ = write!(
        html,
        "<h1>{} <small>{}</small></h1><p>{}</p><p>Machine-readable: <a href=\"/api/v1/openapi.json\">openapi.json</a> (OpenAPI 3.1). \
         Authenticate with <code>Authorization: Bearer &lt;api key&gt;</code>.</p>",
        escape(info["title"].as_str().unwrap_or_default()),
        escape(info["version"].as_str().unwrap_or_default()),
        escape(info["description"].as_str().unwrap_or_default()),
    );
    for (tag, ops) in &by_tag {
        let _ = write!(html, "<section><h2>{}</h2>", escape(tag));
        for (method, path, op) in ops {
            let _ = write!(
                html,
                "<details class=\"operation\"><summary><code>{method} {}</code> — {}</summary><p>{}</p>",
                escape(path),
                escape(op["summary"].as_str().unwrap_or_default()),
                escape(op["description"].as_str().unwrap_or_default()),
            );
            if let Some(body) = op.pointer("/requestBody/content/application~1json/schema") {
                let _ = write!(html, "<h4>Body</h4><pre>{}</pre>", escape(&pretty(body)));
            }
            for (status, response) in op["responses"].as_object().into_iter().flatten() {
                let _ = write!(
                    html,
                    "<h4>{status} {}</h4>",
                    escape(response["description"].as_str().unwrap_or_default())
                );
                if let Some(schema) = response.pointer("/content/application~1json/schema") {
                    let _ = write!(html, "<pre>{}</pre>", escape(&pretty(schema)));
                }
            }
            html.push_str("</details>");
        }
        html.push_str("</section>");
    }
    html.push_str("<section><h2>Schemas</h2>");
    for (name, schema) in document["components"]["schemas"].as_object().into_iter().flatten() {
        let _ = write!(
            html,
            "<details class=\"schema\" id=\"{0}\"><summary><code>{0}</code></summary><pre>{1}</pre></details>",
            escape(name),
            escape(&pretty(schema))
        );
    }
    html.push_str("</section></main></body></html>");
    html
}

fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}
