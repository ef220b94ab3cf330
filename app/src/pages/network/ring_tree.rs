//! The campaign's ring tree editor: the targets its calls may go to, with priority
//! (lower rings first), weight (share among equal priorities) and an on/off switch,
//! each target's caps and schedule at a glance. Saved whole.

use leptos::prelude::*;
use serde_json::{Value, json};

use super::object_path;
use crate::{
    errors::AppError,
    network::{Kind, save_ring_tree},
};

/// One entry being edited; each input has its own signal, so typing re-renders nothing.
#[derive(Clone, Copy)]
struct Row {
    target_id: StoredValue<String>,
    priority: RwSignal<String>,
    weight: RwSignal<String>,
    enabled: RwSignal<bool>,
}

impl Row {
    fn new(target_id: String, priority: String, weight: String, enabled: bool) -> Self {
        Self {
            target_id: StoredValue::new(target_id),
            priority: RwSignal::new(priority),
            weight: RwSignal::new(weight),
            enabled: RwSignal::new(enabled),
        }
    }

    fn id(&self) -> String {
        self.target_id.get_value()
    }
}

/// `day 100 · month 2000`, or `no caps`.
fn caps(target: &Value) -> String {
    let caps: Vec<String> = ["hour", "day", "month", "total"]
        .iter()
        .filter_map(|period| target["caps"][*period].as_u64().map(|n| format!("{period} {n}")))
        .collect();
    if caps.is_empty() { "no caps".to_owned() } else { caps.join(" · ") }
}

/// `mon 09:00-17:00, … (America/New_York)`, or `always open`.
fn schedule(target: &Value) -> String {
    match target["schedule"]["weekly"].as_array() {
        Some(periods) => {
            let periods: Vec<String> = periods
                .iter()
                .map(|p| {
                    format!(
                        "{} {}-{}",
                        p["day"].as_str().unwrap_or_default(),
                        p["open"].as_str().unwrap_or_default(),
                        p["close"].as_str().unwrap_or_default()
                    )
                })
                .collect();
            format!(
                "{} ({})",
                periods.join(", "),
                target["schedule"]["time_zone"].as_str().unwrap_or_default()
            )
        }
        None => "always open".to_owned(),
    }
}

#[component]
pub fn RingTreeEditor(
    campaign_id: String,
    tree: Vec<Value>,
    targets: Vec<Value>,
    edits: bool,
) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="ring-tree-heading" id="ring-tree">
            <h2 id="ring-tree-heading">"Ring tree"</h2>
            <p class="hint">"Lower priority rings first; among equal priorities, calls split by weight."</p>
            {view! { <Editor campaign_id tree targets edits /> }.into_any()}
        </section>
    }
}

