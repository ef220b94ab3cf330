//! Sign in.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

use super::forms::{Field, FormError, last_error};
use crate::auth::Login as LoginFn;

#[component]
pub fn Login() -> impl IntoView {
    let login = ServerAction::<LoginFn>::new();
    let error = last_error(login.value());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = login.value().get() {
            navigate("/app", Default::default());
        }
    });

    view! {
        <Title text="Sign in · Bidline" />
        <main class="page narrow">
            <h1>"Sign in"</h1>
            <ActionForm action=login attr:class="stack" attr:id="login-form">
                <Field name="email" label="Email" kind="email" autocomplete="username" error />
                <Field
                    name="password"
                    label="Password"
                    kind="password"
                    autocomplete="current-password"
                    error
                />
                <FormError error />
                <button type="submit" disabled=move || login.pending().get()>
                    "Sign in"
                </button>
            </ActionForm>
            <p>"New to Bidline? " <a href="/signup">"Create an account"</a></p>
        </main>
    }
}
