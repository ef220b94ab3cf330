//! A call while it lives: routing, ringing destinations one at a time, bridging, hanging
//! up. Once it has ended and only its transactions' timers are left, it hands what they
//! need to [`Ended`](super::ended::Ended) and is dropped.
//!
//! Routing → Connecting (destinations tried one at a time; the caller hears only
//! ringing) → Answered (our 2xx sent, its ACK awaited) → Confirmed → Ended. Failure of
//! every destination, the router's refusal or the caller's CANCEL go straight to Ended.

mod relay;

use std::collections::VecDeque;
use std::time::Instant;

use rsip::Method;

use super::Effects;
use super::ended::{Ended, Reack};
use super::keys::{Callee, Caller};
use crate::b2bua::outbound::{LegState, Outbound};
use crate::b2bua::{
    CallEvent, Decision, Destination, EndCause, EventKind, IncomingCall, Local, Policy, Side,
    Stamp, new_tag,
};
use crate::dialog::{Answer, Dialog};
use crate::transaction::{
    Client, Peer, Server, ServerInvite, Transmit, client_invite, server_invite,
};
use crate::wire::{Fields, Request, Response};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Routing,
    Connecting { leg: usize },
    Answered { leg: usize },
    Confirmed { leg: usize },
    Ended,
}

#[derive(Debug)]
struct Inbound {
    invite: Request,
    peer: Peer,
    caller: Caller,
    ist: ServerInvite,
    answer: Option<Answer>,
    dialog: Option<Dialog>,
}

#[derive(Debug)]
pub(super) struct Live {
    id: u64,
    policy: Policy,
    local: Local,
    inbound: Inbound,
    phase: Phase,
    destinations: VecDeque<Destination>,
    legs: Vec<Outbound>,
    last_failure: Option<(u16, String)>,
    servers: Vec<(String, Server)>,
    /// Our own non-INVITE requests (CANCEL, BYE) by branch.
    clients: Vec<(String, Client)>,
    relays: Vec<relay::Relay>,
    ring_deadline: Option<Instant>,
    end_deadline: Option<Instant>,
    session: Option<Session>,
}

/// A session timer (RFC 4028) agreed with the caller: refreshes must keep coming.
#[derive(Debug)]
struct Session {
    interval: std::time::Duration,
    /// When the session is over unless refreshed before.
    expires: Instant,
}

/// Why a new INVITE is refused before routing.
enum Refusal {
    /// Max-Forwards 0 (483).
    TooManyHops,
    /// A session interval under our minimum (422 with Min-SE, RFC 4028 §8.1.1).
    IntervalTooSmall,
}

/// The interval of a Session-Expires value (`1800;refresher=uac`).
fn session_expires(value: Option<&str>) -> Option<std::time::Duration> {
    let seconds = value?.split(';').next()?.trim().parse::<u64>().ok()?;
    Some(std::time::Duration::from_secs(seconds))
}

/// The refresher named by a Session-Expires value, if any.
fn refresher(value: Option<&str>) -> Option<String> {
    crate::wire::uri::Params::parse(value?.split_once(';')?.1)
        .value("refresher")
        .map(str::to_ascii_lowercase)
}

