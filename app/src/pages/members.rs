//! Members and invitations: who is in the organization, with which role, and links
//! that let new people in. Owners and admins only.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{
    api_keys::day,
    forms::{FormError, RoleSelect, ShownOnce, failure, last_error, loading},
};
use crate::{
    auth::Viewer,
    members::{
        ChangeMemberRole, CreateInvitation, InvitationView, MemberView, RemoveMember,
        RevokeInvitation, list_invitations, list_members,
    },
    roles::Role,
};

#[component]
pub fn Members() -> impl IntoView {
    let viewer = expect_context::<Viewer>();
    let change = ServerAction::<ChangeMemberRole>::new();
    let remove = ServerAction::<RemoveMember>::new();
    let invite = ServerAction::<CreateInvitation>::new();
    let revoke = ServerAction::<RevokeInvitation>::new();
    let members =
        Resource::new(move || (change.version().get(), remove.version().get()), |_| list_members());
    let invitations = Resource::new(
        move || (invite.version().get(), revoke.version().get()),
        |_| list_invitations(),
    );
    let grantable: Vec<Role> =
        Role::ALL.into_iter().filter(|role| viewer.role.may_grant(*role)).collect();
    let table_grantable = grantable.clone();
    let member_error = Signal::derive({
        let (change, remove) = (last_error(change.value()), last_error(remove.value()));
        move || change.get().or_else(|| remove.get())
    });

    view! {
        <Title text="Members · Bidline" />
        <h1>"Members"</h1>

        <section aria-labelledby="member-list">
            <h2 id="member-list" class="visually-hidden">"Members"</h2>
            <FormError error=member_error />
            <Suspense fallback=loading>
                {
                    let grantable = table_grantable;
                    move || {
                        let grantable = grantable.clone();
                        Suspend::new(async move {
                            match members.await {
                                Ok(members) => {
                                    view! { <MemberTable members grantable change remove /> }.into_any()
                                }
                                Err(error) => failure(&error),
                            }
                        })
                    }
                }
            </Suspense>
        </section>

        <section class="panel" aria-labelledby="invite">
            <h2 id="invite">"Invite someone"</h2>
            <p>
                "An invite link lets one person join with the role you choose. "
                "It works once and for 7 days; send it to them yourself."
            </p>
            <ActionForm action=invite attr:class="inline-form" attr:id="invite-form">
                <div class="field">
                    <label for="invite-role">"Role"</label>
                    <RoleSelect id="invite-role" name="role" roles=grantable selected=Role::Analyst />
                </div>
                <button type="submit" disabled=move || invite.pending().get()>"Create invite link"</button>
            </ActionForm>
            <FormError error=last_error(invite.value()) />
            {move || {
                invite
                    .value()
                    .get()
                    .and_then(Result::ok)
                    .map(|created| {
                        view! {
                            <ShownOnce
                                id="invite-link"
                                label="The invite link"
                                heading="Copy this link now."
                                note="It is shown only once."
                                value=absolute(&created.path)
                            />
                        }
                    })
            }}
        </section>

        <section aria-labelledby="pending">
            <h2 id="pending">"Pending invitations"</h2>
            <FormError error=last_error(revoke.value()) />
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match invitations.await {
                        Ok(pending) if pending.is_empty() => {
                            view! {
                                <p class="empty-state">
                                    "No pending invitations. Create a link above to bring in a colleague."
                                </p>
                            }
                                .into_any()
                        }
                        Ok(pending) => view! { <InvitationTable pending revoke /> }.into_any(),
                        Err(error) => failure(&error),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The link with this page's origin, so it can be pasted anywhere.
fn absolute(path: &str) -> String {
    #[cfg(feature = "hydrate")]
    if let Ok(origin) = window().location().origin() {
        return format!("{origin}{path}");
    }
    path.to_owned()
}

#[component]
fn MemberTable(
    members: Vec<MemberView>,
    grantable: Vec<Role>,
    change: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    view! {
        <div class="table-scroll" tabindex="0">
            <table class="data" id="members">
                <thead>
                    <tr>
                        <th scope="col">"Email"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Joined"</th>
                        <th scope="col">
                            <span class="visually-hidden">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {members
                        .into_iter()
                        .map(|member| {
                            let grantable = grantable.clone();
                            view! { <MemberRow member grantable change remove /> }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn MemberRow(
    member: MemberView,
    grantable: Vec<Role>,
    change: ServerAction<ChangeMemberRole>,
    remove: ServerAction<RemoveMember>,
) -> impl IntoView {
    // A role outside what the viewer may grant is shown, not offered; nor is one's own
    // membership, which the server would refuse to leave without an owner anyway.
    let editable = grantable.contains(&member.role) && !member.is_you;
    let user_id = member.user_id.clone();
    let remove_id = member.user_id.clone();
    let role_label = format!("Role of {}", member.email);
    let role_cell = if editable {
        view! {
            <select
                aria-label=role_label
                on:change=move |event| {
                    if let Some(role) = Role::parse(&event_target_value(&event)) {
                        change.dispatch(ChangeMemberRole { user_id: user_id.clone(), role });
                    }
                }
            >
                {grantable
                    .into_iter()
                    .map(|role| {
                        view! {
                            <option value=role.as_str() selected=role == member.role>
                                {role.as_str()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        }
        .into_any()
    } else {
        view! { <span>{member.role.as_str()}</span> }.into_any()
    };
    view! {
        <tr>
            <td>
                {member.email.clone()}
                {member.is_you.then(|| view! { <span class="muted">" (you)"</span> })}
            </td>
            <td>{role_cell}</td>
            <td class="when">{day(&member.joined_at)}</td>
            <td>
                {editable
                    .then(|| {
                        view! {
                            <button
                                class="secondary"
                                on:click=move |_| {
                                    remove.dispatch(RemoveMember { user_id: remove_id.clone() });
                                }
                            >
                                "Remove"
                            </button>
                        }
                    })}
            </td>
        </tr>
    }
}

#[component]
fn InvitationTable(
    pending: Vec<InvitationView>,
    revoke: ServerAction<RevokeInvitation>,
) -> impl IntoView {
    view! {
        <div class="table-scroll" tabindex="0">
            <table class="data" id="invitations">
                <thead>
                    <tr>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Created by"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">
                            <span class="visually-hidden">"Actions"</span>
                        </th>
                    </tr>
                </thead>
                <tbody>
                    {pending
                        .into_iter()
                        .map(|invitation| {
                            let id = invitation.id.clone();
                            view! {
                                <tr>
                                    <td>{invitation.role.as_str()}</td>
                                    <td>{invitation.created_by.unwrap_or_default()}</td>
                                    <td class="when">{day(&invitation.expires_at)}</td>
                                    <td>
                                        <button
                                            class="secondary"
                                            on:click=move |_| {
                                                revoke.dispatch(RevokeInvitation { id: id.clone() });
                                            }
                                        >
                                            "Revoke"
                                        </button>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
}
