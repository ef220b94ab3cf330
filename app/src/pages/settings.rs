//! The user's own settings: change password.

use leptos::prelude::*;
use leptos_meta::Title;

use super::forms::{Field, FormError, TIME_ZONES, TimeZones, last_error};
use crate::{
    auth::Viewer,
    roles::Permission,
    settings::{ChangePassword, SetOrganizationTimeZone, organization_time_zone},
};

#[component]
pub fn Settings() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let change = ServerAction::<ChangePassword>::new();
    let error = last_error(change.value());
    view! {
        <Title text="Settings · Bidline" />
        <h1>"Settings"</h1>
        <p class="lede">"Signed in as " {viewer.email}</p>
        <section class="panel" aria-labelledby="password">
            <h2 id="password">"Change password"</h2>
            <p>"Every other session of yours ends; this one stays signed in."</p>
            <ActionForm action=change attr:class="stack" attr:id="password-form">
                <Field
                    name="current_password"
                    label="Current password"
                    kind="password"
                    autocomplete="current-password"
                    error
                />
                <Field
                    name="new_password"
                    label="New password"
                    kind="password"
                    autocomplete="new-password"
                    hint="At least 10 characters; a passphrase is best."
                    error
                />
                <FormError error />
                <button type="submit" disabled=move || change.pending().get()>"Change password"</button>
            </ActionForm>
            {move || {
                matches!(change.value().get(), Some(Ok(())))
                    .then(|| view! { <p class="success" role="status">"Your password is changed."</p> })
            }}
        </section>
        {viewer.role.allows(Permission::Administer).then(|| view! { <OrganizationZone /> })}
    }
}

/// The organization's time zone, which the call log's dates are read in.
#[component]
fn OrganizationZone() -> impl IntoView {
    let save = ServerAction::<SetOrganizationTimeZone>::new();
    let error = last_error(save.value());
    let current = Resource::new(move || save.version().get(), |_| organization_time_zone());
    view! {
        <section class="panel" aria-labelledby="zone">
            <h2 id="zone">"Organization time zone"</h2>
            <p>
                "Dates in the call log are read in "
                <Suspense>{move || current.get().and_then(Result::ok).map(|zone| view! { <strong id="current-zone">{zone}</strong> })}</Suspense>
                "."
            </p>
            <ActionForm action=save attr:class="stack" attr:id="zone-form">
                <Field name="time_zone" label="Time zone" kind="text" list=TIME_ZONES hint="Type a city or region, such as Chicago or America/New_York." error />
                <TimeZones />
                <FormError error />
                <button type="submit" disabled=move || save.pending().get()>"Save time zone"</button>
            </ActionForm>
        </section>
    }
}