impl Live {
    /// A new INVITE (no To tag, unknown Call-ID): answered with 100 at once, then routed,
    /// or refused when it has run out of hops.
    pub(super) fn start(
        id: u64,
        invite: Request,
        peer: Peer,
        trunk: Option<String>,
        local: Local,
        policy: Policy,
        mut fx: Effects<'_>,
    ) -> Live {
        // Read what routing needs before the INVITE moves into the call.
        let dialed = crate::b2bua::dialed(&invite);
        let caller = invite.from().and_then(|from| from.uri.user().map(str::to_owned));
        let asked_interval = session_expires(invite.headers.get("Session-Expires"));
        let refusal = if invite.max_forwards() == 0 {
            Some(Refusal::TooManyHops)
        } else if asked_interval.is_some_and(|interval| interval < policy.min_session_expires) {
            Some(Refusal::IntervalTooSmall)
        } else {
            None
        };
        let incoming = refusal.is_none().then(|| IncomingCall {
            id,
            call_id: invite.call_id().to_owned(),
            dialed: dialed.clone(),
            caller: caller.clone(),
            request_uri: invite.uri.clone(),
            source: peer,
            trunk,
            headers: invite.headers.iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect(),
        });
        let ist = ServerInvite::new(peer, policy.timers);
        let caller_keys = Caller::of(&invite, peer, new_tag());
        let inbound =
            Inbound { invite, peer, caller: caller_keys, ist, answer: None, dialog: None };
        let mut call = Live {
            id,
            policy,
            local,
            inbound,
            phase: Phase::Routing,
            destinations: VecDeque::new(),
            legs: Vec::new(),
            last_failure: None,
            servers: Vec::new(),
            clients: Vec::new(),
            relays: Vec::new(),
            ring_deadline: None,
            end_deadline: None,
            session: None,
        };
        let trying = call.inbound.invite.response(100, None);
        call.inbound.ist.respond(&trying, fx.now, fx.outbox);
        call.event(&mut fx, EventKind::Initiated { dialed, caller, source: peer.addr });
        match refusal {
            Some(Refusal::TooManyHops) => call.refuse(483, "Too Many Hops", &mut fx),
            Some(Refusal::IntervalTooSmall) => {
                let mut too_small =
                    call.inbound.invite.response(422, Some(&call.inbound.caller.tag));
                too_small
                    .headers
                    .push("Min-SE", call.policy.min_session_expires.as_secs().to_string());
                call.inbound.ist.respond(&too_small, fx.now, fx.outbox);
                call.end(EndCause::Rejected { status: 422 }, &mut fx);
            }
            None => *fx.route = incoming,
        }
        call
    }

    fn event(&self, fx: &mut Effects<'_>, kind: EventKind) {
        fx.events.push(CallEvent { call: self.id, at: Stamp::now(), kind });
    }

    /// The router's answer.
    pub(super) fn on_decision(&mut self, decision: Decision, mut fx: Effects<'_>) {
        if self.phase != Phase::Routing {
            return;
        }
        match decision {
            Decision::Reject { status, reason } => {
                self.answer_failure(status, &reason, &mut fx);
                self.end(EndCause::Rejected { status }, &mut fx);
            }
            Decision::Connect(destinations) => {
                self.event(&mut fx, EventKind::Routed { destinations: destinations.len() });
                self.destinations = destinations.into();
                self.try_next(&mut fx);
            }
        }
    }

    fn refuse(&mut self, status: u16, reason: &str, fx: &mut Effects<'_>) {
        self.answer_failure(status, reason, fx);
        self.end(EndCause::Rejected { status }, fx);
    }

    /// Rings the next destination, or gives the caller the last failure.
    fn try_next(&mut self, fx: &mut Effects<'_>) {
        self.ring_deadline = None;
        let Some(destination) = self.destinations.pop_front() else {
            let (status, reason) =
                self.last_failure.clone().unwrap_or((480, "Temporarily Unavailable".into()));
            self.answer_failure(status, &reason, fx);
            self.end(EndCause::Unanswered { status }, fx);
            return;
        };
        let leg = self.legs.len();
        self.ring_deadline = Some(fx.now + destination.ring_timeout);
        let uri = destination.uri.to_string();
        let outbound = Outbound::start(
            &self.inbound.invite,
            destination,
            &self.local,
            self.policy.timers,
            fx.now,
            fx.outbox,
        );
        fx.new_call_ids.push(outbound.call_id.clone());
        self.legs.push(outbound);
        self.phase = Phase::Connecting { leg };
        self.event(fx, EventKind::LegTrying { leg, uri });
    }

    fn answer_failure(&mut self, status: u16, reason: &str, fx: &mut Effects<'_>) {
        let mut response = self.inbound.invite.response(status, Some(&self.inbound.caller.tag));
        if !reason.is_empty() {
            response.reason = reason.to_owned();
        }
        self.inbound.ist.respond(&response, fx.now, fx.outbox);
    }

