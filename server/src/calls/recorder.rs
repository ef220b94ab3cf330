//! Follows every call from the router's decision to its end: the SIP edge's events
//! become the call's timeline and status, the answered leg names the buyer and target,
//! claims on targets are let go as legs fail, and at the end the call's money is
//! settled. One task owns all live calls; what it learns goes to the [`Writer`].
//!
//! The router speaks first ([`Opened`], as soon as the call is known to be an
//! organization's, then [`Decided`] after the auction); edge events that arrive before
//! a call is opened wait for it a while, since both come from different tasks. For the
//! same reason the timeline is read in the order of its times (each stamped where it
//! happened), not of arrival here.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bidline_telephony::b2bua::{CallEvent, EndCause, EventKind, Side};
use chrono::{DateTime, Utc};
use serde_json::json;
use tokio::sync::mpsc;

use super::{
    BidRow, CallRow, Event, LiveFeed, Outcome, Status,
    counters::Counters,
    money::{self, Terms},
    outbox::Notice,
    recent::Recent,
    rollups::{self, BidFacts, CallFacts},
    writer::{Write, Writer},
};
use crate::{
    network::{publishers::Payout, targets::Target},
    webhooks::{self, EventSet},
};

/// Edge events of a call the router has not opened are kept this long.
const UNCLAIMED_EVENTS: Duration = Duration::from_secs(120);

/// A call the router knows whose it is.
#[derive(Debug)]
pub struct Opened {
    pub edge_call: u64,
    pub row: CallRow,
    pub payout: PayoutRule,
    /// The events the organization's webhooks want when the call came in: only those
    /// go into the outbox.
    pub webhook_events: EventSet,
}

/// What routing decided: the auction, and the legs in the order the edge rings them.
#[derive(Debug)]
pub struct Decided {
    pub edge_call: u64,
    /// The call's record id.
    pub call: uuid::Uuid,
    /// The status and reason routing ended the call with (refused, or nobody to ring).
    pub refused: Option<(Status, String)>,
    pub duplicate: bool,
    pub bids: Vec<BidRow>,
    pub events: Vec<Event>,
    pub legs: Vec<Leg>,
}

/// How the publisher is paid for this call.
#[derive(Clone, Debug)]
pub struct PayoutRule {
    pub payout: Option<Payout>,
    pub buffer_seconds: i64,
    pub pays_duplicates: bool,
}

/// One destination the edge will ring, claimed at its target.
#[derive(Clone, Debug)]
pub struct Leg {
    pub target: Target,
    /// Its row in the call's bids.
    pub bid: usize,
    pub bid_cents: i64,
    pub buffer_seconds: i64,
}

pub enum Message {
    Opened(Box<Opened>),
    Decided(Box<Decided>),
}

/// Tells the recorder what the router learned.
#[derive(Clone)]
pub struct Recorder {
    inbox: mpsc::UnboundedSender<Message>,
}

impl Recorder {
    pub fn opened(&self, opened: Opened) {
        let _ = self.inbox.send(Message::Opened(Box::new(opened)));
    }

    pub fn decided(&self, decided: Decided) {
        let _ = self.inbox.send(Message::Decided(Box::new(decided)));
    }

    /// A recorder, and its inbox to start once the edge's events are there.
    pub fn new() -> (Recorder, Inbox) {
        let (inbox, messages) = mpsc::unbounded_channel();
        (Recorder { inbox }, Inbox(messages))
    }
}

/// What the router said, waiting for [`Inbox::spawn`].
pub struct Inbox(mpsc::UnboundedReceiver<Message>);

impl Inbox {
    /// Starts the recorder on the edge's events. It runs until both the edge and every
    /// [`Recorder`] are gone; calls still live then are recorded as interrupted.
    pub fn spawn(
        self,
        events: mpsc::UnboundedReceiver<CallEvent>,
        writer: Writer,
        feed: LiveFeed,
        counters: Arc<Counters>,
        recent: Arc<Recent>,
    ) -> tokio::task::JoinHandle<()> {
        let state =
            State { writer, feed, counters, recent, live: HashMap::new(), waiting: HashMap::new() };
        tokio::spawn(state.run(self.0, events))
    }
}

struct Live {
    row: CallRow,
    payout: PayoutRule,
    bids: Vec<BidRow>,
    legs: Vec<Leg>,
    /// Per leg: its claim is still held (not failed, not connected, not let go).
    holding: Vec<bool>,
    connected: Option<usize>,
    webhook_events: EventSet,
    next_seq: i64,
    /// The place of the call's next webhook event.
    next_notice: i64,
    started: Option<Instant>,
    answered: Option<Instant>,
    /// What the rollups count of the call as last handed to the writer, and of its
    /// auction: each change carries what it replaces, so the writer reads nothing back.
    saved: Option<CallFacts>,
    saved_bids: Vec<BidFacts>,
}

