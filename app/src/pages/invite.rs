//! `/invite/{token}`: join an organization by invitation — as the signed-in user, by
//! signing in, or by creating an account.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::forms::{Field, FormError, failure, last_error, loading};
use crate::{
    auth::current_viewer,
    members::{AcceptInvitation, open_invitation},
};

#[component]
pub fn Invite() -> impl IntoView {
    let params = use_params_map();
    let token = move || params.with(|p| p.get("token").unwrap_or_default());
    let invitation = Resource::new(token, open_invitation);
    let viewer = Resource::new(|| (), |_| current_viewer());
    let accept = ServerAction::<AcceptInvitation>::new();
    let error = last_error(accept.value());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = accept.value().get() {
            navigate("/app", Default::default());
        }
    });

    view! {
        <Title text="Invitation · Bidline" />
        <main class="page narrow">
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    let token = token();
                    match (invitation.await, viewer.await) {
                        (Ok(Some(invite)), Ok(viewer)) => {
                            view! {
                                <h1>"Join " {invite.org_name.clone()}</h1>
                                <p class="lede">
                                    "You are invited as " <strong>{invite.role.as_str()}</strong>
                                    ". The link works once, until " {invite.expires_at[..10].to_owned()}
                                    "."
                                </p>
                                {match viewer {
                                    Some(viewer) => {
                                        view! {
                                            <ActionForm action=accept attr:id="accept-form">
                                                <input type="hidden" name="token" value=token.clone() />
                                                <input type="hidden" name="email" value="" />
                                                <input type="hidden" name="password" value="" />
                                                <input type="hidden" name="new_account" value="false" />
                                                <button type="submit">
                                                    "Join as " {viewer.email}
                                                </button>
                                            </ActionForm>
                                        }
                                            .into_any()
                                    }
                                    None => {
                                        let sign_in = format!("/login?next=/invite/{token}");
                                        view! {
                                            <section class="panel">
                                                <h2>"New to Bidline"</h2>
                                                <ActionForm action=accept attr:class="stack" attr:id="join-new-form">
                                                    <input type="hidden" name="token" value=token.clone() />
                                                    <input type="hidden" name="new_account" value="true" />
                                                    <Field name="email" label="Your email" kind="email" autocomplete="email" error />
                                                    <Field
                                                        name="password"
                                                        label="Choose a password"
                                                        kind="password"
                                                        autocomplete="new-password"
                                                        hint="At least 10 characters; a passphrase is best."
                                                        error
                                                    />
                                                    <button type="submit">"Create account and join"</button>
                                                </ActionForm>
                                            </section>
                                            <section class="panel">
                                                <h2>"Already have an account"</h2>
                                                <p>
                                                    <a
                                                        id="sign-in-to-join"
                                                        href=sign_in
                                                    >
                                                        "Sign in"
                                                    </a>
                                                    ", and you will come back here to join."
                                                </p>
                                            </section>
                                        }
                                            .into_any()
                                    }
                                }}
                                <FormError error />
                            }
                                .into_any()
                        }
                        (Ok(None), _) => {
                            view! {
                                <h1>"This invitation cannot be used"</h1>
                                <p>
                                    "It was already used, revoked, or has expired. "
                                    "Ask whoever sent it for a new link."
                                </p>
                            }
                                .into_any()
                        }
                        (Err(error), _) | (_, Err(error)) => failure(&error),
                    }
                })}
            </Suspense>
        </main>
    }
}