    fn end(&mut self, cause: EndCause, fx: &mut Effects<'_>) {
        if self.phase == Phase::Ended {
            return;
        }
        self.phase = Phase::Ended;
        self.ring_deadline = None;
        self.end_deadline = None;
        self.session = None;
        self.inbound.answer = None;
        self.event(fx, EventKind::Ended { cause });
    }

    /// A request whose Call-ID is one of this call's.
    /// Whether `request` is this call's own INVITE again (a retransmission).
    /// Who called, as their requests must show it.
    pub(super) fn caller(&self) -> &Caller {
        &self.inbound.caller
    }

    /// Whether `request`, sent from `source` with one of this call's Call-IDs, really
    /// belongs to it: it comes from the address of the side that Call-ID names, with that
    /// dialog's tags. The inbound INVITE's own transaction (its repeats, its CANCEL) has
    /// no To tag of ours yet; everything else must carry it. On the buyer's side only
    /// the bridged leg's dialog exists for its requests.
    fn belongs(&self, request: &Request, source: Peer) -> bool {
        if request.call_id() == &*self.inbound.caller.call_id {
            return self.inbound.caller.sent(request, source);
        }
        let (Phase::Answered { leg } | Phase::Confirmed { leg }) = self.phase else {
            return false;
        };
        let dialog = self.legs[leg].dialog.as_ref();
        dialog.and_then(Callee::of).is_some_and(|callee| callee.sent(request, source))
    }

    pub(super) fn on_request(&mut self, request: Request, source: Peer, mut fx: Effects<'_>) {
        if !self.belongs(&request, source) {
            // Someone who knows a Call-ID but not the dialog: as if there were none.
            if request.method != Method::Ack {
                let refused = request.response(481, Some(&new_tag()));
                fx.outbox.push(Transmit { to: source, bytes: refused.to_bytes().into() });
            }
            return;
        }
        let branch = request.branch();
        // A repeated non-INVITE request gets the answer already given.
        if request.method != Method::Invite
            && request.method != Method::Ack
            && let Some((_, server)) = self.servers.iter_mut().find(|(b, _)| *b == branch)
        {
            server.on_retransmission(fx.outbox);
            return;
        }
        let from_caller = request.call_id() == self.inbound.invite.call_id();
        let side = if from_caller { Side::Caller } else { Side::Callee };
        match request.method {
            Method::Invite if from_caller && branch == *self.inbound.caller.branch => {
                self.inbound.ist.on_retransmission(fx.outbox);
                if let Some(answer) = &self.inbound.answer {
                    answer.resend(fx.outbox);
                }
            }
            Method::Ack => {
                if !self.relay_ack(&request, side, &mut fx) && from_caller {
                    self.on_caller_ack(request, &mut fx);
                }
            }
            Method::Cancel if from_caller && branch == *self.inbound.caller.branch => {
                self.respond(&request, 200, source, &mut fx);
                self.on_caller_cancel(&mut fx);
            }
            // A CANCEL for a transaction that is not pending (§9.2).
            Method::Cancel => self.respond(&request, 481, source, &mut fx),
            Method::Bye => {
                self.respond(&request, 200, source, &mut fx);
                self.on_bye(side, &mut fx);
            }
            _ => self.relay_request(request, side, source, &mut fx),
        }
    }

    /// Answers a non-INVITE request through a server transaction that absorbs repeats.
    fn respond(&mut self, request: &Request, status: u16, source: Peer, fx: &mut Effects<'_>) {
        let branch = request.branch();
        let mut server = Server::new(source, self.policy.timers);
        // A request without a To tag (CANCEL) is answered with the tag of our answer to
        // the INVITE.
        server.respond(
            &request.response(status, Some(&self.inbound.caller.tag)),
            fx.now,
            fx.outbox,
        );
        self.servers.push((branch, server));
    }