struct State {
    writer: Writer,
    feed: LiveFeed,
    counters: Arc<Counters>,
    recent: Arc<Recent>,
    live: HashMap<u64, Live>,
    /// Edge events of calls not opened yet, with when the first arrived.
    waiting: HashMap<u64, (Instant, Vec<CallEvent>)>,
}

impl Live {
    /// The webhook events of a change to the call that some endpoint wants, in order
    /// (`bid.won` names the bid).
    fn notices(&mut self, events: &[webhooks::Event], bid: Option<&BidRow>) -> Vec<Notice> {
        events
            .iter()
            .filter(|&&event| self.webhook_events.contains(event))
            .map(|&event| {
                let seq = self.next_notice;
                self.next_notice += 1;
                let bid = bid.filter(|_| event == webhooks::Event::BidWon);
                Notice::of(event, &self.row, seq, bid)
            })
            .collect()
    }
}

impl Live {
    /// Writes the call's row as it is now, with the webhook events the change makes (and,
    /// once it ended, the buyers pinged for it), and shows it to live views.
    fn save(&mut self, writer: &Writer, feed: &LiveFeed, notices: Vec<Notice>, pings: Option<i64>) {
        let before = self.saved.replace(CallFacts::from(&self.row));
        writer.send(Write::Call { row: Box::new(self.row.clone()), before, notices, pings });
        // Nobody watching is fine.
        let _ = feed.send(Arc::new(self.row.clone()));
    }

    /// Writes the call's auction as it is now.
    fn save_bids(&mut self, writer: &Writer) {
        let before = std::mem::take(&mut self.saved_bids);
        self.saved_bids = rollups::upserted(&before, &self.bids);
        let call = CallFacts::from(&self.row);
        writer.send(Write::Bids { call, rows: self.bids.clone(), before });
    }
}

fn wall(at: std::time::SystemTime) -> DateTime<Utc> {
    at.into()
}

impl State {
    async fn run(
        mut self,
        mut messages: mpsc::UnboundedReceiver<Message>,
        mut events: mpsc::UnboundedReceiver<CallEvent>,
    ) {
        let mut sweep = tokio::time::interval(UNCLAIMED_EVENTS / 4);
        let (mut messages_open, mut events_open) = (true, true);
        while messages_open || events_open {
            tokio::select! {
                // The router's word first: it was said before the edge acted on it.
                biased;
                message = messages.recv(), if messages_open => match message {
                    Some(Message::Opened(opened)) => self.open(*opened),
                    Some(Message::Decided(decided)) => self.decide(*decided),
                    None => messages_open = false,
                },
                event = events.recv(), if events_open => match event {
                    Some(event) => self.on_event(event),
                    None => events_open = false,
                },
                _ = sweep.tick() => {
                    self.waiting.retain(|_, (since, _)| since.elapsed() < UNCLAIMED_EVENTS);
                }
            }
        }
        let ids: Vec<u64> = self.live.keys().copied().collect();
        for id in ids {
            self.interrupt(id);
        }
    }

    fn open(&mut self, opened: Opened) {
        let Opened { edge_call, row, payout, webhook_events } = opened;
        let mut live = Live {
            row,
            payout,
            bids: Vec::new(),
            legs: Vec::new(),
            holding: Vec::new(),
            connected: None,
            webhook_events,
            next_seq: 0,
            next_notice: 0,
            started: None,
            answered: None,
            saved: None,
            saved_bids: Vec::new(),
        };
        let incoming = live.notices(&[webhooks::Event::CallIncoming], None);
        live.save(&self.writer, &self.feed, incoming, None);
        self.live.insert(edge_call, live);
        if let Some((_, events)) = self.waiting.remove(&edge_call) {
            for event in events {
                self.on_event(event);
            }
        }
    }

