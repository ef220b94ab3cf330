//! The start page: what Bidline is, and a live check of this node's health.

use leptos::prelude::*;

use crate::status::{CheckStatus, SystemStatus};

#[component]
pub fn Home() -> impl IntoView {
    view! {
        <main class="page">
            <header class="hero">
                <h1>"Bidline"</h1>
                <p class="lede">
                    "Pay-per-call tracking and routing: tracking numbers for every visitor, "
                    "real-time bidding for every call, exact accounting for every second."
                </p>
                <p class="actions">
                    <a class="button" href="/signup">"Create an account"</a>
                    <a class="button secondary" href="/login">"Sign in"</a>
                </p>
            </header>
            <StatusPanel />
        </main>
    }
}

/// Asks the server for its status when the button is pressed. The button only does
/// something once the wasm has hydrated the page, which makes it the browser tests'
/// proof of hydration.
#[component]
fn StatusPanel() -> impl IntoView {
    let check = ServerAction::<CheckStatus>::new();
    let result = check.value();

    view! {
        <section class="panel" aria-labelledby="status-heading">
            <h2 id="status-heading">"System status"</h2>
            <button
                id="check-status"
                on:click=move |_| {
                    check.dispatch(CheckStatus {});
                }
                disabled=move || check.pending().get()
            >
                {move || if check.pending().get() { "Checking…" } else { "Check status" }}
            </button>
            <p id="status-result" role="status">
                {move || match result.get() {
                    None => "Not checked yet.".to_string(),
                    Some(Ok(status)) => describe(&status),
                    Some(Err(error)) => format!("The server did not answer: {error}"),
                }}
            </p>
        </section>
    }
}

fn describe(status: &SystemStatus) -> String {
    match &status.error {
        None => format!(
            "Bidline {} · database {} ok · checked {}",
            status.version, status.database, status.checked_at
        ),
        Some(error) => format!("Database {} unavailable: {error}", status.database),
    }
}
