//! The first page after sign-in: where the organization stands, and what to do next.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{auth::Viewer, roles::Permission};

#[component]
pub fn Overview() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let administers = viewer.role.allows(Permission::Administer);
    view! {
        <Title text=format!("{} · Bidline", viewer.org_name) />
        <h1>{viewer.org_name.clone()}</h1>
        <p class="lede">
            "You are signed in as " <strong>{viewer.email.clone()}</strong> ", "
            {viewer.role.as_str()} " of this organization."
        </p>
        <section class="panel empty-state">
            <h2>"Next steps"</h2>
            {if administers {
                view! {
                    <p>
                        "Connect your own systems to Bidline with an API key: "
                        <a href="/app/api-keys">"create one on the API keys page"</a>
                        ", then call " <code>"/api/v1"</code>
                        " with it in the Authorization header."
                    </p>
                }
                    .into_any()
            } else {
                view! {
                    <p>
                        "Your organization's owners and admins set Bidline up; "
                        "ask one of them what you should look at first."
                    </p>
                }
                    .into_any()
            }}
        </section>
    }
}
