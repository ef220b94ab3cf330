//! A campaign's DNI panel on its page: the tag to paste, the pool's numbers with their
//! visitors, the last day hour by hour, and the pool size the visits call for.

use leptos::prelude::*;

use super::forms::{failure, loading};
use crate::dni::{DniView, campaign_dni};

/// Fetched once the page is live in the browser (like the campaign's day), which is
/// also where the tag's address — this dashboard's own origin — is known.
#[component]
pub fn CampaignDni(campaign_id: String) -> impl IntoView {
    let loaded = RwSignal::new(None);
    Effect::new(move |_| {
        let campaign_id = campaign_id.clone();
        let origin = window().location().origin().unwrap_or_default();
        leptos::task::spawn_local(async move {
            loaded.set(Some(campaign_dni(campaign_id).await.map(|view| (origin, view))));
        });
    });
    view! {
        <section class="panel" aria-labelledby="dni-title">
            <h2 id="dni-title">"Dynamic number insertion"</h2>
            {move || match loaded.get() {
                None => loading().into_any(),
                Some(Ok((origin, view))) => panel(&origin, view).into_any(),
                Some(Err(error)) => failure(&error),
            }}
        </section>
    }
}

fn panel(origin: &str, view: DniView) -> impl IntoView {
    let tag = format!(
        "<script async src=\"{origin}/dni.js\" data-campaign=\"{}\"></script>",
        view.public_key
    );
    let pool_size = view.numbers.len() as i64;
    let short = view.suggested_size > pool_size;
    let advice = if view.peak_visitors == 0 {
        "No visits yet: the pool's size will be advised from the busiest hour.".to_owned()
    } else {
        format!(
            "At most {} visitors at once in the last 7 days: {} numbers keep each on a number of their own (the pool has {pool_size}).",
            view.peak_visitors, view.suggested_size
        )
    };
    let DniView { numbers, hours, visitors_now, exhausted_last_day, time_zone, .. } = view;
    view! {
        <p>"Paste on every page of the campaign's sites:"</p>
        <pre id="dni-tag"><code>{tag}</code></pre>
        <p class="hint">"Leases come only from the campaign's DNI domains (below). Times in " {time_zone.clone()} "."</p>
        {(exhausted_last_day > 0).then(|| view! {
            <p class="form-error" role="alert" id="dni-exhausted">
                {exhausted_last_day} " visitors in the last 24 hours saw the default number: every pool number was taken."
            </p>
        })}
        <p id="dni-advice" class=if short { "warning" } else { "hint" }>{advice}</p>
        <h3>"Pool numbers"</h3>
        <p class="hint">{visitors_now} " visits now."</p>
        <div class="table-scroll" tabindex="0">
            <table id="dni-numbers">
                <thead><tr><th>"Number"</th><th>"State"</th><th>"Since"</th><th>"Visitor's source"</th></tr></thead>
                <tbody>
                    {numbers.into_iter().map(|n| {
                        let state = if n.leased_since.is_some() { "leased" } else { "free" };
                        view! {
                            <tr data-state=state>
                                <td>{n.number}</td>
                                <td>{state}</td>
                                <td>{n.leased_since.unwrap_or_default()}</td>
                                <td>{n.source.unwrap_or_default()}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        <h3>"Last 24 hours"</h3>
        <div class="table-scroll" tabindex="0">
            <table id="dni-hours">
                <thead><tr><th>"Hour"</th><th>"Leases"</th><th>"Most leased at once"</th><th>"Most visitors at once"</th><th>"Shown the default"</th></tr></thead>
                <tbody>
                    {hours.into_iter().map(|h| view! {
                        <tr>
                            <td>{h.hour}</td>
                            <td>{h.leases}</td>
                            <td>{h.peak_leased}</td>
                            <td>{h.peak_visitors}</td>
                            <td>{h.exhausted}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
