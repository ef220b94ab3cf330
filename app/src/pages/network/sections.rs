//! What an object page shows besides its form, per kind: a campaign's figures, DNI and
//! ring tree, a target's test ping, a buyer's postback keys and invoices, a webhook's
//! secret and deliveries.
//!
//! Each kind's page is its own lazily loaded route, and names its [`Sections`] as a type,
//! so the code of these sections lands in that route's chunk of the wasm: a publisher's
//! page does not download the ring-tree editor.

use leptos::prelude::*;
use serde_json::Value;

use super::{ring_tree::RingTreeEditor, test_ping::TestPing};
use crate::network::RingTreeData;
use crate::pages::{
    buyer_invoices::BuyerInvoices, calls::CampaignToday, dni::CampaignDni, webhooks,
};

/// An object shown on its page, and what the viewer may do with it.
pub struct Shown {
    pub id: String,
    pub object: Value,
    pub ring_tree: Option<RingTreeData>,
    pub edits: bool,
    pub administers: bool,
}

/// A kind's sections: those above its form and those below it.
pub trait Sections: Copy + Send + Sync + 'static {
    fn above(self, _shown: &Shown) -> AnyView {
        ().into_any()
    }

    fn below(self, _shown: Shown) -> AnyView {
        ().into_any()
    }
}

/// A kind whose page is its form and history alone.
#[derive(Clone, Copy)]
pub struct Plain;

impl Sections for Plain {}

#[derive(Clone, Copy)]
pub struct Campaign;

impl Sections for Campaign {
    fn above(self, shown: &Shown) -> AnyView {
        let campaign_id = shown.id.clone();
        view! {
            <CampaignToday campaign_id=campaign_id.clone() />
            <CampaignDni campaign_id />
        }
        .into_any()
    }

    fn below(self, shown: Shown) -> AnyView {
        let Shown { id, ring_tree, edits, .. } = shown;
        ring_tree
            .map(|RingTreeData { entries, targets }| {
                view! { <RingTreeEditor campaign_id=id tree=entries targets edits /> }
            })
            .into_any()
    }
}

#[derive(Clone, Copy)]
pub struct Target;

impl Sections for Target {
    fn below(self, shown: Shown) -> AnyView {
        let rtb = shown.object["revenue"]["kind"] == "rtb";
        (shown.edits && rtb).then(|| view! { <TestPing target_id=shown.id /> }).into_any()
    }
}

#[derive(Clone, Copy)]
pub struct Buyer;

impl Sections for Buyer {
    fn below(self, shown: Shown) -> AnyView {
        let Shown { id, edits, administers, .. } = shown;
        view! {
            <webhooks::PostbackKeys buyer_id=id.clone() edits />
            {administers.then(|| view! { <BuyerInvoices buyer_id=id /> })}
        }
        .into_any()
    }
}

#[derive(Clone, Copy)]
pub struct Webhook;

impl Sections for Webhook {
    fn below(self, shown: Shown) -> AnyView {
        let Shown { id, edits, .. } = shown;
        view! {
            {edits.then(|| view! { <webhooks::RotateSecret webhook_id=id.clone() /> })}
            <webhooks::Deliveries webhook_id=id edits />
        }
        .into_any()
    }
}
