//! Number import: paste a list or CSV, preview it (each line's error, nothing stored),
//! then import — all or nothing, unless "import the valid lines" is chosen.

use leptos::prelude::*;
use leptos_meta::Title;
use serde_json::{Value, json};

use super::label;
use crate::network::{ImportAnswer, Kind, all_objects, import_numbers};

#[component]
pub fn ImportNumbers() -> impl IntoView {
    let text = RwSignal::new(String::new());
    let campaign = RwSignal::new(String::new());
    let publisher = RwSignal::new(String::new());
    let provider = RwSignal::new(String::new());
    let valid_lines = RwSignal::new(false);
    // One server function per resource: see `network::object_page`.
    let campaigns = Resource::new(|| (), |_| all_objects(Kind::Campaign));
    let publishers = Resource::new(|| (), |_| all_objects(Kind::Publisher));
    let run =
        Action::new(move |(body, preview): &(String, bool)| import_numbers(body.clone(), *preview));
    let body = move || {
        let mut body = json!({
            "numbers": text.get_untracked(),
            "campaign_id": campaign.get_untracked(),
            "import_valid_lines": valid_lines.get_untracked(),
        });
        if !publisher.get_untracked().is_empty() {
            body["publisher_id"] = json!(publisher.get_untracked());
        }
        if !provider.get_untracked().trim().is_empty() {
            body["provider"] = json!(provider.get_untracked().trim());
        }
        body.to_string()
    };
    let options = move |objects: Vec<Value>, kind: Kind| {
        objects
            .into_iter()
            .map(|o| view! { <option value=o["id"].as_str().unwrap_or_default().to_owned()>{label(kind, &o)}</option> })
            .collect_view()
    };

    view! {
        <Title text="Import numbers · Bidline" />
        <p class="breadcrumb"><a href="/app/numbers">"Numbers"</a></p>
        <h1>"Import numbers"</h1>
        <p class="lede">"Paste one number per line, or CSV with the number first. Preview shows each line's problem; nothing is stored until you import."</p>
        <div class="stack">
            <div class="field">
                <label for="import-text">"Numbers"</label>
                <textarea id="import-text" rows="8" on:input=move |e| text.set(event_target_value(&e))></textarea>
            </div>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let campaigns = campaigns.await.unwrap_or_default();
                    let publishers = publishers.await.unwrap_or_default();
                    view! {
                        <div class="field">
                            <label for="import-campaign">"Campaign"</label>
                            <select id="import-campaign" on:change=move |e| campaign.set(event_target_value(&e))>
                                <option value="">"— choose —"</option>
                                {options(campaigns, Kind::Campaign)}
                            </select>
                        </div>
                        <div class="field">
                            <label for="import-publisher">"Publisher"</label>
                            <select id="import-publisher" on:change=move |e| publisher.set(event_target_value(&e))>
                                <option value="">"— none —"</option>
                                {options(publishers, Kind::Publisher)}
                            </select>
                        </div>
                    }
                })}
            </Suspense>
            <div class="field">
                <label for="import-provider">"Provider"</label>
                <input id="import-provider" placeholder="e.g. Twilio" on:input=move |e| provider.set(event_target_value(&e)) />
            </div>
            <label class="checkbox">
                <input type="checkbox" id="import-valid-lines" on:change=move |e| valid_lines.set(event_target_checked(&e)) />
                " Import the valid lines even if others have errors"
            </label>
            <div class="actions">
                <button class="secondary" id="import-preview" disabled=move || run.pending().get() on:click=move |_| { run.dispatch((body(), true)); }>"Preview"</button>
                <button id="import-submit" disabled=move || run.pending().get() on:click=move |_| { run.dispatch((body(), false)); }>"Import"</button>
            </div>
        </div>
        {move || run.value().get().map(|answer| match answer {
            Ok(answer) => view! { <Report answer /> }.into_any(),
            Err(error) => view! { <p class="form-error" role="alert" id="import-error">{error.to_string()}</p> }.into_any(),
        })}
    }
}

#[component]
fn Report(answer: ImportAnswer) -> impl IntoView {
    let ImportAnswer { numbers, errors, stored } = answer;
    let summary = match (stored, errors.is_empty()) {
        (true, _) => format!("Imported {} numbers.", numbers.len()),
        (false, true) => format!("{} numbers are ready to import.", numbers.len()),
        (false, false) => format!(
            "{} lines have errors; nothing was imported. {} lines are valid.",
            errors.len(),
            numbers.len()
        ),
    };
    view! {
        <section class="panel" id="import-report" aria-live="polite">
            <p role="status"><strong>{summary}</strong></p>
            {(!errors.is_empty()).then(|| view! {
                <div class="table-scroll" tabindex="0">
                    <table class="data" id="import-errors">
                        <thead><tr><th scope="col">"Line"</th><th scope="col">"Text"</th><th scope="col">"Problem"</th></tr></thead>
                        <tbody>
                            {errors.into_iter().map(|e| view! { <tr><td>{e.line}</td><td><code>{e.text}</code></td><td>{e.error}</td></tr> }).collect_view()}
                        </tbody>
                    </table>
                </div>
            })}
            <ul class="numbers">{numbers.into_iter().map(|n| view! { <li><code>{n}</code></li> }).collect_view()}</ul>
        </section>
    }
}