    fn on_caller_ack(&mut self, ack: Request, fx: &mut Effects<'_>) {
        if self.inbound.ist.state() == server_invite::State::Completed {
            self.inbound.ist.on_ack(fx.now);
            return;
        }
        if let Phase::Answered { leg } = self.phase {
            self.inbound.answer = None;
            self.phase = Phase::Confirmed { leg };
            // A late offer: the caller's answer rides on its ACK and goes on in ours.
            let outbound = &mut self.legs[leg];
            if outbound.ack.is_none() {
                let content_type = ack.headers.get("Content-Type").map(str::to_owned);
                outbound.send_ack(ack.body, content_type.as_deref(), &self.local, fx.outbox);
            }
        }
    }

    fn on_caller_cancel(&mut self, fx: &mut Effects<'_>) {
        if !matches!(self.phase, Phase::Routing | Phase::Connecting { .. }) {
            return;
        }
        self.abandon_pending(fx);
        self.answer_failure(487, "Request Terminated", fx);
        self.end(EndCause::Cancelled, fx);
    }

    /// Cancels every leg still ringing.
    fn abandon_pending(&mut self, fx: &mut Effects<'_>) {
        for index in 0..self.legs.len() {
            if self.legs[index].pending() {
                self.abandon(index, fx);
            }
        }
    }

    fn abandon(&mut self, index: usize, fx: &mut Effects<'_>) {
        let leg = &mut self.legs[index];
        let heard =
            leg.state == LegState::Ringing || leg.ict.state() == client_invite::State::Proceeding;
        leg.state = LegState::Abandoned;
        if heard {
            self.send_cancel(index, fx);
        } else {
            leg.cancel_owed = true;
        }
    }

    fn send_cancel(&mut self, index: usize, fx: &mut Effects<'_>) {
        let leg = &mut self.legs[index];
        leg.cancel_owed = false;
        let (cancel, peer) = (leg.cancel(), leg.destination.next_hop);
        self.start_client(cancel, peer, fx);
    }

    /// Sends a request of our own through a client transaction that resends it.
    fn start_client(&mut self, request: Request, peer: Peer, fx: &mut Effects<'_>) {
        let branch = request.branch();
        let client = Client::start(request, peer, self.policy.timers, fx.now, fx.outbox);
        self.clients.push((branch, client));
    }

    fn on_bye(&mut self, from: Side, fx: &mut Effects<'_>) {
        let (Phase::Answered { leg } | Phase::Confirmed { leg }) = self.phase else { return };
        let other = match from {
            Side::Caller => Side::Callee,
            Side::Callee => Side::Caller,
        };
        self.send_bye(other, leg, fx);
        self.legs[leg].state = LegState::Over;
        self.end(EndCause::HungUp(from), fx);
    }

    /// A BYE inside the dialog with `to`: the caller's, or the callee's on `leg`.
    fn send_bye(&mut self, to: Side, leg: usize, fx: &mut Effects<'_>) {
        let dialog = match to {
            Side::Caller => self.inbound.dialog.as_mut(),
            Side::Callee => self.legs[leg].dialog.as_mut(),
        };
        let Some(dialog) = dialog else { return };
        let bye = dialog.request(Method::Bye, &self.local.via(dialog.peer.transport));
        let peer = dialog.peer;
        self.start_client(bye, peer, fx);
    }

    /// A response whose Call-ID is one of this call's outbound legs'.
    pub(super) fn on_response(&mut self, response: Response, mut fx: Effects<'_>) {
        if let Err(response) = self.relay_response(response, &mut fx) {
            self.on_own_response(response, &mut fx);
        }
    }

