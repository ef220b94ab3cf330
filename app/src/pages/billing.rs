//! The Billing page (owners): the subscription's status, this period's usage by meter,
//! recent invoices, and the ways to Stripe (Checkout to subscribe, the customer portal
//! to manage payment methods).

use leptos::prelude::*;
use leptos_meta::Title;

use super::{
    api_keys::day,
    forms::{FormError, failure, last_error, loading},
};
use crate::billing::{
    BillingCheckout, BillingPortal, BillingView, ConnectInvoicing, DisconnectInvoicing,
    billing_overview, invoicing_connection,
};

#[component]
pub fn Billing() -> impl IntoView {
    let overview = Resource::new(|| (), |_| billing_overview());
    view! {
        <Title text="Billing · Bidline" />
        <h1>"Billing"</h1>
        <Suspense fallback=loading>
            {move || Suspend::new(async move {
                match overview.await {
                    Ok(view) if !view.enabled => {
                        view! {
                            <p class="lede" id="billing-off">
                                "Billing is not configured on this server: nothing is billed and no call is turned away for billing."
                            </p>
                            <Usage view />
                        }
                            .into_any()
                    }
                    Ok(view) => view! { <Enabled view /> }.into_any(),
                    Err(error) => failure(&error),
                }
            })}
        </Suspense>
        <Invoicing />
    }
}

#[component]
fn Enabled(view: BillingView) -> impl IntoView {
    let checkout = ServerAction::<BillingCheckout>::new();
    let portal = ServerAction::<BillingPortal>::new();
    // Stripe's pages are elsewhere: go there once the link is made.
    Effect::new(move |_| {
        let url = checkout.value().get().or_else(|| portal.value().get());
        if let Some(Ok(url)) = url {
            let _ = window().location().set_href(&url);
        }
    });
    let checkout_error = last_error(checkout.value());
    let portal_error = last_error(portal.value());
    let subscribed = view.subscribed;
    view! {
        <section class="panel" id="billing-status">
            <h2>"Plan"</h2>
            <p>
                "Status: "
                <strong id="billing-state">{status_text(&view.status)}</strong>
            </p>
            {view.past_due_since.clone().map(|since| view! {
                <p class="warning">
                    {format!("A payment failed on {}; Stripe is retrying it.", day(&since))}
                </p>
            })}
            {view.calls_blocked_from.clone().map(|from| {
                let text = if view.calls_blocked {
                    format!("New calls to your numbers are turned away (SIP 402) since {}. Update your payment method to take calls again.", day(&from))
                } else {
                    format!("New calls to your numbers will be turned away from {} unless the bill is paid.", day(&from))
                };
                view! { <p class="form-error" role="alert" id="billing-blocked">{text}</p> }
            })}
            <div class="actions">
                {(!subscribed).then(|| view! {
                    <button id="subscribe" on:click=move |_| { checkout.dispatch(BillingCheckout {}); }>
                        "Subscribe with Stripe"
                    </button>
                })}
                <button
                    id="manage-billing"
                    class=if subscribed { "" } else { "secondary" }
                    on:click=move |_| { portal.dispatch(BillingPortal {}); }
                >
                    "Manage payment methods and invoices"
                </button>
            </div>
            <FormError error=checkout_error />
            <FormError error=portal_error />
        </section>
        <Usage view=view.clone() />
        <Invoices view />
    }
}

fn status_text(status: &str) -> &'static str {
    match status {
        "active" => "Active",
        "past_due" => "Past due",
        "canceled" => "Canceled",
        _ => "Not subscribed",
    }
}

