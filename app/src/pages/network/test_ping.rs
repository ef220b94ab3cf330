//! The test ping of an RTB target: a sample call's ping sent from the server, and what
//! came of it — the request, the response, the latency and the bid as read.

use leptos::prelude::*;

use crate::network::{PingReport, test_ping};

#[component]
pub fn TestPing(target_id: String) -> impl IntoView {
    let ping = Action::new(move |id: &String| test_ping(id.clone()));
    view! {
        <section class="panel" aria-labelledby="test-ping-heading" id="test-ping">
            <h2 id="test-ping-heading">"Test ping"</h2>
            <p class="hint">
                "Sends this target's ping for a sample call (caller +12125550123, NY) from the server. "
                "Save changes first: the saved settings are used."
            </p>
            <button
                class="secondary"
                id="send-test-ping"
                disabled=move || ping.pending().get()
                on:click=move |_| {
                    ping.dispatch(target_id.clone());
                }
            >
                "Send test ping"
            </button>
            {move || {
                ping.value()
                    .get()
                    .map(|answer| match answer {
                        Ok(report) => view! { <Report report /> }.into_any(),
                        Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                    })
            }}
        </section>
    }
}

#[component]
fn Report(report: PingReport) -> impl IntoView {
    let PingReport { request, response, latency_ms, bid, error } = report;
    let headers: String =
        request.headers.iter().map(|(name, value)| format!("{name}: {value}\n")).collect();
    let outcome = match (&bid, &error) {
        (Some(bid), _) if bid.accepted => format!(
            "Bid {} · destination {} · minimum duration {}",
            bid.bid_cents.map_or("none".to_owned(), |cents| format!("{cents}¢")),
            bid.destination.clone().unwrap_or_else(|| "the target's".to_owned()),
            bid.min_duration_seconds.map_or("none".to_owned(), |s| format!("{s} s")),
        ),
        (Some(_), _) => "The buyer declined.".to_owned(),
        (None, Some(error)) => error.clone(),
        (None, None) => "No bid.".to_owned(),
    };
    view! {
        <div id="test-ping-report" role="status">
            <p><strong id="test-ping-outcome">{outcome}</strong> " · " {latency_ms} " ms"</p>
            <h3>"Request"</h3>
            <pre>{format!("{} {}\n{headers}\n{}", request.method, request.url, request.body.unwrap_or_default())}</pre>
            <h3>"Response"</h3>
            <pre>
                {match response {
                    Some(response) => format!("{}\n\n{}", response.status, response.body),
                    None => "No response.".to_owned(),
                }}
            </pre>
        </div>
    }
}
