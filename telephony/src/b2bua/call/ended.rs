//! An ended call while its last transactions run out their timers.
//!
//! RFC 3261 §17 keeps a transaction for up to 64×T1 (32 s over UDP) after its final
//! response, so that repeats are answered as before: the caller's INVITE gets our failure
//! again until it ACKs, a BYE gets its 200 again, a buyer's repeated final response gets
//! our ACK again, and our own BYE is resent until answered. For that an ended call needs
//! the keys that match a message to it (Call-IDs, tags, the INVITE's branch, addresses)
//! and the few bytes it may have to send again; its INVITE, its legs' requests and
//! dialogs are dropped when it ends. Answers to requests are not kept either: a response
//! copies what it answers, so the repeated request itself makes the same answer again.

use std::sync::Arc;
use std::time::Instant;

use rsip::Method;

use super::Effects;
use super::keys::{Callee, Caller};
use crate::b2bua::new_tag;
use crate::transaction::{
    Client, ClientInvite, Peer, ServerInvite, Timers, Transmit, client_invite, server_invite,
};
use crate::wire::{Fields, Request, Response};

#[derive(Debug)]
pub(super) struct Ended {
    pub(super) caller: Caller,
    /// Every leg's Call-ID, so the call keeps receiving their responses.
    pub(super) legs: Vec<Box<str>>,
    /// The dialogs of legs whose requests (a BYE) we answered: they may come again.
    pub(super) callees: Vec<Callee>,
    /// The caller's INVITE transaction: a failure resent until ACKed, or absorbing.
    pub(super) ist: ServerInvite,
    /// Our requests (a BYE) still waiting for their final response, by branch. Repeats
    /// of a final response need no answer: once one came, the request is forgotten.
    pub(super) clients: Vec<(String, Client)>,
    pub(super) reacks: Vec<Reack>,
    /// Until when requests we answered may come again (timer J of the last one).
    pub(super) answering_until: Option<Instant>,
    pub(super) timers: Timers,
}

/// A final response to one of our INVITEs that may come again, and our ACK to send again
/// when it does.
#[derive(Debug)]
pub(super) struct Reack {
    branch: Box<str>,
    /// A 2xx (ACKed by the call) rather than a failure (ACKed by its transaction).
    success: bool,
    /// `None` when the 2xx was never ACKed (a late offer the caller did not complete).
    ack: Option<Arc<[u8]>>,
    peer: Peer,
    until: Instant,
}

impl Reack {
    /// What `ict` needs of its call after it ended: nothing once it is over, our ACK to
    /// a repeated failure while Completed, `success_ack` to a repeated 2xx while Accepted.
    pub(super) fn of(ict: &ClientInvite, success_ack: Option<&Arc<[u8]>>) -> Option<Reack> {
        let (success, ack) = match ict.state() {
            client_invite::State::Completed => (false, ict.failure_ack()),
            client_invite::State::Accepted => (true, success_ack),
            _ => return None,
        };
        Some(Reack {
            branch: ict.request().branch().into(),
            success,
            ack: ack.cloned(),
            peer: ict.peer(),
            until: ict.deadline()?,
        })
    }

    fn answers(&self, response: &Response) -> bool {
        match response.status {
            200..=299 => self.success,
            300.. => !self.success,
            _ => false,
        }
    }
}

impl Ended {
    /// Gives back room the lists no longer use: tens of thousands of ended calls wait
    /// out their timers at once, each with a list or two of one item or none.
    pub(super) fn shrink(&mut self) {
        self.legs.shrink_to_fit();
        self.callees.shrink_to_fit();
        self.clients.shrink_to_fit();
        self.reacks.shrink_to_fit();
    }

    pub(super) fn on_request(&mut self, request: Request, source: Peer, fx: Effects<'_>) {
        let from_caller = request.call_id() == &*self.caller.call_id;
        let belongs = if from_caller {
            self.caller.sent(&request, source)
        } else {
            self.callees.iter().any(|callee| callee.sent(&request, source))
        };
        if !belongs {
            // Someone who knows a Call-ID but not the dialog: as if there were none.
            if request.method != Method::Ack {
                let refused = request.response(481, Some(&new_tag()));
                fx.outbox.push(Transmit { to: source, bytes: refused.to_bytes().into() });
            }
            return;
        }
        let own_transaction = from_caller && request.branch() == *self.caller.branch;
        let status = match request.method {
            Method::Ack => {
                if from_caller {
                    self.ist.on_ack(fx.now);
                }
                return;
            }
            Method::Invite if own_transaction => {
                self.ist.on_retransmission(fx.outbox);
                return;
            }
            // A hang-up crossing ours, or a repeat of one we answered; a CANCEL of the
            // INVITE, answered finally already (§9.2).
            Method::Bye => 200,
            Method::Cancel if own_transaction => 200,
            _ => 481,
        };
        let answer = request.response(status, Some(&self.caller.tag));
        fx.outbox.push(Transmit { to: source, bytes: answer.to_bytes().into() });
        if !source.transport.reliable() {
            let until = fx.now + self.timers.timeout();
            self.answering_until = Some(self.answering_until.map_or(until, |at| at.max(until)));
        }
    }

    pub(super) fn on_response(&mut self, response: Response, fx: Effects<'_>) {
        let Some(cseq) = response.cseq() else { return };
        let branch = response.branch();
        if cseq.method != Method::Invite {
            if let Some((_, client)) = self.clients.iter_mut().find(|(b, _)| *b == branch) {
                client.on_response(response, fx.now);
            }
            self.clients.retain(|(_, client)| client.running());
            self.shrink();
            return;
        }
        if let Some(reack) = self.reacks.iter().find(|reack| *reack.branch == branch)
            && reack.answers(&response)
            && let Some(ack) = &reack.ack
        {
            fx.outbox.push(Transmit { to: reack.peer, bytes: ack.clone() });
        }
    }

    pub(super) fn on_timer(&mut self, fx: Effects<'_>) {
        let now = fx.now;
        self.ist.on_timer(now, fx.outbox);
        for (_, client) in &mut self.clients {
            client.on_timer(now, fx.outbox);
        }
        self.clients.retain(|(_, client)| client.running());
        self.reacks.retain(|reack| reack.until > now);
        self.shrink();
        if self.answering_until.is_some_and(|until| until <= now) {
            self.answering_until = None;
        }
    }

    pub(super) fn deadline(&self) -> Option<Instant> {
        [self.ist.deadline(), self.answering_until]
            .into_iter()
            .chain(self.clients.iter().map(|(_, client)| client.deadline()))
            .chain(self.reacks.iter().map(|reack| Some(reack.until)))
            .flatten()
            .min()
    }

    pub(super) fn finished(&self) -> bool {
        self.ist.state() == server_invite::State::Terminated
            && self.clients.is_empty()
            && self.reacks.is_empty()
            && self.answering_until.is_none()
    }

    pub(super) fn call_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&*self.caller.call_id).chain(self.legs.iter().map(|leg| &**leg))
    }
}
