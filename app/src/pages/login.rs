//! Sign in.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::forms::{Field, FormError, last_error};
use crate::auth::Login as LoginFn;

#[component]
pub fn Login() -> impl IntoView {
    let login = ServerAction::<LoginFn>::new();
    let error = last_error(login.value());
    let navigate = use_navigate();
    let query = use_query_map();
    Effect::new(move |_| {
        if let Some(Ok(())) = login.value().get() {
            let next = query.with_untracked(|query| query.get("next"));
            navigate(&local_path(next.as_deref()), Default::default());
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

/// Where to go after signing in: `next` when it is a path of this site (never another
/// host, so the link cannot send people elsewhere), else the dashboard.
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/app".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::local_path;

    #[test]
    fn only_paths_of_this_site_are_followed_after_sign_in() {
        assert_eq!(local_path(Some("/invite/inv_abc")), "/invite/inv_abc");
        assert_eq!(local_path(None), "/app");
        for elsewhere in ["https://evil.example/", "//evil.example/x", "/\\evil.example", "invite"]
        {
            assert_eq!(local_path(Some(elsewhere)), "/app", "{elsewhere}");
        }
    }
}
