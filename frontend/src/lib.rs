//! The browser's entry point: hydrates the page the server rendered.

use leptos::prelude::document;
use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the script Leptos puts in every page, once the wasm is loaded.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(bidline_app::App);
    // Marks the page as live, for people debugging and for the browser tests, which
    // wait for it before they click.
    if let Some(body) = document().body() {
        let _ = body.set_attribute("data-hydrated", "true");
    }
}
