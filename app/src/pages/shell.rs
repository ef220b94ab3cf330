//! The signed-in layout: top bar (organization switcher, user menu), navigation, and
//! the page. Only signed-in members see it; anyone else is sent to the sign-in page.
//! Navigation lists only pages that exist and that the member's role may open; the
//! server enforces the same rules on every server function.

use leptos::prelude::*;
use leptos_router::{
    components::{A, Outlet, Redirect},
    hooks::use_location,
};

use super::forms::{failure, loading};
use crate::{
    auth::{Logout, SwitchOrg, Viewer, current_viewer},
    errors::AppError,
    network::Kind,
    roles::Permission,
};

#[component]
pub fn Shell() -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let switch = ServerAction::<SwitchOrg>::new();
    let viewer = Resource::new(
        move || (logout.version().get(), switch.version().get()),
        |_| current_viewer(),
    );

    view! {
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match viewer.await {
                    Ok(Some(viewer)) => {
                        provide_context(viewer.clone());
                        view! { <Layout viewer logout switch /> }.into_any()
                    }
                    Ok(None) | Err(AppError::SignedOut) => {
                        view! { <Redirect path="/login" /> }.into_any()
                    }
                    Err(error) => view! { <main class="page narrow">{failure(&error)}</main> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A notice for the page a form goes to once it is done ("Campaign created."): shown
/// on that page, gone at the next move.
#[derive(Clone, Copy)]
pub struct Notice(RwSignal<Option<(String, String)>>);

impl Notice {
    /// Shows `text` on the page at `path` (where the caller is about to go).
    pub fn show(self, path: String, text: String) {
        self.0.set(Some((path, text)));
    }
}

#[component]
fn Layout(
    viewer: Viewer,
    logout: ServerAction<Logout>,
    switch: ServerAction<SwitchOrg>,
) -> impl IntoView {
    let administers = viewer.role.allows(Permission::Administer);
    let owns = viewer.role.allows(Permission::Own);
    let billing_alert = viewer.billing_alert.clone();
    // Below 768 px the navigation folds behind a button, and folds again on every move.
    let nav_open = RwSignal::new(false);
    let location = use_location();
    let notice = Notice(RwSignal::new(None));
    provide_context(notice);
    Effect::new(move |_| {
        let path = location.pathname.get();
        nav_open.set(false);
        if notice.0.with_untracked(|n| n.as_ref().is_some_and(|(at, _)| *at != path)) {
            notice.0.set(None);
        }
    });
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <div class="app">
            <header class="topbar">
                <button
                    type="button"
                    class="nav-toggle secondary"
                    aria-controls="main-nav"
                    aria-expanded=move || nav_open.get().to_string()
                    on:click=move |_| nav_open.update(|open| *open = !*open)
                >
                    "Menu"
                </button>
                <a class="brand" href="/app">"Bidline"</a>
                <OrgSwitcher viewer=viewer.clone() switch />
                <details class="user-menu">
                    <summary>
                        <span class="email">{viewer.email.clone()}</span>
                        <span class="role">{viewer.role.as_str()}</span>
                    </summary>
                    <div class="menu">
                        <ActionForm action=logout>
                            <button type="submit" id="sign-out">"Sign out"</button>
                        </ActionForm>
                    </div>
                </details>
            </header>
            <div class="frame">
                <nav id="main-nav" class="sidenav" class:open=move || nav_open.get() aria-label="Main">
                    <A href="/app" exact=true>"Overview"</A>
                    <A href="/app/calls">"Calls"</A>
                    <A href="/app/reports">"Reports"</A>
                    {Kind::ALL
                        .into_iter()
                        .map(|kind| {
                            view! { <A href=format!("/app/{}", kind.plural())>{kind.title()}</A> }
                        })
                        .collect_view()}
                    {administers
                        .then(|| {
                            view! {
                                <A href="/app/members">"Members"</A>
                                <A href="/app/api-keys">"API keys"</A>
                                <A href="/app/audit">"Audit log"</A>
                            }
                        })}
                    {owns.then(|| view! { <A href="/app/billing">"Billing"</A> })}
                    <A href="/app/settings">"Settings"</A>
                </nav>
                <main id="main" class="content">
                    {billing_alert
                        .map(|alert| {
                            view! {
                                <p class="form-error billing-alert" role="alert" id="billing-alert">
                                    {alert}
                                    " "
                                    <A href="/app/billing">"Go to Billing"</A>
                                </p>
                            }
                        })}
                    {move || {
                        notice.0.get().map(|(_, text)| {
                            view! { <p class="panel notice success" role="status" id="notice">{text}</p> }
                        })
                    }}
                    <Outlet />
                </main>
            </div>
        </div>
    }
}

/// The current organization; a menu of the others when the user has several.
#[component]
fn OrgSwitcher(viewer: Viewer, switch: ServerAction<SwitchOrg>) -> impl IntoView {
    if viewer.orgs.len() < 2 {
        return view! { <span class="org-name">{viewer.org_name}</span> }.into_any();
    }
    let current = viewer.org_id.clone();
    view! {
        <label class="org-switcher">
            <span class="visually-hidden">"Organization"</span>
            <select
                id="org-switcher"
                on:change=move |event| {
                    switch.dispatch(SwitchOrg { org_id: event_target_value(&event) });
                }
            >
                {viewer
                    .orgs
                    .into_iter()
                    .map(|org| {
                        let selected = org.id == current;
                        view! {
                            <option value=org.id selected=selected>
                                {org.name}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
    }
    .into_any()
}
