//! A buyer's invoices on its page (admins): each cycle's status, calls and total, its
//! page at Stripe and its statement; "Invoice last cycle now".

use leptos::prelude::*;

use super::{api_keys::day, forms::loading};
use crate::billing::{BuyerInvoiceRow, list_buyer_invoices, run_buyer_invoice};

#[component]
pub fn BuyerInvoices(buyer_id: String) -> impl IntoView {
    let invoices = RwSignal::new(None);
    let run = Action::new(move |buyer: &String| run_buyer_invoice(buyer.clone()));
    let load_for = buyer_id.clone();
    Effect::new(move |_| {
        run.version().track();
        let buyer_id = load_for.clone();
        leptos::task::spawn_local(async move {
            invoices.set(Some(list_buyer_invoices(buyer_id).await));
        });
    });
    let error = move || run.value().get().and_then(Result::err).map(|e| e.to_string());
    view! {
        <section class="panel" aria-labelledby="invoices-title">
            <h2 id="invoices-title">"Invoices"</h2>
            <p class="hint">
                "With invoicing on (above) and your Stripe account connected (Billing), each finished cycle is invoiced within a day of its end."
            </p>
            <button class="secondary" id="run-invoice" disabled=move || run.pending().get()
                on:click=move |_| { run.dispatch(buyer_id.clone()); }>
                "Invoice last cycle now"
            </button>
            <p class="form-error" role="alert" id="invoice-error">{error}</p>
            {move || match invoices.get() {
                None => loading().into_any(),
                Some(Ok(rows)) if rows.is_empty() => {
                    view! { <p class="empty-state" id="no-invoices">"No invoices yet."</p> }.into_any()
                }
                Some(Ok(rows)) => view! {
                    <div class="table-scroll" tabindex="0">
                        <table class="data" id="buyer-invoices">
                            <thead>
                                <tr>
                                    <th scope="col">"Cycle"</th>
                                    <th scope="col">"Status"</th>
                                    <th scope="col" class="num">"Calls"</th>
                                    <th scope="col" class="num">"Total"</th>
                                    <th scope="col">"Links"</th>
                                </tr>
                            </thead>
                            <tbody>{rows.into_iter().map(|row| view! { <InvoiceLine row /> }).collect_view()}</tbody>
                        </table>
                    </div>
                }
                    .into_any(),
                Some(Err(error)) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn InvoiceLine(row: BuyerInvoiceRow) -> impl IntoView {
    let total = format!("{}.{:02} USD", row.total_cents / 100, row.total_cents % 100);
    view! {
        <tr data-invoice=row.id.clone()>
            <td>{format!("{} – {}", day(&row.period_start), day(&row.period_end))}</td>
            <td class="status" title=row.last_error.clone().unwrap_or_default()>{row.status.clone()}</td>
            <td class="num">{row.calls}</td>
            <td class="num">{total}</td>
            <td>
                {row.hosted_invoice_url.clone().map(|url| view! { <a href=url rel="noopener">"Stripe"</a> " · " })}
                <a href=row.statement_url.clone()>"Statement"</a>
            </td>
        </tr>
    }
}
