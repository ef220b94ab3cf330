//! Requests inside an established call (re-INVITE, UPDATE, INFO) passed from one side to
//! the other: each is answered to its sender with the other side's answer, through a
//! server transaction on one leg and a client transaction on the other.
//!
//! Session refreshes (RFC 4028) are such requests; a successful one pushes the session
//! deadline back.

use std::sync::Arc;

use rsip::Method;

use super::{EndCause, Live, Phase, Side};
use crate::b2bua::call::Effects;
use crate::dialog::Answer;
use crate::transaction::{
    Client, ClientInvite, Peer, Server, ServerInvite, Transmit, client, client_invite,
    server_invite,
};
use crate::wire::{Fields, Request, Response};

/// Headers that mean the same on the other leg and go along with the request or answer.
const CARRIED: [&str; 9] = [
    "Content-Type",
    "Content-Disposition",
    "Session-Expires",
    "Min-SE",
    "Supported",
    "Require",
    "Info-Package",
    "Recv-Info",
    "Event",
];

/// Relayed requests a call keeps at once (each lingers while its transactions absorb
/// repeats); more get 503.
const MAX_RELAYS: usize = 16;

#[derive(Debug)]
enum Inward {
    Invite(ServerInvite),
    Other(Server),
}

#[derive(Debug)]
enum Outward {
    Invite(ClientInvite),
    Other(Client),
}

#[derive(Debug)]
pub(super) struct Relay {
    /// The request as its sender sent it.
    request: Request,
    from: Side,
    inward: Inward,
    inward_branch: String,
    outward: Outward,
    outward_branch: String,
    /// Our 2xx to a re-INVITE, resent until the sender's ACK.
    answer: Option<Answer>,
    /// Our ACK of the other side's 2xx; `None` until sent. A re-INVITE without an offer
    /// has its ACK wait for the sender's, which carries the answer.
    ack: Option<Arc<[u8]>>,
    ack_waits_for_sender: bool,
}

impl Relay {
    pub(super) fn done(&self) -> bool {
        let inward = match &self.inward {
            Inward::Invite(ist) => ist.state() == server_invite::State::Terminated,
            Inward::Other(server) => server.finished(),
        };
        let outward = match &self.outward {
            Outward::Invite(ict) => ict.state() == client_invite::State::Terminated,
            Outward::Other(nict) => nict.state() == client::State::Terminated,
        };
        inward && outward && self.answer.is_none()
    }

    pub(super) fn deadline(&self) -> Option<std::time::Instant> {
        let inward = match &self.inward {
            Inward::Invite(ist) => ist.deadline(),
            Inward::Other(server) => server.deadline(),
        };
        let outward = match &self.outward {
            Outward::Invite(ict) => ict.deadline(),
            Outward::Other(nict) => nict.deadline(),
        };
        [inward, outward, self.answer.as_ref().map(Answer::deadline)].into_iter().flatten().min()
    }

    fn pending_invite(&self) -> bool {
        self.request.method == Method::Invite
            && matches!(&self.inward, Inward::Invite(ist) if ist.state() == server_invite::State::Proceeding)
    }
}

