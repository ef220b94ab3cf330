//! The Bidline dashboard as a Leptos application.
//!
//! Compiled twice: with `ssr` into the server (which renders every page and answers
//! server functions) and with `hydrate` into the browser's wasm (which takes over the
//! server-rendered page). Nothing here may depend on the server crate; what server
//! functions need from the server arrives through [`backend::Backend`] in context.

// A view's type nests as deep as its markup; the ring tree editor's passes rustc's default.
#![recursion_limit = "256"]

pub mod api_keys;
pub mod audit;
pub mod auth;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod billing;
pub mod calls;
pub mod dni;
pub mod errors;
pub mod members;
pub mod network;
mod pages;
pub mod reports;
pub use bidline_model::roles;
pub mod settings;
pub mod setup;
pub mod status;
pub mod webhooks;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::{
    SsrMode,
    components::{ParentRoute, Route, Router, Routes},
    path,
};
use network::Kind;

/// Name of the wasm bundle and its JS glue under `/pkg`, and of the stylesheet.
pub const OUTPUT_NAME: &str = "bidline";

/// The HTML document around the app, rendered only on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Stylesheet id="bidline" href=format!("/pkg/{OUTPUT_NAME}.css") />
        <Title text="Bidline" />
        <Router>
            <Routes fallback=pages::NotFound>
                <Route path=path!("/") view=pages::Home />
                <Route path=path!("/login") view=pages::Login />
                <Route path=path!("/signup") view=pages::Signup />
                <Route path=path!("/invite/:token") view=pages::Invite />
                // Rendered whole before the first byte leaves, so a signed-out visitor
                // gets a real 302 to /login and a refused page its 403.
                <ParentRoute path=path!("/app") view=pages::Shell ssr=SsrMode::Async>
                    <Route path=path!("") view=pages::Overview />
                    <Route path=path!("calls") view=pages::Calls />
                    <Route path=path!("calls/:id") view=pages::CallDetail />
                    <Route path=path!("reports") view=pages::Reports />
                    <Route path=path!("members") view=pages::Members />
                    <Route path=path!("api-keys") view=pages::ApiKeys />
                    <Route path=path!("audit") view=pages::AuditLog />
                    <Route path=path!("settings") view=pages::Settings />
                    <Route path=path!("billing") view=pages::Billing />
                    <Route path=path!("campaigns") view=|| view! { <pages::ObjectList kind=Kind::Campaign /> } />
                    <Route path=path!("campaigns/:id") view=|| view! { <pages::ObjectDetail kind=Kind::Campaign /> } />
                    <Route path=path!("publishers") view=|| view! { <pages::ObjectList kind=Kind::Publisher /> } />
                    <Route path=path!("publishers/:id") view=|| view! { <pages::ObjectDetail kind=Kind::Publisher /> } />
                    <Route path=path!("buyers") view=|| view! { <pages::ObjectList kind=Kind::Buyer /> } />
                    <Route path=path!("buyers/:id") view=|| view! { <pages::ObjectDetail kind=Kind::Buyer /> } />
                    <Route path=path!("targets") view=|| view! { <pages::ObjectList kind=Kind::Target /> } />
                    <Route path=path!("targets/:id") view=|| view! { <pages::ObjectDetail kind=Kind::Target /> } />
                    <Route path=path!("numbers") view=|| view! { <pages::ObjectList kind=Kind::Number /> } />
                    <Route path=path!("numbers/import") view=pages::ImportNumbers />
                    <Route path=path!("numbers/:id") view=|| view! { <pages::ObjectDetail kind=Kind::Number /> } />
                    <Route path=path!("dni-pools") view=|| view! { <pages::ObjectList kind=Kind::DniPool /> } />
                    <Route path=path!("dni-pools/:id") view=|| view! { <pages::ObjectDetail kind=Kind::DniPool /> } />
                    <Route path=path!("trunks") view=|| view! { <pages::ObjectList kind=Kind::Trunk /> } />
                    <Route path=path!("trunks/:id") view=|| view! { <pages::ObjectDetail kind=Kind::Trunk /> } />
                    <Route path=path!("blocked-callers") view=|| view! { <pages::ObjectList kind=Kind::BlockedCaller /> } />
                    <Route path=path!("blocked-callers/:id") view=|| view! { <pages::ObjectDetail kind=Kind::BlockedCaller /> } />
                    <Route path=path!("webhooks") view=|| view! { <pages::ObjectList kind=Kind::Webhook /> } />
                    <Route path=path!("webhooks/:id") view=|| view! { <pages::ObjectDetail kind=Kind::Webhook /> } />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
