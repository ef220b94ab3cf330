//! A webhook's delivery log on its page: each delivery's event, call, status, attempts
//! and last answer, its request and response on demand, and a resend button. Loaded in
//! the browser and refreshed every few seconds, so new calls' deliveries appear. And on
//! a buyer's page, the postback keys it reports sales with.

use std::time::Duration;

use leptos::prelude::*;

use super::{
    api_keys::day,
    forms::{ShownOnce, failure, loading},
};
use crate::webhooks::{
    DeliveryRow, PostbackKeyRow, create_postback_key, list_postback_keys, resend_delivery,
    revoke_postback_key, rotate_webhook_secret, webhook_deliveries,
};

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
                        <div class="table-scroll" tabindex="0">
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
                        </div>
                    }
                    .into_any()
                }
                Some(Err(error)) => failure(&error),
            }}
        </section>
    }
}

/// A new signing secret, after a confirmation; the old one signs beside it for a day.
#[component]
pub fn RotateSecret(webhook_id: String) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let rotate = Action::new(move |id: &String| rotate_webhook_secret(id.clone()));
    let error = move || rotate.value().get().and_then(Result::err).map(|e| e.to_string());
    view! {
        <section class="panel" aria-labelledby="secret-title">
            <h2 id="secret-title">"Signing secret"</h2>
            <p class="hint">
                "Receivers check " <code>"Bidline-Signature"</code> " with it. A new secret is shown "
                "once; for a day the old one signs beside it, so receivers can switch without losing a delivery."
            </p>
            <Show
                when=move || confirming.get()
                fallback=move || view! {
                    <button class="secondary" id="rotate-secret" on:click=move |_| confirming.set(true)>"New secret…"</button>
                }
            >
                {
                    let id = webhook_id.clone();
                    view! {
                        <button class="danger" id="confirm-rotate" disabled=move || rotate.pending().get()
                            on:click=move |_| { rotate.dispatch(id.clone()); confirming.set(false); }>
                            "Make a new secret"
                        </button>
                        <button class="secondary" on:click=move |_| confirming.set(false)>"Keep"</button>
                    }
                }
            </Show>
            {move || rotate.value().get().and_then(Result::ok).map(|secret| view! {
                <ShownOnce
                    id="rotated-secret"
                    label="The new signing secret"
                    heading="Copy this signing secret now."
                    note="It is shown only once."
                    value=secret
                />
            })}
            <p class="form-error" role="alert" id="rotate-error">{error}</p>
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

#[component]
pub fn PostbackKeys(buyer_id: String, edits: bool) -> impl IntoView {
    let keys = RwSignal::new(None);
    let create = Action::new(move |buyer: &String| create_postback_key(buyer.clone()));
    let revoke = Action::new(move |(buyer, key): &(String, String)| {
        revoke_postback_key(buyer.clone(), key.clone())
    });
    let load_for = buyer_id.clone();
    Effect::new(move |_| {
        create.version().track();
        revoke.version().track();
        let buyer_id = load_for.clone();
        leptos::task::spawn_local(async move {
            keys.set(Some(list_postback_keys(buyer_id).await));
        });
    });
    let error = move || {
        let created = create.value().get().and_then(Result::err);
        created.or_else(|| revoke.value().get().and_then(Result::err)).map(|e| e.to_string())
    };
    let new_key = buyer_id.clone();
    view! {
        <section class="panel" aria-labelledby="postback-title">
            <h2 id="postback-title">"Postback keys"</h2>
            <p class="hint">
                "The buyer reports sales with " <code>"POST /postback/v1/<key>"</code> " and "
                <code>r#"{"call_id": "…", "converted": true, "revenue_cents": 2500}"#</code>
                " (or by " <code>"caller"</code> " and " <code>"at"</code>
                "); the call, its timeline and webhooks follow."
            </p>
            {edits.then(|| view! {
                <button class="secondary" id="new-postback-key" disabled=move || create.pending().get()
                    on:click=move |_| { create.dispatch(new_key.clone()); }>
                    "New postback key"
                </button>
            })}
            {move || create.value().get().and_then(Result::ok).map(|created| view! {
                <ShownOnce
                    id="new-postback-secret"
                    label="The new postback key"
                    heading="Give this key to the buyer now."
                    note="It is shown only once; Bidline keeps only a fingerprint of it."
                    value=created.secret
                />
            })}
            <p class="form-error" role="alert" id="postback-error">{error}</p>
            {move || match keys.get() {
                None => loading().into_any(),
                Some(Ok(rows)) if rows.is_empty() => {
                    view! { <p class="empty-state" id="no-postback-keys">"No postback keys yet."</p> }.into_any()
                }
                Some(Ok(rows)) => {
                    let buyer_id = buyer_id.clone();
                    view! {
                        <div class="table-scroll" tabindex="0">
                            <table class="data" id="postback-keys">
                                <thead>
                                    <tr>
                                        <th scope="col">"Key"</th>
                                        <th scope="col">"Created"</th>
                                        <th scope="col">"Status"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows
                                        .into_iter()
                                        .map(|row| view! { <KeyLine row buyer_id=buyer_id.clone() edits revoke /> })
                                        .collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }
                    .into_any()
                }
                Some(Err(error)) => failure(&error),
            }}
        </section>
    }
}

#[component]
fn KeyLine(
    row: PostbackKeyRow,
    buyer_id: String,
    edits: bool,
    revoke: Action<(String, String), Result<(), crate::errors::AppError>>,
) -> impl IntoView {
    let id = row.id.clone();
    let status = match (&row.revoked_at, edits) {
        (Some(at), _) => view! { <span class="muted">"Revoked " {day(at)}</span> }.into_any(),
        (None, false) => view! { <span>"active"</span> }.into_any(),
        (None, true) => view! {
            <button class="danger revoke" on:click=move |_| { revoke.dispatch((buyer_id.clone(), id.clone())); }>
                "Revoke"
            </button>
        }
        .into_any(),
    };
    view! {
        <tr class="postback-key" data-key=row.id.clone()>
            <td><code>{row.key_prefix}"…"</code></td>
            <td class="when">{day(&row.created_at)}</td>
            <td>{status}</td>
        </tr>
    }
}