impl Live {
    /// A request inside the call from `from`: relayed, or answered here when it cannot be.
    pub(super) fn relay_request(
        &mut self,
        request: Request,
        from: Side,
        source: Peer,
        fx: &mut Effects<'_>,
    ) {
        let branch = request.branch();
        if let Some(relay) = self
            .relays
            .iter_mut()
            .find(|r| r.inward_branch == branch && r.request.method == request.method)
        {
            match &mut relay.inward {
                Inward::Invite(ist) => ist.on_retransmission(fx.outbox),
                Inward::Other(server) => server.on_retransmission(fx.outbox),
            }
            if let Some(answer) = &relay.answer {
                answer.resend(fx.outbox);
            }
            return;
        }
        let (Phase::Answered { leg } | Phase::Confirmed { leg }) = self.phase else {
            self.respond(&request, 481, source, fx);
            return;
        };
        if !matches!(
            request.method,
            Method::Invite | Method::Update | Method::Info | Method::Message
        ) {
            self.respond(&request, 501, source, fx);
            return;
        }
        if self.relays.len() >= MAX_RELAYS {
            // A peer flooding requests must not grow the call without bound.
            self.respond(&request, 503, source, fx);
            return;
        }
        if request.method == Method::Invite && self.relays.iter().any(Relay::pending_invite) {
            // One offer at a time (RFC 3261 §14.2).
            self.respond(&request, 491, source, fx);
            return;
        }
        let via = |peer: Peer| self.local.via(peer.transport);
        let dialog = match from {
            Side::Caller => self.legs[leg].dialog.as_mut(),
            Side::Callee => self.inbound.dialog.as_mut(),
        };
        let Some(dialog) = dialog else {
            self.respond(&request, 481, source, fx);
            return;
        };
        let peer = dialog.peer;
        let mut onward = dialog.request(request.method, &via(peer));
        for name in CARRIED {
            for value in request.headers.lines(name) {
                onward.headers.push(name, value);
            }
        }
        if matches!(request.method, Method::Invite | Method::Update) {
            onward.headers.push("Contact", self.local.contact(peer.transport));
        }
        onward.body = request.body.clone();
        let outward_branch = onward.branch();
        let timers = self.policy.timers;
        let (inward, outward) = if request.method == Method::Invite {
            let mut ist = ServerInvite::new(source, timers);
            ist.respond(&request.response(100, None), fx.now, fx.outbox);
            (
                Inward::Invite(ist),
                Outward::Invite(ClientInvite::start(onward, peer, timers, fx.now, fx.outbox)),
            )
        } else {
            (
                Inward::Other(Server::new(source, timers)),
                Outward::Other(Client::start(onward, peer, timers, fx.now, fx.outbox)),
            )
        };
        let ack_waits_for_sender = request.method == Method::Invite && request.body.is_empty();
        self.relays.push(Relay {
            request,
            from,
            inward,
            inward_branch: branch,
            outward,
            outward_branch,
            answer: None,
            ack: None,
            ack_waits_for_sender,
        });
    }

    /// A response to one of our relayed requests; `Err` gives it back when it is not.
    pub(super) fn relay_response(
        &mut self,
        response: Response,
        fx: &mut Effects<'_>,
    ) -> Result<(), Response> {
        let branch = response.branch();
        let Some(index) = self.relays.iter().position(|r| r.outward_branch == branch) else {
            return Err(response);
        };
        let relay = &mut self.relays[index];
        let passed = match &mut relay.outward {
            Outward::Invite(ict) => ict.on_response(response, fx.now, fx.outbox),
            Outward::Other(nict) => nict.on_response(response, fx.now),
        };
        let Some(response) = passed else { return Ok(()) };
        if response.status == 100 {
            return Ok(());
        }
        if relay.request.method == Method::Invite && response.is_success() {
            let relayed = matches!(&relay.inward, Inward::Invite(ist) if ist.state() != server_invite::State::Proceeding);
            if relayed {
                // A repeat of the 2xx: our ACK was lost (or, for a late offer, still waits
                // for the sender's).
                if let (Some(ack), Outward::Invite(ict)) = (&relay.ack, &relay.outward) {
                    fx.outbox.push(Transmit { to: ict.peer(), bytes: ack.clone() });
                }
                return Ok(());
            }
            if !relay.ack_waits_for_sender {
                self.send_relay_ack(index, Vec::new(), None, fx);
            }
        }
        let relay = &mut self.relays[index];
        let mut back = relay.request.response(response.status, None);
        back.reason = response.reason.clone();
        for name in CARRIED {
            for value in response.headers.lines(name) {
                back.headers.push(name, value);
            }
        }
        back.body = response.body;
        let inward_peer = match &relay.inward {
            Inward::Invite(ist) => ist.peer(),
            Inward::Other(server) => server.peer(),
        };
        // A 2xx to a target refresh (re-INVITE, UPDATE) names us as the target again and
        // keeps the session alive.
        let refreshes =
            back.is_success() && matches!(relay.request.method, Method::Invite | Method::Update);
        if refreshes {
            back.headers.push("Contact", self.local.contact(inward_peer.transport));
        }
        match &mut relay.inward {
            Inward::Invite(ist) => {
                ist.respond(&back, fx.now, fx.outbox);
                if back.is_success() {
                    relay.answer =
                        Some(Answer::new(&back, inward_peer, self.policy.timers, fx.now));
                }
            }
            Inward::Other(server) => server.respond(&back, fx.now, fx.outbox),
        }
        if refreshes {
            self.refreshed(&back, fx);
        }
        Ok(())
    }

