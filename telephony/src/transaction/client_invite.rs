//! The INVITE client transaction (RFC 3261 §17.1.1, RFC 6026 §7.2).
//!
//! Calling (retransmit on A until B) → Proceeding on a provisional → Completed on a
//! failure, whose ACK this transaction sends and resends for each repeated failure until
//! D → or Accepted on a 2xx, which the transaction user ACKs: every 2xx, repeats
//! included, goes up until M.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rsip::Method;

use super::{Outbox, Peer, Retransmit, Timers, earliest, send};
use crate::wire::{Fields, Request, Response};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Calling,
    Proceeding,
    Completed,
    Accepted,
    Terminated,
}

#[derive(Debug)]
pub struct ClientInvite {
    state: State,
    peer: Peer,
    invite: Request,
    bytes: Arc<[u8]>,
    timers: Timers,
    a: Option<Retransmit>,
    b: Option<Instant>,
    d: Option<Instant>,
    m: Option<Instant>,
    ack: Option<Arc<[u8]>>,
}

impl ClientInvite {
    /// Sends `invite` to `peer` and starts timers A and B.
    pub fn start(
        invite: Request,
        peer: Peer,
        timers: Timers,
        now: Instant,
        outbox: &mut Outbox,
    ) -> ClientInvite {
        let bytes: Arc<[u8]> = invite.to_bytes().into();
        send(outbox, peer, &bytes);
        ClientInvite {
            state: State::Calling,
            peer,
            invite,
            bytes,
            timers,
            a: (!peer.transport.reliable()).then(|| Retransmit::start(now, timers.t1)),
            b: Some(now + timers.timeout()),
            d: None,
            m: None,
            ack: None,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn request(&self) -> &Request {
        &self.invite
    }

    pub fn peer(&self) -> Peer {
        self.peer
    }

    /// Our ACK of the failure response, once one came (Completed).
    pub fn failure_ack(&self) -> Option<&Arc<[u8]>> {
        self.ack.as_ref()
    }

    /// A response matched to this transaction; what the transaction user must see.
    pub fn on_response(
        &mut self,
        response: Response,
        now: Instant,
        outbox: &mut Outbox,
    ) -> Option<Response> {
        match (self.state, response.status) {
            (State::Calling | State::Proceeding, 100..=199) => {
                self.state = State::Proceeding;
                self.a = None;
                Some(response)
            }
            (State::Calling | State::Proceeding, 200..=299) => {
                self.state = State::Accepted;
                self.a = None;
                self.b = None;
                self.m = Some(now + self.timers.timeout());
                Some(response)
            }
            (State::Accepted, 200..=299) => Some(response),
            (State::Calling | State::Proceeding, _) => {
                self.state = State::Completed;
                self.a = None;
                self.b = None;
                let ack: Arc<[u8]> = self.ack_for(&response).to_bytes().into();
                send(outbox, self.peer, &ack);
                self.ack = Some(ack);
                let wait = if self.peer.transport.reliable() {
                    Duration::ZERO
                } else {
                    Duration::from_secs(32)
                };
                self.d = Some(now + wait);
                Some(response)
            }
            (State::Completed, 300..) => {
                if let Some(ack) = &self.ack {
                    send(outbox, self.peer, ack);
                }
                None
            }
            _ => None,
        }
    }

    /// The ACK of a failure response (§17.1.1.3): it belongs to this transaction.
    fn ack_for(&self, response: &Response) -> Request {
        let mut ack = Request {
            method: Method::Ack,
            uri: self.invite.uri.clone(),
            headers: Default::default(),
            body: Vec::new(),
        };
        if let Some(via) = self.invite.headers.all("Via").next() {
            ack.headers.push("Via", via);
        }
        for route in self.invite.headers.lines("Route") {
            ack.headers.push("Route", route);
        }
        ack.headers.push("Max-Forwards", "70");
        for name in ["From", "Call-ID"] {
            ack.headers.push(name, self.invite.headers.get(name).unwrap_or_default());
        }
        ack.headers.push("To", response.headers.get("To").unwrap_or_default());
        let number = self.invite.cseq().map_or(1, |cseq| cseq.number);
        ack.headers.push("CSeq", format!("{number} ACK"));
        ack
    }

    pub fn deadline(&self) -> Option<Instant> {
        earliest([self.a.map(|a| a.at), self.b, self.d, self.m])
    }

    /// Runs the timers due at `now`. `true` when timer B fired: no answer at all, which the
    /// transaction user treats as a 408 (§8.1.3.1).
    pub fn on_timer(&mut self, now: Instant, outbox: &mut Outbox) -> bool {
        if Retransmit::due(&self.a, now)
            && let Some(a) = &mut self.a
        {
            send(outbox, self.peer, &self.bytes);
            a.next(now, None);
        }
        if self.b.is_some_and(|b| b <= now) {
            self.terminate();
            return true;
        }
        if self.d.is_some_and(|d| d <= now) || self.m.is_some_and(|m| m <= now) {
            self.terminate();
        }
        false
    }

    /// The transport could not send the INVITE (§17.1.1.2): treated as a 503 by the
    /// transaction user.
    pub fn terminate(&mut self) {
        self.state = State::Terminated;
        self.a = None;
        self.b = None;
        self.d = None;
        self.m = None;
    }
}