#[component]
fn Editor(
    campaign_id: String,
    tree: Vec<Value>,
    targets: Vec<Value>,
    edits: bool,
) -> impl IntoView {
    let rows = RwSignal::new(
        tree.iter()
            .map(|e| {
                Row::new(
                    e["target_id"].as_str().unwrap_or_default().to_owned(),
                    e["priority"].to_string(),
                    e["weight"].to_string(),
                    e["enabled"].as_bool().unwrap_or(true),
                )
            })
            .collect::<Vec<_>>(),
    );
    let targets = StoredValue::new(targets);
    let problems = RwSignal::new(Option::<AppError>::None);
    let saved = RwSignal::new(false);
    let save = Action::new(move |(campaign, body): &(String, String)| {
        save_ring_tree(campaign.clone(), body.clone())
    });
    Effect::new(move |_| match save.value().get() {
        Some(Ok(_)) => {
            problems.set(None);
            saved.set(true);
        }
        Some(Err(error)) => problems.set(Some(error)),
        None => {}
    });
    let chosen = RwSignal::new(String::new());
    let target =
        move |id: &str| targets.with_value(|all| all.iter().find(|t| t["id"] == id).cloned());
    let submit = {
        let campaign_id = campaign_id.clone();
        move |_| {
            saved.set(false);
            let mut entries = Vec::new();
            for row in rows.get_untracked() {
                let priority = row.priority.get_untracked().trim().parse::<i64>();
                let weight = row.weight.get_untracked().trim().parse::<i64>();
                let (Ok(priority), Ok(weight)) = (priority, weight) else {
                    problems.set(Some(AppError::field(
                        "ring_tree",
                        "priority and weight must be whole numbers",
                    )));
                    return;
                };
                let enabled = row.enabled.get_untracked();
                entries.push(json!({"target_id": row.id(), "priority": priority, "weight": weight, "enabled": enabled}));
            }
            save.dispatch((campaign_id.clone(), Value::from(entries).to_string()));
        }
    };
    let message = move || {
        problems.get().map(|error| match error {
            AppError::Invalid(fields) => {
                fields.iter().map(|(k, v)| format!("{k} {v}")).collect::<Vec<_>>().join("; ")
            }
            other => other.to_string(),
        })
    };

    view! {
        <div class="ring-tree-editor">
            <div class="table-scroll" tabindex="0">
                <table class="data" id="ring-tree-entries">
                    <thead>
                        <tr>
                            <th scope="col">"Target"</th>
                            <th scope="col">"Caps"</th>
                            <th scope="col">"Schedule"</th>
                            <th scope="col">"Priority"</th>
                            <th scope="col">"Weight"</th>
                            <th scope="col">"Enabled"</th>
                            <th scope="col"><span class="visually-hidden">"Remove"</span></th>
                        </tr>
                    </thead>
                    <tbody>
                        <For each=move || rows.get() key=Row::id let(row)>
                            <EntryRow row edits info=target(&row.id()) remove=move |id: String| rows.update(|rows| rows.retain(|r| r.id() != id)) />
                        </For>
                    </tbody>
                </table>
            </div>
            {edits.then(|| view! {
                <div class="inline-form">
                    <label>
                        <span class="visually-hidden">"Target to add"</span>
                        <select id="ring-tree-add" on:change=move |e| chosen.set(event_target_value(&e)) prop:value=move || chosen.get()>
                            <option value="">"— add a target —"</option>
                            {move || targets.get_value().into_iter()
                                .filter(|t| rows.with(|rows| rows.iter().all(|r| t["id"] != r.id().as_str())))
                                .map(|t| view! { <option value=t["id"].as_str().unwrap_or_default().to_owned()>{t["name"].as_str().unwrap_or_default().to_owned()}</option> })
                                .collect_view()}
                        </select>
                    </label>
                    <button class="secondary" id="ring-tree-add-button" on:click=move |_| {
                        let id = chosen.get_untracked();
                        if !id.is_empty() {
                            rows.update(|rows| rows.push(Row::new(id, "1".into(), "1".into(), true)));
                            chosen.set(String::new());
                        }
                    }>"Add"</button>
                    <button id="ring-tree-save" on:click=submit disabled=move || save.pending().get()>"Save ring tree"</button>
                    <span class="success" role="status">{move || saved.get().then_some("Ring tree saved.")}</span>
                </div>
            })}
            <p class="form-error" role="alert" id="ring-tree-error">{message}</p>
        </div>
    }
}

#[component]
fn EntryRow(
    row: Row,
    edits: bool,
    info: Option<Value>,
    remove: impl Fn(String) + Send + Sync + 'static,
) -> impl IntoView {
    let id = row.id();
    let name =
        info.as_ref().and_then(|t| t["name"].as_str()).map_or_else(|| id.clone(), str::to_owned);
    view! {
        <tr>
            <td><a href=object_path(Kind::Target, &id)>{name}</a></td>
            <td>{info.as_ref().map(caps)}</td>
            <td>{info.as_ref().map(schedule)}</td>
            <td><input class="narrow" aria-label="Priority" disabled=!edits bind:value=row.priority /></td>
            <td><input class="narrow" aria-label="Weight" disabled=!edits bind:value=row.weight /></td>
            <td><input type="checkbox" aria-label="Enabled" disabled=!edits bind:checked=row.enabled /></td>
            <td>
                {edits.then(|| view! { <button class="secondary" on:click=move |_| remove(id.clone())>"Remove"</button> })}
            </td>
        </tr>
    }
}