    /// The ACK of a relayed re-INVITE's 2xx, toward the side that answered it.
    fn send_relay_ack(
        &mut self,
        index: usize,
        body: Vec<u8>,
        content_type: Option<&str>,
        fx: &mut Effects<'_>,
    ) {
        let Some(leg) = self.answered_leg() else { return };
        let relay = &self.relays[index];
        let number = match &relay.outward {
            Outward::Invite(ict) => ict.request().cseq().map_or(1, |c| c.number),
            Outward::Other(_) => return,
        };
        let dialog = match relay.from {
            Side::Caller => self.legs[leg].dialog.as_ref(),
            Side::Callee => self.inbound.dialog.as_ref(),
        };
        let Some(dialog) = dialog else { return };
        let ack = dialog.ack(number, &self.local.via(dialog.peer.transport), body, content_type);
        let bytes: Arc<[u8]> = ack.to_bytes().into();
        fx.outbox.push(Transmit { to: dialog.peer, bytes: bytes.clone() });
        self.relays[index].ack = Some(bytes);
    }

    /// An ACK inside the call: for a relayed re-INVITE's answer or failure. `false` when
    /// it belongs to none.
    pub(super) fn relay_ack(&mut self, ack: &Request, from: Side, fx: &mut Effects<'_>) -> bool {
        let number = ack.cseq().map(|c| c.number);
        let Some(index) = self.relays.iter().position(|r| {
            r.from == from
                && r.request.method == Method::Invite
                && r.request.cseq().map(|c| c.number) == number
        }) else {
            return false;
        };
        let relay = &mut self.relays[index];
        if let Inward::Invite(ist) = &mut relay.inward
            && ist.state() == server_invite::State::Completed
        {
            ist.on_ack(fx.now);
            return true;
        }
        relay.answer = None;
        if relay.ack_waits_for_sender && relay.ack.is_none() {
            let content_type = ack.headers.get("Content-Type").map(str::to_owned);
            self.send_relay_ack(index, ack.body.clone(), content_type.as_deref(), fx);
        }
        true
    }

    /// Runs the relays' timers and forgets the finished ones.
    pub(super) fn relay_timers(&mut self, fx: &mut Effects<'_>) {
        let mut no_ack = false;
        for relay in &mut self.relays {
            match &mut relay.inward {
                Inward::Invite(ist) => {
                    ist.on_timer(fx.now, fx.outbox);
                }
                Inward::Other(server) => {
                    server.on_timer(fx.now);
                }
            }
            match &mut relay.outward {
                Outward::Invite(ict) => {
                    if ict.on_timer(fx.now, fx.outbox) {
                        let back = relay.request.response(408, None);
                        if let Inward::Invite(ist) = &mut relay.inward {
                            ist.respond(&back, fx.now, fx.outbox);
                        }
                    }
                }
                Outward::Other(nict) => {
                    if nict.on_timer(fx.now, fx.outbox)
                        && let Inward::Other(server) = &mut relay.inward
                    {
                        server.respond(&relay.request.response(408, None), fx.now, fx.outbox);
                    }
                }
            }
            if let Some(answer) = &mut relay.answer
                && answer.on_timer(fx.now, fx.outbox)
            {
                relay.answer = None;
                no_ack = true;
            }
        }
        self.relays.retain(|relay| !relay.done());
        if no_ack {
            // A re-INVITE answered but never ACKed: the dialog is broken (§14.2).
            self.hang_up_both(EndCause::NoAck, fx);
        }
    }
}
