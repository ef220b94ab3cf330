//! The browser's entry point: hydrates the page the server rendered.

use leptos::prelude::document;
use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the script Leptos puts in every page, once the wasm is loaded.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    let Some(body) = document().body() else { return };
    // Pages are lazily loaded routes: hydration waits for the page's chunk, so it runs
    // as a task rather than at once.
    wasm_bindgen_futures::spawn_local(async move {
        leptos::mount::hydrate_from_async(body.clone(), bidline_app::App).await.forget();
        // Marks the page as live, for people debugging and for the browser tests, which
        // wait for it before they click.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
