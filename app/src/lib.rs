//! The Bidline dashboard as a Leptos application.
//!
//! Compiled twice: with `ssr` into the server (which renders every page and answers
//! server functions) and with `hydrate` into the browser's wasm (which takes over the
//! server-rendered page). Nothing here may depend on the server crate; what server
//! functions need from the server arrives through [`backend::Backend`] in context.

// A view's type nests as deep as its markup; the ring tree editor's passes rustc's default.
#![recursion_limit = "256"]

// The server renders and the wasm hydrates the same markup only when both erase component
// types alike (a placeholder follows an erased view that renders nothing).
#[cfg(not(erase_components))]
compile_error!(
    "bidline-app is built with `--cfg erase_components` (.cargo/config.toml); a RUSTFLAGS \
     variable replaces that: add `--cfg erase_components` to it"
);

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
mod routes;
pub mod settings;
pub mod setup;
pub mod status;
pub mod webhooks;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::{
    Lazy, SsrMode,
    components::{ParentRoute, Route, Router, Routes},
    path,
};
use routes::*;

/// Name of the wasm bundle and its JS glue in the site's asset folder, and of the
/// stylesheet.
pub const OUTPUT_NAME: &str = "bidline";

/// The HTML document around the app, rendered only on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let stylesheet = format!("/{}/{OUTPUT_NAME}.css", options.site_pkg_dir);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" href=stylesheet />
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
        <Title text="Bidline" />
        <Router>
            <Routes fallback=pages::NotFound>
                <Route path=path!("/") view=pages::Home />
                <Route path=path!("/login") view={Lazy::<LoginPage>::new()} />
                <Route path=path!("/signup") view={Lazy::<SignupPage>::new()} />
                <Route path=path!("/invite/:token") view={Lazy::<InvitePage>::new()} />
                // Rendered whole before the first byte leaves, so a signed-out visitor
                // gets a real 302 to /login and a refused page its 403.
                <ParentRoute path=path!("/app") view=pages::Shell ssr=SsrMode::Async>
                    <Route path=path!("") view={Lazy::<OverviewPage>::new()} />
                    <Route path=path!("calls") view={Lazy::<CallsPage>::new()} />
                    <Route path=path!("calls/:id") view={Lazy::<CallPage>::new()} />
                    <Route path=path!("reports") view={Lazy::<ReportsPage>::new()} />
                    <Route path=path!("members") view={Lazy::<MembersPage>::new()} />
                    <Route path=path!("api-keys") view={Lazy::<ApiKeysPage>::new()} />
                    <Route path=path!("audit") view={Lazy::<AuditPage>::new()} />
                    <Route path=path!("settings") view={Lazy::<SettingsPage>::new()} />
                    <Route path=path!("billing") view={Lazy::<BillingPage>::new()} />
                    <Route path=path!("campaigns") view={Lazy::<CampaignsPage>::new()} />
                    <Route path=path!("campaigns/:id") view={Lazy::<CampaignPage>::new()} />
                    <Route path=path!("publishers") view={Lazy::<PublishersPage>::new()} />
                    <Route path=path!("publishers/:id") view={Lazy::<PublisherPage>::new()} />
                    <Route path=path!("buyers") view={Lazy::<BuyersPage>::new()} />
                    <Route path=path!("buyers/:id") view={Lazy::<BuyerPage>::new()} />
                    <Route path=path!("targets") view={Lazy::<TargetsPage>::new()} />
                    <Route path=path!("targets/:id") view={Lazy::<TargetPage>::new()} />
                    <Route path=path!("numbers") view={Lazy::<NumbersPage>::new()} />
                    <Route path=path!("numbers/import") view={Lazy::<ImportNumbersPage>::new()} />
                    <Route path=path!("numbers/:id") view={Lazy::<NumberPage>::new()} />
                    <Route path=path!("dni-pools") view={Lazy::<DniPoolsPage>::new()} />
                    <Route path=path!("dni-pools/:id") view={Lazy::<DniPoolPage>::new()} />
                    <Route path=path!("trunks") view={Lazy::<TrunksPage>::new()} />
                    <Route path=path!("trunks/:id") view={Lazy::<TrunkPage>::new()} />
                    <Route path=path!("blocked-callers") view={Lazy::<BlockedCallersPage>::new()} />
                    <Route path=path!("blocked-callers/:id") view={Lazy::<BlockedCallerPage>::new()} />
                    <Route path=path!("webhooks") view={Lazy::<WebhooksPage>::new()} />
                    <Route path=path!("webhooks/:id") view={Lazy::<WebhookPage>::new()} />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
