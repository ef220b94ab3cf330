//! The security audit log: sign-ins, keys, members and roles. Owners and admins only.

use leptos::prelude::*;
use leptos_meta::Title;

use super::{
    api_keys::day,
    forms::{failure, loading},
};
use crate::audit::{AuditEntryView, list_audit_events};

#[component]
pub fn AuditLog() -> impl IntoView {
    // Each "Older" click appends the next page.
    let entries = RwSignal::new(Vec::<AuditEntryView>::new());
    let cursor = RwSignal::new(None::<String>);
    let more = Action::new(move |cursor: &Option<String>| list_audit_events(cursor.clone()));
    let first = Resource::new(|| (), |_| list_audit_events(None));
    Effect::new(move |_| {
        if let Some(Ok(page)) = more.value().get() {
            entries.update(|entries| entries.extend(page.items));
            cursor.set(page.next_cursor);
        }
    });

    view! {
        <Title text="Audit log · Bidline" />
        <h1>"Audit log"</h1>
        <p class="lede">"Sign-ins, API keys, members and roles: who did what, when, from where."</p>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match first.await {
                    Ok(page) => {
                        entries.set(page.items);
                        cursor.set(page.next_cursor);
                        view! {
                            <div class="table-scroll" tabindex="0">
                                <table class="data" id="audit">
                                    <thead>
                                        <tr>
                                            <th scope="col">"When"</th>
                                            <th scope="col">"Who"</th>
                                            <th scope="col">"What"</th>
                                            <th scope="col">"Details"</th>
                                            <th scope="col">"From"</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        <For
                                            each=move || entries.get()
                                            key=|entry| entry.id.clone()
                                            children=|entry| {
                                                view! {
                                                    <tr>
                                                        <td class="when">{day(&entry.at)}</td>
                                                        <td>{entry.actor}</td>
                                                        <td>
                                                            <code>{entry.action}</code>
                                                        </td>
                                                        <td class="detail">{entry.detail}</td>
                                                        <td>{entry.ip.unwrap_or_default()}</td>
                                                    </tr>
                                                }
                                            }
                                        />
                                    </tbody>
                                </table>
                            </div>
                            <Show when=move || cursor.get().is_some()>
                                <button
                                    class="secondary"
                                    on:click=move |_| {
                                        more.dispatch(cursor.get());
                                    }
                                >
                                    "Older"
                                </button>
                            </Show>
                        }
                            .into_any()
                    }
                    Err(error) => failure(&error),
                }
            })}
        </Suspense>
    }
}
