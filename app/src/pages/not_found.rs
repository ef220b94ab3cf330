//! Shown for any address the app has no page for. The server's fallback handler
//! answers such requests with status 404.

use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <Title text="Not found · Bidline" />
        <main class="page narrow">
            <h1>"Page not found"</h1>
            <p>
                "There is nothing at this address. " <a href="/">"Back to the start page"</a>
            </p>
        </main>
    }
}
