//! API keys: create (the key is shown once), list, revoke. Owners and admins only.

use leptos::prelude::*;
use leptos_meta::Title;

use super::forms::{FormError, RoleSelect, ShownOnce, failure, last_error, loading};
use crate::{
    api_keys::{ApiKeyView, CreateApiKey, RevokeApiKey, list_api_keys},
    auth::Viewer,
    roles::Role,
};

#[component]
pub fn ApiKeys() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_keys(),
    );
    let create_error = last_error(create.value());
    let revoke_error = last_error(revoke.value());
    let grantable: Vec<Role> =
        Role::ALL.into_iter().filter(|role| viewer.role.may_grant(*role)).collect();

    view! {
        <Title text="API keys · Bidline" />
        <h1>"API keys"</h1>
        <p class="lede">
            "A key lets a program call the REST API (" <code>"/api/v1"</code>
            ") as this organization, with the role you give it."
        </p>

        <section class="panel" aria-labelledby="new-key">
            <h2 id="new-key">"New key"</h2>
            <ActionForm action=create attr:class="inline-form" attr:id="create-key-form">
                <div class="field">
                    <label for="key-name">"Name"</label>
                    <input id="key-name" name="name" required=true placeholder="e.g. Reporting script" />
                </div>
                <div class="field">
                    <label for="key-role">"Role"</label>
                    <RoleSelect id="key-role" name="role" roles=grantable selected=Role::Analyst />
                </div>
                <button type="submit" disabled=move || create.pending().get()>"Create key"</button>
            </ActionForm>
            <FormError error=create_error />
            {move || {
                create
                    .value()
                    .get()
                    .and_then(Result::ok)
                    .map(|created| {
                        view! {
                            <ShownOnce
                                id="new-key-secret"
                                label="The new API key"
                                heading="Copy this key now."
                                note="It is shown only once; Bidline keeps only a fingerprint of it."
                                value=created.secret
                            />
                        }
                    })
            }}
        </section>

        <section aria-labelledby="key-list">
            <h2 id="key-list">"Keys"</h2>
            <FormError error=revoke_error />
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(keys) if keys.is_empty() => {
                            view! {
                                <p class="empty-state">
                                    "No API keys yet. Create one above, then send it as "
                                    <code>"Authorization: Bearer <key>"</code>
                                    " to " <code>"/api/v1/me"</code> " to check it works."
                                </p>
                            }
                                .into_any()
                        }
                        Ok(keys) => view! { <KeyTable keys revoke /> }.into_any(),
                        Err(error) => failure(&error),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn KeyTable(keys: Vec<ApiKeyView>, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    view! {
        <div class="table-scroll" tabindex="0">
            <table class="data">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Key"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last used"</th>
                        <th scope="col">"Status"</th>
                    </tr>
                </thead>
                <tbody>
                    {keys.into_iter().map(|key| view! { <KeyRow key revoke /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn KeyRow(key: ApiKeyView, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let id = key.id.clone();
    let status = match key.revoked_at {
        Some(at) => view! { <span class="muted">"Revoked " {day(&at)}</span> }.into_any(),
        None => view! {
            <Show
                when=move || confirming.get()
                fallback=move || {
                    view! {
                        <button class="secondary" on:click=move |_| confirming.set(true)>
                            "Revoke"
                        </button>
                    }
                }
            >
                {
                    let id = id.clone();
                    view! {
                        <button
                            class="danger"
                            on:click=move |_| {
                                revoke.dispatch(RevokeApiKey { id: id.clone() });
                            }
                        >
                            "Confirm revoke"
                        </button>
                        <button class="secondary" on:click=move |_| confirming.set(false)>
                            "Keep"
                        </button>
                    }
                }
            </Show>
        }
        .into_any(),
    };
    view! {
        <tr>
            <td>{key.name}</td>
            <td>{key.role.as_str()}</td>
            <td>
                <code>{key.key_prefix}"…"</code>
            </td>
            <td class="when">{day(&key.created_at)}</td>
            <td>{key.last_used_at.as_deref().map(day).unwrap_or_else(|| "never".to_owned())}</td>
            <td>{status}</td>
        </tr>
    }
}

/// `2026-11-25T09:30:00.000Z` → `2026-11-25 09:30 UTC`.
pub(super) fn day(rfc3339: &str) -> String {
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(date), Some(time)) => format!("{date} {time} UTC"),
        _ => rfc3339.to_owned(),
    }
}