    /// A response to a request of the call's own (not relayed).
    fn on_own_response(&mut self, response: Response, fx: &mut Effects<'_>) {
        let Some(cseq) = response.cseq() else { return };
        if cseq.method != Method::Invite {
            let branch = response.branch();
            if let Some((_, client)) = self.clients.iter_mut().find(|(b, _)| *b == branch) {
                client.on_response(response, fx.now);
            }
            return;
        }
        let Some(index) = self.legs.iter().position(|leg| leg.call_id == response.call_id()) else {
            return;
        };
        let leg = &mut self.legs[index];
        let branch = response.branch();
        if leg.is_challenged_branch(&branch) {
            if let Some(challenged) = &mut leg.challenged {
                challenged.on_response(response, fx.now, fx.outbox);
            }
            return;
        }
        let Some(response) = leg.ict.on_response(response, fx.now, fx.outbox) else {
            return;
        };
        let timers = self.policy.timers;
        match response.status {
            100 => {}
            101..=199 => self.on_leg_provisional(index, response, fx),
            200..=299 => self.on_leg_answer(index, response, fx),
            401 | 407
                if leg.pending()
                    && leg.retry_with_credentials(
                        &response,
                        &self.local,
                        timers,
                        fx.now,
                        fx.outbox,
                    ) => {}
            _ => self.on_leg_failure(index, response.status, response.reason, fx),
        }
    }

    fn on_leg_provisional(&mut self, index: usize, response: Response, fx: &mut Effects<'_>) {
        if self.legs[index].cancel_owed {
            self.send_cancel(index, fx);
            return;
        }
        if self.phase != (Phase::Connecting { leg: index }) {
            return;
        }
        self.legs[index].state = LegState::Ringing;
        let mut relayed =
            self.inbound.invite.response(response.status, Some(&self.inbound.caller.tag));
        relayed.reason = response.reason.clone();
        relayed.headers.push("Contact", self.local.contact(self.inbound.peer.transport));
        // Early media: the 183's SDP goes to the caller unchanged.
        if !response.body.is_empty()
            && let Some(content_type) = response.headers.get("Content-Type")
        {
            relayed.headers.push("Content-Type", content_type);
            relayed.body = response.body;
        }
        self.inbound.ist.respond(&relayed, fx.now, fx.outbox);
        self.event(fx, EventKind::LegRinging { leg: index, status: relayed.status });
    }

    fn on_leg_answer(&mut self, index: usize, response: Response, fx: &mut Effects<'_>) {
        let leg = &mut self.legs[index];
        if leg.dialog.is_some() {
            // A repeated 2xx: our ACK was lost (or, for a late offer, is still awaited).
            if leg.ack.is_some() {
                leg.send_ack(Vec::new(), None, &self.local, fx.outbox);
            }
            return;
        }
        leg.dialog = Dialog::as_caller(leg.ict.request(), &response, leg.destination.next_hop);
        if self.phase != (Phase::Connecting { leg: index }) {
            // The 2xx crossed our CANCEL (or the call ended meanwhile): take it and hang up.
            leg.send_ack(Vec::new(), None, &self.local, fx.outbox);
            leg.state = LegState::Over;
            self.send_bye(Side::Callee, index, fx);
            return;
        }
        leg.state = LegState::Answered;
        // With an offer in the caller's INVITE the answer is complete now; with a late
        // offer, the ACK waits for the caller's answer (see on_caller_ack).
        if !self.inbound.invite.body.is_empty() {
            leg.send_ack(Vec::new(), None, &self.local, fx.outbox);
        }
        self.ring_deadline = None;
        let mut ok = self.inbound.invite.response(200, Some(&self.inbound.caller.tag));
        ok.headers.push("Contact", self.local.contact(self.inbound.peer.transport));
        ok.headers.push("Allow", crate::wire::message::allow());
        self.agree_session(&response, &mut ok);
        if let Some(content_type) = response.headers.get("Content-Type") {
            ok.headers.push("Content-Type", content_type);
        }
        ok.body = response.body;
        self.inbound.ist.respond(&ok, fx.now, fx.outbox);
        self.inbound.answer = Some(Answer::new(&ok, self.inbound.peer, self.policy.timers, fx.now));
        self.inbound.dialog =
            Dialog::as_callee(&self.inbound.invite, &self.inbound.caller.tag, self.inbound.peer);
        self.phase = Phase::Answered { leg: index };
        self.end_deadline = Some(fx.now + self.policy.max_duration);
        if self.session.is_some() {
            self.refreshed(&ok, fx);
        }
        self.event(fx, EventKind::LegAnswered { leg: index });
        self.event(fx, EventKind::Bridged { leg: index });
    }