    fn decide(&mut self, decided: Decided) {
        let Some(live) = self.live.get_mut(&decided.edge_call) else {
            // The call ended before routing did (the caller left during the auction):
            // nothing will ring, so the claims go.
            for leg in &decided.legs {
                self.counters.release(leg.target.id, decided.call);
            }
            return;
        };
        live.row.duplicate = decided.duplicate;
        if let Some((status, reason)) = decided.refused {
            live.row.status = status;
            live.row.end_reason = Some(reason);
        }
        let routed = live.row.status.is_live() && !decided.legs.is_empty();
        let events: Vec<webhooks::Event> = [
            (decided.duplicate, webhooks::Event::CallDuplicate),
            (routed, webhooks::Event::CallRouted),
        ]
        .into_iter()
        .filter_map(|(happened, event)| happened.then_some(event))
        .collect();
        live.bids = decided.bids;
        live.holding = vec![true; decided.legs.len()];
        live.legs = decided.legs;
        live.save_bids(&self.writer);
        let notices = live.notices(&events, None);
        live.save(&self.writer, &self.feed, notices, None);
        self.timeline(decided.edge_call, decided.events);
    }

    fn timeline(&mut self, edge_call: u64, events: Vec<Event>) {
        let Some(live) = self.live.get_mut(&edge_call) else { return };
        if events.is_empty() {
            return;
        }
        let first_seq = live.next_seq;
        live.next_seq += events.len() as i64;
        self.writer.send(Write::Events { call: live.row.id, first_seq, events });
    }

    fn on_event(&mut self, event: CallEvent) {
        let Some(live) = self.live.get_mut(&event.call) else {
            let waiting =
                self.waiting.entry(event.call).or_insert_with(|| (Instant::now(), Vec::new()));
            waiting.1.push(event);
            return;
        };
        let at = wall(event.at.wall);
        let target_of = |legs: &[Leg], leg: usize| legs.get(leg).map(|l| l.target.id);
        let (kind, detail) = match &event.kind {
            EventKind::Initiated { dialed, caller, source } => {
                live.started = Some(event.at.monotonic);
                live.row.started_at = at;
                (
                    "initiated",
                    json!({"dialed": dialed, "caller": caller, "source": source.to_string()}),
                )
            }
            EventKind::Routed { destinations } => ("routed", json!({"destinations": destinations})),
            EventKind::LegTrying { leg, uri } => (
                "leg.trying",
                json!({"leg": leg, "target_id": target_of(&live.legs, *leg), "uri": uri}),
            ),
            EventKind::LegRinging { leg, status } => (
                "leg.ringing",
                json!({"leg": leg, "target_id": target_of(&live.legs, *leg), "status": status}),
            ),
            EventKind::LegAnswered { leg } => {
                ("leg.answered", json!({"leg": leg, "target_id": target_of(&live.legs, *leg)}))
            }
            EventKind::LegFailed { leg, status, reason } => {
                if let Some(l) = live.legs.get(*leg) {
                    let bid = &mut live.bids[l.bid];
                    bid.outcome = Outcome::NoAnswer;
                    bid.reason = Some(format!("{status} {reason}"));
                    if std::mem::replace(&mut live.holding[*leg], false) {
                        self.counters.release(l.target.id, live.row.id);
                    }
                    live.save_bids(&self.writer);
                }
                (
                    "leg.failed",
                    json!({"leg": leg, "target_id": target_of(&live.legs, *leg), "status": status, "reason": reason}),
                )
            }
            EventKind::Bridged { leg } => {
                live.answered = Some(event.at.monotonic);
                live.connected = Some(*leg);
                live.row.status = Status::Connected;
                live.row.answered_at = Some(at);
                if let Some(l) = live.legs.get(*leg) {
                    live.row.target_id = Some(l.target.id);
                    live.row.buyer_id = Some(l.target.buyer_id);
                    live.row.bid_cents = Some(l.bid_cents);
                    live.row.buffer_seconds = Some(l.buffer_seconds);
                    let bid = &mut live.bids[l.bid];
                    bid.outcome = Outcome::Connected;
                    bid.won = true;
                    live.holding[*leg] = false;
                    self.counters.connect(&l.target, live.row.id, at);
                    if let Some(caller) = &live.row.caller {
                        self.recent.connected(live.row.campaign_id, caller, l.target.id, at);
                    }
                }
                // The legs after it will not ring.
                for (index, leg) in live.legs.iter().enumerate() {
                    if std::mem::replace(&mut live.holding[index], false) {
                        self.counters.release(leg.target.id, live.row.id);
                    }
                }
                let won = live
                    .connected
                    .and_then(|leg| live.legs.get(leg))
                    .map(|l| live.bids[l.bid].clone());
                let notices = live.notices(
                    &[webhooks::Event::CallAnswered, webhooks::Event::BidWon],
                    won.as_ref(),
                );
                live.save(&self.writer, &self.feed, notices, None);
                live.save_bids(&self.writer);
                ("bridged", json!({"leg": leg, "target_id": target_of(&live.legs, *leg)}))
            }
            EventKind::Ended { cause } => {
                let (status, reason, sip_status) = ending(cause, live.connected.is_some());
                // A call routing refused keeps the status and reason routing gave it.
                if live.row.status.is_live() {
                    live.row.status = status;
                    live.row.end_reason = Some(reason.clone());
                }
                live.row.sip_status = sip_status.map(i64::from);
                live.row.ended_at = Some(at);
                let ended = event.at.monotonic;
                if let Some(started) = live.started {
                    let rang_until = live.answered.unwrap_or(ended);
                    live.row.ring_ms = Some(rang_until.duration_since(started).as_millis() as i64);
                }
                if let Some(answered) = live.answered {
                    live.row.talk_ms = Some(ended.duration_since(answered).as_millis() as i64);
                }
                (
                    "ended",
                    json!({"status": live.row.status.as_str(), "reason": reason, "sip_status": sip_status}),
                )
            }
        };
        let ended = matches!(event.kind, EventKind::Ended { .. });
        self.timeline(event.call, vec![Event { at, kind: kind.into(), detail }]);
        if ended {
            self.finish(event.call);
        }
    }

