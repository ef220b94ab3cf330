//! Create an organization and its owner.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use super::forms::{Field, FormError, last_error};
use crate::auth::Signup as SignupFn;

#[component]
pub fn Signup() -> impl IntoView {
    let signup = ServerAction::<SignupFn>::new();
    let error = last_error(signup.value());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = signup.value().get() {
            navigate("/app", Default::default());
        }
    });

    view! {
        <Title text="Create an account · Bidline" />
        <main class="page narrow">
            <h1>"Create your Bidline account"</h1>
            <p class="lede">"Your organization is where your campaigns, buyers and calls live."</p>
            <ActionForm action=signup attr:class="stack" attr:id="signup-form">
                <Field name="org_name" label="Organization name" autocomplete="organization" error />
                <Field name="email" label="Your email" kind="email" autocomplete="email" error />
                <Field
                    name="password"
                    label="Password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 10 characters; a passphrase is best."
                    error
                />
                <FormError error />
                <button type="submit" disabled=move || signup.pending().get()>
                    "Create account"
                </button>
            </ActionForm>
            <p>"Already have an account? " <a href="/login">"Sign in"</a></p>
        </main>
    }
}