    fn on_leg_failure(&mut self, index: usize, status: u16, reason: String, fx: &mut Effects<'_>) {
        let leg = &mut self.legs[index];
        let current = self.phase == (Phase::Connecting { leg: index });
        leg.state = LegState::Over;
        if !current {
            return;
        }
        self.event(fx, EventKind::LegFailed { leg: index, status, reason: reason.clone() });
        if status != 487 {
            self.last_failure = Some((status, reason));
        }
        self.try_next(fx);
    }

    /// When [`on_timer`](Self::on_timer) next needs calling.
    pub(super) fn deadline(&self) -> Option<Instant> {
        let own = [
            self.ring_deadline,
            self.end_deadline,
            self.session.as_ref().map(|session| session.expires),
            self.inbound.ist.deadline(),
            self.inbound.answer.as_ref().map(Answer::deadline),
        ];
        let legs = self.legs.iter().flat_map(|leg| {
            [Some(leg.ict.deadline()), leg.challenged.as_ref().map(|ict| ict.deadline())]
        });
        own.into_iter()
            .chain(legs.flatten())
            .chain(self.servers.iter().map(|(_, server)| server.deadline()))
            .chain(self.clients.iter().map(|(_, client)| client.deadline()))
            .chain(self.relays.iter().map(relay::Relay::deadline))
            .flatten()
            .min()
    }

    pub(super) fn on_timer(&mut self, mut fx: Effects<'_>) {
        let now = fx.now;
        // Timer H (our failure never ACKed) needs nothing more: the call has ended.
        self.inbound.ist.on_timer(now, fx.outbox);
        if let Some(answer) = &mut self.inbound.answer
            && answer.on_timer(now, fx.outbox)
        {
            // No ACK for our 2xx (§13.3.1.4): hang up both sides.
            self.hang_up_both(EndCause::NoAck, &mut fx);
        }
        for index in 0..self.legs.len() {
            if let Some(challenged) = &mut self.legs[index].challenged {
                challenged.on_timer(now, fx.outbox);
            }
            if self.legs[index].ict.on_timer(now, fx.outbox) && self.legs[index].pending() {
                // Timer B: no response at all from this destination.
                self.on_leg_failure(index, 408, "No Answer".into(), &mut fx);
            }
        }
        if self.ring_deadline.is_some_and(|at| at <= now)
            && let Phase::Connecting { leg } = self.phase
        {
            self.event(
                &mut fx,
                EventKind::LegFailed { leg, status: 408, reason: "Ring Timeout".into() },
            );
            self.abandon(leg, &mut fx);
            self.try_next(&mut fx);
        }
        if self.end_deadline.is_some_and(|at| at <= now) {
            self.hang_up_both(EndCause::MaxDuration, &mut fx);
        }
        if self.session.as_ref().is_some_and(|session| session.expires <= now) {
            self.hang_up_both(EndCause::SessionExpired, &mut fx);
        }
        self.relay_timers(&mut fx);
        self.servers.retain_mut(|(_, server)| !server.on_timer(now));
        for (_, client) in &mut self.clients {
            client.on_timer(now, fx.outbox);
        }
        self.clients.retain(|(_, c)| c.state() != crate::transaction::client::State::Terminated);
    }

    /// Ends an answered call from our side: BYE to both.
    fn hang_up_both(&mut self, cause: EndCause, fx: &mut Effects<'_>) {
        let Some(leg) = self.answered_leg() else { return };
        self.inbound.answer = None;
        self.send_bye(Side::Callee, leg, fx);
        self.send_bye(Side::Caller, leg, fx);
        self.legs[leg].state = LegState::Over;
        self.end(cause, fx);
    }

    fn answered_leg(&self) -> Option<usize> {
        match self.phase {
            Phase::Answered { leg } | Phase::Confirmed { leg } => Some(leg),
            _ => None,
        }
    }

