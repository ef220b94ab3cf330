//! The INVITE server transaction (RFC 3261 §17.2.1, RFC 6026 §7.1).
//!
//! Proceeding (a repeated INVITE gets the last provisional again) → Completed on a
//! failure, resent on G (doubling up to T2) until the ACK (→ Confirmed, absorbing until
//! I) or H (no ACK) → or Accepted on a 2xx: repeated INVITEs are absorbed until L, and
//! the 2xx itself is the transaction user's to resend (see [`crate::dialog`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Outbox, Peer, Retransmit, Timers, earliest, send};
use crate::wire::Response;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Proceeding,
    Completed,
    Confirmed,
    Accepted,
    Terminated,
}

#[derive(Clone, Debug)]
pub struct ServerInvite {
    state: State,
    peer: Peer,
    timers: Timers,
    last: Option<Arc<[u8]>>,
    g: Option<Retransmit>,
    h: Option<Instant>,
    i: Option<Instant>,
    l: Option<Instant>,
}

impl ServerInvite {
    /// A new INVITE from `peer`.
    pub fn new(peer: Peer, timers: Timers) -> ServerInvite {
        ServerInvite {
            state: State::Proceeding,
            peer,
            timers,
            last: None,
            g: None,
            h: None,
            i: None,
            l: None,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn peer(&self) -> Peer {
        self.peer
    }

    /// The INVITE came again: the caller did not hear our last response.
    pub fn on_retransmission(&mut self, outbox: &mut Outbox) {
        if matches!(self.state, State::Proceeding | State::Completed)
            && let Some(last) = &self.last
        {
            send(outbox, self.peer, last);
        }
    }

    /// Sends the transaction user's response. Ignored once a final response was sent.
    pub fn respond(&mut self, response: &Response, now: Instant, outbox: &mut Outbox) {
        if self.state != State::Proceeding {
            return;
        }
        let bytes: Arc<[u8]> = response.to_bytes().into();
        send(outbox, self.peer, &bytes);
        self.last = Some(bytes);
        match response.status {
            100..=199 => {}
            200..=299 => {
                // Repeats of the INVITE are absorbed now; the 2xx is resent by the
                // transaction user.
                self.last = None;
                self.state = State::Accepted;
                self.l = Some(now + self.timers.timeout());
            }
            _ => {
                self.state = State::Completed;
                self.g = (!self.peer.transport.reliable())
                    .then(|| Retransmit::start(now, self.timers.t1));
                self.h = Some(now + self.timers.timeout());
            }
        }
    }

    /// An ACK for our failure response.
    pub fn on_ack(&mut self, now: Instant) {
        if self.state == State::Completed {
            self.state = State::Confirmed;
            self.last = None;
            self.g = None;
            self.h = None;
            let wait = if self.peer.transport.reliable() { Duration::ZERO } else { self.timers.t4 };
            self.i = Some(now + wait);
        }
    }

    pub fn deadline(&self) -> Option<Instant> {
        earliest([self.g.map(|g| g.at), self.h, self.i, self.l])
    }

    /// Runs the timers due at `now`; `true` when H fired (our failure was never ACKed).
    pub fn on_timer(&mut self, now: Instant, outbox: &mut Outbox) -> bool {
        if Retransmit::due(&self.g, now)
            && let (Some(g), Some(last)) = (&mut self.g, &self.last)
        {
            send(outbox, self.peer, last);
            g.next(now, Some(self.timers.t2));
        }
        if self.h.is_some_and(|h| h <= now) {
            self.terminate();
            return true;
        }
        if self.i.is_some_and(|i| i <= now) || self.l.is_some_and(|l| l <= now) {
            self.terminate();
        }
        false
    }

    pub fn terminate(&mut self) {
        self.state = State::Terminated;
        self.g = None;
        self.h = None;
        self.i = None;
        self.l = None;
    }
}
