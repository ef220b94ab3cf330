//! Webhooks and pixels: events about an organization's calls, sent to the endpoints it
//! configured, signed, and retried until they land or a day has passed.
//!
//! The path of an event:
//! 1. The call recorder describes the change ([`Notice`](crate::calls::outbox::Notice)) and hands it to the call record
//!    writer with the change itself; both are written in one transaction, into `calls`
//!    and into the outbox (`webhook_events`). A change that is recorded has its events.
//! 2. The [`dispatch`]er turns each outbox event into one delivery per matching endpoint
//!    (`webhook_deliveries`), rendering the request once, and marks the event dispatched
//!    in the same transaction.
//! 3. The [`deliver`]y worker sends due deliveries, each endpoint at most its concurrency
//!    at a time and each call's deliveries to an endpoint in the order they happened, and
//!    records every attempt. A delivery keeps its id across attempts and restarts, so a
//!    receiver dedupes on `Bidline-Delivery`.

pub mod deliver;
pub mod dispatch;
pub mod endpoint;
pub mod log;
pub mod signature;

use serde::{Deserialize, Serialize};

/// What happened to a call, as endpoints subscribe to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "WebhookEvent")]
pub enum Event {
    /// The call reached a campaign's number (routing starts).
    #[serde(rename = "call.incoming")]
    CallIncoming,
    /// The auction ranked buyers to ring.
    #[serde(rename = "call.routed")]
    CallRouted,
    /// A buyer answered.
    #[serde(rename = "call.answered")]
    CallAnswered,
    /// The call ended, however it ended (its `status` says how).
    #[serde(rename = "call.completed")]
    CallCompleted,
    /// The call converted: at its end, or later by a buyer's postback.
    #[serde(rename = "call.converted")]
    CallConverted,
    /// The caller called the campaign within its duplicate window.
    #[serde(rename = "call.duplicate")]
    CallDuplicate,
    /// A buyer's bid won the call (its target answered).
    #[serde(rename = "bid.won")]
    BidWon,
    /// A buyer's postback changed the call's conversion or revenue.
    #[serde(rename = "call.adjusted")]
    CallAdjusted,
}

impl Event {
    pub const ALL: [Event; 8] = [
        Event::CallIncoming,
        Event::CallRouted,
        Event::CallAnswered,
        Event::CallCompleted,
        Event::CallConverted,
        Event::CallDuplicate,
        Event::BidWon,
        Event::CallAdjusted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::CallIncoming => "call.incoming",
            Self::CallRouted => "call.routed",
            Self::CallAnswered => "call.answered",
            Self::CallCompleted => "call.completed",
            Self::CallConverted => "call.converted",
            Self::CallDuplicate => "call.duplicate",
            Self::BidWon => "bid.won",
            Self::CallAdjusted => "call.adjusted",
        }
    }

    pub fn parse(text: &str) -> Option<Event> {
        Self::ALL.into_iter().find(|event| event.as_str() == text)
    }
}

/// The events some endpoint of an organization wants: only those go into the outbox.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventSet(u32);

impl EventSet {
    pub fn contains(self, event: Event) -> bool {
        self.0 & Self::bit(event) != 0
    }

    pub fn insert(&mut self, event: Event) {
        self.0 |= Self::bit(event);
    }

    fn bit(event: Event) -> u32 {
        1 << Event::ALL.iter().position(|e| *e == event).unwrap_or_default()
    }
}

/// The tokens a webhook or pixel may use beyond the call's attributes
/// ([`crate::network::template::ATTRIBUTES`]): what the event and the call's outcome tell.
pub const TOKENS: &[&str] = &[
    "event",
    "delivery.id",
    "call.status",
    "call.started_at",
    "call.answered_at",
    "call.ended_at",
    "call.duration",
    "call.converted",
    "call.duplicate",
    "call.revenue",
    "call.revenue_cents",
    "call.payout",
    "call.payout_cents",
    "buyer.id",
    "target.id",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_read_back() {
        for event in Event::ALL {
            assert_eq!(Event::parse(event.as_str()), Some(event));
            assert_eq!(serde_json::to_value(event).unwrap(), event.as_str());
        }
        assert_eq!(Event::parse("call.nope"), None);
    }

    #[test]
    fn an_event_set_holds_what_was_put_in_it_and_nothing_else() {
        let mut set = EventSet::default();
        set.insert(Event::CallCompleted);
        set.insert(Event::BidWon);
        for event in Event::ALL {
            let expected = matches!(event, Event::CallCompleted | Event::BidWon);
            assert_eq!(set.contains(event), expected, "{event:?}");
        }
        assert!(Event::ALL.iter().all(|&e| !EventSet::default().contains(e)));
    }
}
