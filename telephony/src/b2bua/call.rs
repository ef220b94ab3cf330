//! One call's state machine, without I/O: messages and timer ticks in; transmissions, a
//! routing request and events out.
//!
//! A call is [`Live`](live) until it has ended and only its transactions' timers are left
//! (RFC 3261 §17: repeats are answered for up to 32 s over UDP). Then it shrinks to what
//! those timers need ([`ended`]): at thousands of calls a second, ended calls waiting out
//! their timers far outnumber live ones.

mod ended;
mod keys;
mod live;

use std::time::Instant;

use ended::Ended;
use live::Live;

use super::{CallEvent, Decision, IncomingCall, Local, Policy};
use crate::transaction::{Outbox, Peer};
use crate::wire::{Request, Response};

/// What the runtime must do besides sending: it hands these back to the call later.
pub struct Effects<'a> {
    pub now: Instant,
    pub outbox: &'a mut Outbox,
    pub events: &'a mut Vec<CallEvent>,
    /// Set when the call needs the router.
    pub route: &'a mut Option<IncomingCall>,
    /// Call-IDs this call started using (outbound legs), to be delivered here too.
    pub new_call_ids: &'a mut Vec<String>,
}

#[derive(Debug)]
pub struct Call(Stage);

#[derive(Debug)]
enum Stage {
    Live(Box<Live>),
    Ended(Box<Ended>),
}

impl Call {
    /// A new INVITE (no To tag, unknown Call-ID): answered with 100 at once, then routed,
    /// or refused when it has run out of hops.
    pub fn start(
        id: u64,
        invite: Request,
        peer: Peer,
        trunk: Option<String>,
        local: Local,
        policy: Policy,
        fx: Effects<'_>,
    ) -> Call {
        let live = Live::start(id, invite, peer, trunk, local, policy, fx);
        let mut call = Call(Stage::Live(Box::new(live)));
        call.settle();
        call
    }

    /// The router's answer.
    pub fn on_decision(&mut self, decision: Decision, fx: Effects<'_>) {
        if let Stage::Live(live) = &mut self.0 {
            live.on_decision(decision, fx);
        }
        self.settle();
    }

    /// A request whose Call-ID is one of this call's.
    pub fn on_request(&mut self, request: Request, source: Peer, fx: Effects<'_>) {
        match &mut self.0 {
            Stage::Live(live) => live.on_request(request, source, fx),
            Stage::Ended(ended) => ended.on_request(request, source, fx),
        }
        self.settle();
    }

    /// A response whose Call-ID is one of this call's outbound legs'.
    pub fn on_response(&mut self, response: Response, fx: Effects<'_>) {
        match &mut self.0 {
            Stage::Live(live) => live.on_response(response, fx),
            Stage::Ended(ended) => ended.on_response(response, fx),
        }
        self.settle();
    }

    pub fn on_timer(&mut self, fx: Effects<'_>) {
        match &mut self.0 {
            Stage::Live(live) => live.on_timer(fx),
            Stage::Ended(ended) => ended.on_timer(fx),
        }
        self.settle();
    }

    /// When [`on_timer`](Self::on_timer) next needs calling.
    pub fn deadline(&self) -> Option<Instant> {
        match &self.0 {
            Stage::Live(live) => live.deadline(),
            Stage::Ended(ended) => ended.deadline(),
        }
    }

    /// Whether `request` is this call's own INVITE again (a retransmission).
    pub fn is_own_invite(&self, request: &Request) -> bool {
        match &self.0 {
            Stage::Live(live) => live.caller().is_own_invite(request),
            Stage::Ended(ended) => ended.caller.is_own_invite(request),
        }
    }

    /// Ended, and every transaction over: the call can be forgotten.
    pub fn finished(&self) -> bool {
        match &self.0 {
            Stage::Live(live) => live.finished(),
            Stage::Ended(ended) => ended.finished(),
        }
    }

    /// Every Call-ID this call answers to.
    pub fn call_ids(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        match &self.0 {
            Stage::Live(live) => Box::new(live.call_ids()),
            Stage::Ended(ended) => Box::new(ended.call_ids()),
        }
    }

    /// Shrinks a call that has ended to what its remaining timers need.
    fn settle(&mut self) {
        if let Stage::Live(live) = &mut self.0
            && live.settled()
            && !live.finished()
        {
            let ended = live.take_ended();
            self.0 = Stage::Ended(Box::new(ended));
        }
    }
}