    /// A session refresh went through (or the call was answered): the session lives
    /// another interval (RFC 4028 §10; we end it a little before, as the non-refresher).
    fn refreshed(&mut self, response: &Response, fx: &mut Effects<'_>) {
        let Some(session) = &mut self.session else { return };
        if let Some(interval) = session_expires(response.headers.get("Session-Expires")) {
            session.interval = interval;
        }
        let margin = (session.interval / 3).min(std::time::Duration::from_secs(32));
        session.expires = fx.now + session.interval - margin;
    }

    /// Puts the session timer (RFC 4028) in our 2xx to the caller, when the caller uses
    /// them: the buyer's interval and refresher if it chose one (its refreshes reach the
    /// caller through us, so `uas` stays `uas`), otherwise the caller's, refreshed by it.
    fn agree_session(&mut self, answer: &Response, ok: &mut Response) {
        let invite = &self.inbound.invite;
        let supports =
            invite.headers.all("Supported").any(|option| option.eq_ignore_ascii_case("timer"));
        let asked = invite.headers.get("Session-Expires");
        if !supports && asked.is_none() {
            return;
        }
        let chosen = answer.headers.get("Session-Expires");
        let Some(interval) = session_expires(chosen).or_else(|| session_expires(asked)) else {
            return;
        };
        let refresher = refresher(chosen).unwrap_or_else(|| "uac".into());
        ok.headers.push("Session-Expires", format!("{};refresher={refresher}", interval.as_secs()));
        if supports {
            ok.headers.push("Require", "timer");
        }
        self.session = Some(Session { interval, expires: Instant::now() + interval });
    }

    /// Ended, and every transaction over: the call can be forgotten.
    pub(super) fn finished(&self) -> bool {
        self.phase == Phase::Ended
            && self.inbound.ist.state() == server_invite::State::Terminated
            && self.relays.is_empty()
            && self.servers.is_empty()
            && self.clients.is_empty()
            && self.legs.iter().all(|leg| {
                let over = |ict: &crate::transaction::ClientInvite| {
                    ict.state() == client_invite::State::Terminated
                };
                over(&leg.ict) && leg.challenged.as_ref().is_none_or(over)
            })
    }

    /// Ended, with nothing left but timers that absorb or resend: every transaction has
    /// its final response (no leg still calling, no relayed request in flight).
    pub(super) fn settled(&self) -> bool {
        let answered = |ict: &crate::transaction::ClientInvite| {
            !matches!(ict.state(), client_invite::State::Calling | client_invite::State::Proceeding)
        };
        self.phase == Phase::Ended
            && self.relays.is_empty()
            && self.inbound.answer.is_none()
            && self.inbound.ist.state() != server_invite::State::Proceeding
            && self
                .legs
                .iter()
                .all(|leg| answered(&leg.ict) && leg.challenged.as_ref().is_none_or(answered))
    }

    /// What a [`settled`](Self::settled) call's timers need, taken out of it.
    pub(super) fn take_ended(&mut self) -> Ended {
        let reacks = self.legs.iter().flat_map(|leg| {
            [
                Reack::of(&leg.ict, leg.ack.as_ref()),
                leg.challenged.as_ref().and_then(|ict| Reack::of(ict, None)),
            ]
        });
        let mut ended = Ended {
            caller: self.inbound.caller.clone(),
            legs: self.legs.iter().map(|leg| leg.call_id.as_str().into()).collect(),
            callees: self
                .legs
                .iter()
                .filter_map(|leg| leg.dialog.as_ref())
                .filter(|dialog| {
                    self.servers.iter().any(|(_, server)| server.peer() == dialog.peer)
                })
                .filter_map(Callee::of)
                .collect(),
            ist: self.inbound.ist.clone(),
            clients: std::mem::take(&mut self.clients)
                .into_iter()
                .filter(|(_, client)| client.running())
                .collect(),
            reacks: reacks.flatten().collect(),
            answering_until: self.servers.iter().filter_map(|(_, server)| server.deadline()).max(),
            timers: self.policy.timers,
        };
        ended.shrink();
        ended
    }

    /// Every Call-ID this call answers to.
    pub(super) fn call_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.inbound.invite.call_id())
            .chain(self.legs.iter().map(|leg| leg.call_id.as_str()))
    }
}