#[component]
fn Usage(view: BillingView) -> impl IntoView {
    view! {
        <section class="panel" id="billing-usage">
            <h2>"Usage this period"</h2>
            <p class="muted">
                {format!("{} to {}", day(&view.period_start), day(&view.period_end))}
                ". Answered minutes are rounded up per call; each active number counts once a day (UTC)."
            </p>
            <div class="table-scroll" tabindex="0">
                <table class="data">
                    <thead>
                        <tr>
                            <th scope="col">"Meter"</th>
                            <th scope="col" class="num">"Used"</th>
                            <th scope="col" class="num">"Reported to Stripe"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {view
                            .usage
                            .into_iter()
                            .map(|row| {
                                view! {
                                    <tr data-meter=row.meter.clone()>
                                        <td>{meter_name(&row.meter)}</td>
                                        <td class="num">{row.quantity}</td>
                                        <td class="num">{row.reported}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

fn meter_name(meter: &str) -> &'static str {
    match meter {
        "call_minutes" => "Call minutes",
        "rtb_pings" => "RTB pings",
        "number_days" => "Number-days",
        _ => "Other",
    }
}

#[component]
fn Invoices(view: BillingView) -> impl IntoView {
    let body = if let Some(error) = view.invoices_error {
        view! { <p class="form-error" role="alert">{error}</p> }.into_any()
    } else if view.invoices.is_empty() {
        view! { <p class="muted">"No invoices yet."</p> }.into_any()
    } else {
        view! {
            <div class="table-scroll" tabindex="0">
                <table class="data" id="invoices">
                    <thead>
                        <tr>
                            <th scope="col">"Invoice"</th>
                            <th scope="col">"Date"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col" class="num">"Total"</th>
                        </tr>
                    </thead>
                    <tbody>
                        {view
                            .invoices
                            .into_iter()
                            .map(|invoice| {
                                let name = invoice.number.clone().unwrap_or(invoice.id.clone());
                                let link = match invoice.url.clone() {
                                    Some(url) => view! { <a href=url rel="noopener">{name}</a> }.into_any(),
                                    None => name.into_any(),
                                };
                                view! {
                                    <tr>
                                        <td>{link}</td>
                                        <td>{day(&invoice.created)}</td>
                                        <td>{invoice.status.unwrap_or_default()}</td>
                                        <td class="num">{money(invoice.total_cents, &invoice.currency)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
        }
            .into_any()
    };
    view! {
        <section class="panel" id="billing-invoices">
            <h2>"Invoices"</h2>
            {body}
        </section>
    }
}

/// `1234` usd → `12.34 USD`.
fn money(cents: i64, currency: &str) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    format!("{sign}{}.{:02} {}", cents / 100, cents % 100, currency.to_uppercase())
}

/// The organization's own Stripe account, for invoicing its buyers.
#[component]
fn Invoicing() -> impl IntoView {
    let connect = ServerAction::<ConnectInvoicing>::new();
    let disconnect = ServerAction::<DisconnectInvoicing>::new();
    let connection = Resource::new(
        move || (connect.version().get(), disconnect.version().get()),
        |_| invoicing_connection(),
    );
    let connect_error = last_error(connect.value());
    let key_error = move || connect_error.get().and_then(|e| e.field_message("stripe_secret_key"));
    view! {
        <section class="panel" id="buyer-invoicing">
            <h2>"Invoice your buyers"</h2>
            <p class="muted">
                "Connect your own Stripe account: buyers with invoicing on get an invoice each cycle, one line per campaign, with a statement of the calls."
            </p>
            <Suspense fallback=loading>
                {move || Suspend::new(async move {
                    match connection.await {
                        Ok(view) if view.connected => view! {
                            <p id="invoicing-connected">
                                "Connected with " <code>{view.key_hint.unwrap_or_default()}</code>
                                {view.connected_at.map(|at| format!(" since {}", day(&at)))}
                            </p>
                            <ActionForm action=disconnect>
                                <button type="submit" class="secondary" id="disconnect-invoicing">"Disconnect"</button>
                            </ActionForm>
                        }
                            .into_any(),
                        Ok(_) => view! {
                            <ActionForm action=connect attr:id="connect-invoicing">
                                <div class="field">
                                    <label for="field-stripe-secret-key">"Stripe secret key"</label>
                                    <input id="field-stripe-secret-key" name="stripe_secret_key" type="password" autocomplete="off" required=true />
                                    <p class="form-error" role="alert">{key_error}</p>
                                </div>
                                <button type="submit">"Connect"</button>
                            </ActionForm>
                        }
                            .into_any(),
                        Err(error) => failure(&error),
                    }
                })}
            </Suspense>
        </section>
    }
}
