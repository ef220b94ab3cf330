//! What an object page shows besides its form, per kind: a campaign's figures, DNI and
//! ring tree, a target's test ping, a buyer's postback keys and invoices, a webhook's
//! secret and deliveries.
//!
//! Each kind's route names its [`Sections`], so their code is reached from that route
//! alone and lands in its group's chunk of the wasm: a publisher's page does not
//! download the ring-tree editor.

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
///
/// Plain functions rather than a generic parameter: the object page is compiled once,
/// and each kind's sections are reached only from its own route.
#[derive(Clone, Copy)]
pub struct Sections {
    above: fn(&Shown) -> AnyView,
    below: fn(Shown) -> AnyView,
}

impl Sections {
    pub fn above(self, shown: &Shown) -> AnyView {
        (self.above)(shown)
    }

    pub fn below(self, shown: Shown) -> AnyView {
        (self.below)(shown)
    }
}

/// A kind whose page is its form and history alone.
pub const PLAIN: Sections = Sections { above: |_| ().into_any(), below: |_| ().into_any() };

/// A campaign's figures for today and its DNI snippet, then its ring tree.
pub const CAMPAIGN: Sections = Sections {
    above: |shown| {
        let campaign_id = shown.id.clone();
        view! {
            <CampaignToday campaign_id=campaign_id.clone() />
            <CampaignDni campaign_id />
        }
        .into_any()
    },
    below: |shown| {
        let Shown { id, ring_tree, edits, .. } = shown;
        ring_tree
            .map(|RingTreeData { entries, targets }| {
                view! { <RingTreeEditor campaign_id=id tree=entries targets edits /> }
            })
            .into_any()
    },
};

/// An RTB target's test ping.
pub const TARGET: Sections = Sections {
    above: |_| ().into_any(),
    below: |shown| {
        let rtb = shown.object["revenue"]["kind"] == "rtb";
        (shown.edits && rtb).then(|| view! { <TestPing target_id=shown.id /> }).into_any()
    },
};

/// A buyer's postback keys and invoices.
pub const BUYER: Sections = Sections {
    above: |_| ().into_any(),
    below: |shown| {
        let Shown { id, edits, administers, .. } = shown;
        view! {
            <webhooks::PostbackKeys buyer_id=id.clone() edits />
            {administers.then(|| view! { <BuyerInvoices buyer_id=id /> })}
        }
        .into_any()
    },
};

/// A webhook's secret rotation and deliveries.
pub const WEBHOOK: Sections = Sections {
    above: |_| ().into_any(),
    below: |shown| {
        let Shown { id, edits, .. } = shown;
        view! {
            {edits.then(|| view! { <webhooks::RotateSecret webhook_id=id.clone() /> })}
            <webhooks::Deliveries webhook_id=id edits />
        }
        .into_any()
    },
};
