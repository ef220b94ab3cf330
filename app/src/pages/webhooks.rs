//! A webhook's delivery log on its page: each delivery's event, call, status, attempts
//! and last answer, its request and response on demand, and a resend button. Loaded in
//! the browser and refreshed every few seconds, so new calls' deliveries appear.

use std::time::Duration;

use leptos::prelude::*;

use super::{
    api_keys::day,
    forms::{failure, loading},
};
use crate::webhooks::{DeliveryRow, resend_delivery, webhook_deliveries};

const REFRESH: Duration = Duration::from_secs(2);

#[component]
pub fn Deliveries(webhook_id: String, edits: bool) -> impl IntoView {
    let rows = RwSignal::new(None);
    let refresh = RwSignal::new(0u64);
    let resend = Action::new(move |(webhook, delivery): &(String, String)| {
        resend_delivery(webhook.clone(), delivery.clone())
    });
    let load_for = webhook_id.clone();
    Effect::new(move |_| {
        refresh.track();
        resend.version().track();
        let webhook_id = load_for.clone();
        leptos::task::spawn_local(async move {
            rows.set(Some(webhook_deliveries(webhook_id).await));
        });
    });
    Effect::new(move |_| {
        if let Ok(handle) = set_interval_with_handle(move || refresh.update(|n| *n += 1), REFRESH) {
            on_cleanup(move || handle.clear());
        }
    });
    let resend_error = move || resend.value().get().and_then(Result::err).map(|e| e.to_string());
    view! {
        <section class="panel" aria-labelledby="deliveries-title">
            <h2 id="deliveries-title">"Deliveries"</h2>
            <p class="hint">
                "Newest first. Each delivery keeps its id (" <code>"Bidline-Delivery"</code>
                ") on every attempt; failed attempts are retried with growing pauses for a day."
            </p>
            <p class="form-error" role="alert" id="resend-error">{resend_error}</p>
            {move || match rows.get() {
                None => loading().into_any(),
                Some(Ok(rows)) if rows.is_empty() => view! {
                    <p class="empty-state" id="no-deliveries">
                        "No deliveries yet: they appear here as calls make the events this webhook listens to."
                    </p>
                }
                .into_any(),
                Some(Ok(rows)) => {
                    let webhook_id = webhook_id.clone();
                    view! {
                        <table class="data" id="deliveries">
                            <thead>
                                <tr>
                                    <th scope="col">"Event"</th>
                                    <th scope="col">"Call"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col">"Attempts"</th>
                                    <th scope="col">"Last answer"</th>
                                    <th scope="col">"Latency"</th>
                                    <th scope="col">"Next attempt"</th>
                                    <th scope="col">"Request and response"</th>
                                    {edits.then(|| view! { <th scope="col"><span class="visually-hidden">"Resend"</span></th> })}
                                </tr>
                            </thead>
                            <tbody>
                                {rows
                                    .into_iter()
                                    .map(|row| view! { <DeliveryLine row webhook_id=webhook_id.clone() edits resend /> })
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                    .into_any()
                }
                Some(Err(error)) => failure(&error),
            }}
        </section>
    }
}

#[component]
fn DeliveryLine(
    row: DeliveryRow,
    webhook_id: String,
    edits: bool,
    resend: Action<(String, String), Result<(), crate::errors::AppError>>,
) -> impl IntoView {
    let answer = match (row.last_status_code, &row.last_error) {
        (Some(code), _) => code.to_string(),
        (None, Some(error)) => error.clone(),
        (None, None) => "—".to_owned(),
    };
    let request = format!(
        "{} {}\n\n{}",
        row.request_method,
        row.request_url,
        row.request_body.clone().unwrap_or_default()
    );
    let id = row.id.clone();
    view! {
        <tr class="delivery" data-delivery=row.id.clone()>
            <td>{row.event.clone()}</td>
            <td><a href=format!("/app/calls/{}", row.call_id)>"Call"</a></td>
            <td><span class=format!("status {}", row.status)>{row.status.clone()}</span></td>
            <td class="attempts">{row.attempts}</td>
            <td>{answer}</td>
            <td>{row.last_latency_ms.map(|ms| format!("{ms} ms")).unwrap_or_else(|| "—".into())}</td>
            <td>{row.next_attempt_at.as_deref().map(day).unwrap_or_else(|| "—".into())}</td>
            <td>
                <details>
                    <summary>"Show"</summary>
                    <pre class="request">{request}</pre>
                    <pre class="response">{row.response.clone().unwrap_or_else(|| "(no answer)".into())}</pre>
                </details>
            </td>
            {edits.then(|| {
                view! {
                    <td>
                        <button
                            class="secondary resend"
                            disabled=move || resend.pending().get()
                            on:click=move |_| { resend.dispatch((webhook_id.clone(), id.clone())); }
                        >
                            "Resend"
                        </button>
                    </td>
                }
            })}
        </tr>
    }
}