    /// Settles and writes an ended call, and lets go of everything it held.
    fn finish(&mut self, edge_call: u64) {
        let Some(mut live) = self.live.remove(&edge_call) else { return };
        for (index, leg) in live.legs.iter().enumerate() {
            if live.holding[index] {
                self.counters.release(leg.target.id, live.row.id);
            }
            if live.bids[leg.bid].outcome == Outcome::Ranked && live.connected != Some(index) {
                live.bids[leg.bid].reason.get_or_insert_with(|| "not rung".to_owned());
            }
        }
        if let Some(leg) = live.connected.and_then(|leg| live.legs.get(leg)) {
            self.counters.hang_up(leg.target.id);
            let terms = Terms {
                bid_cents: leg.bid_cents,
                buffer_seconds: leg.buffer_seconds,
                payout: live.payout.payout,
                payout_buffer_seconds: live.payout.buffer_seconds,
                pays_duplicates: live.payout.pays_duplicates,
                duplicate: live.row.duplicate,
            };
            let settled = money::settle(&terms, live.row.talk_ms.unwrap_or(0));
            live.row.converted = settled.converted;
            live.row.revenue_cents = settled.revenue_cents;
            live.row.payout_cents = settled.payout_cents;
        }
        live.save_bids(&self.writer);
        let events: &[webhooks::Event] = if live.row.converted {
            &[webhooks::Event::CallCompleted, webhooks::Event::CallConverted]
        } else {
            &[webhooks::Event::CallCompleted]
        };
        let notices = live.notices(events, None);
        let pings = live.bids.iter().filter(|bid| bid.pinged_at.is_some() && !bid.reused).count();
        live.save(&self.writer, &self.feed, notices, Some(pings as i64));
    }

    /// A call still live when the recorder stops: its node is going away.
    fn interrupt(&mut self, edge_call: u64) {
        let Some(live) = self.live.get_mut(&edge_call) else { return };
        live.row.status = Status::Interrupted;
        live.row.end_reason = Some("the node stopped".into());
        live.row.ended_at = Some(Utc::now());
        if let (Some(answered), Some(_)) = (live.answered, live.connected) {
            live.row.talk_ms = Some(answered.elapsed().as_millis() as i64);
        }
        self.finish(edge_call);
    }
}

/// A call's status, reason and the caller's final SIP status from how it ended.
fn ending(cause: &EndCause, connected: bool) -> (Status, String, Option<u16>) {
    match cause {
        EndCause::Rejected { status } => (Status::Rejected, "refused".into(), Some(*status)),
        EndCause::Unanswered { status } => {
            (Status::Failed, "no buyer answered".into(), Some(*status))
        }
        EndCause::Cancelled => {
            (Status::Abandoned, "the caller hung up while it rang".into(), Some(487))
        }
        EndCause::HungUp(Side::Caller) => (Status::Completed, "the caller hung up".into(), None),
        EndCause::HungUp(Side::Callee) => (Status::Completed, "the buyer hung up".into(), None),
        EndCause::NoAck => (Status::Failed, "the caller never confirmed the answer".into(), None),
        EndCause::MaxDuration if connected => {
            (Status::Completed, "the maximum call duration was reached".into(), None)
        }
        EndCause::MaxDuration => {
            (Status::Failed, "the maximum call duration was reached".into(), None)
        }
        EndCause::SessionExpired => {
            (Status::Completed, "the session timer expired (no refresh)".into(), None)
        }
    }
}
