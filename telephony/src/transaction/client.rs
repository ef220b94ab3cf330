//! The non-INVITE client transaction (RFC 3261 §17.1.2): BYE, CANCEL, re-sent requests
//! inside a dialog.
//!
//! Trying (retransmit on E, doubling up to T2) → Proceeding on a provisional (E at T2) →
//! Completed on a final response, which goes up, repeats absorbed until K. F gives up.

use std::sync::Arc;
use std::time::Instant;

use super::{Outbox, Peer, Retransmit, Timers, earliest, send};
use crate::wire::{Request, Response};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Trying,
    Proceeding,
    Completed,
    Terminated,
}

#[derive(Debug)]
pub struct Client {
    state: State,
    peer: Peer,
    bytes: Arc<[u8]>,
    timers: Timers,
    e: Option<Retransmit>,
    f: Option<Instant>,
    k: Option<Instant>,
}

impl Client {
    pub fn start(
        request: Request,
        peer: Peer,
        timers: Timers,
        now: Instant,
        outbox: &mut Outbox,
    ) -> Client {
        let bytes: Arc<[u8]> = request.to_bytes().into();
        send(outbox, peer, &bytes);
        Client {
            state: State::Trying,
            peer,
            bytes,
            timers,
            e: (!peer.transport.reliable()).then(|| Retransmit::start(now, timers.t1)),
            f: Some(now + timers.timeout()),
            k: None,
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// Still waiting for its final response (Trying or Proceeding).
    pub fn running(&self) -> bool {
        matches!(self.state, State::Trying | State::Proceeding)
    }

    /// A response matched to this transaction; the final one goes up once.
    pub fn on_response(&mut self, response: Response, now: Instant) -> Option<Response> {
        match self.state {
            State::Trying | State::Proceeding if response.is_provisional() => {
                self.state = State::Proceeding;
                Some(response)
            }
            State::Trying | State::Proceeding => {
                self.state = State::Completed;
                self.e = None;
                self.f = None;
                let wait = if self.peer.transport.reliable() {
                    Default::default()
                } else {
                    self.timers.t4
                };
                self.k = Some(now + wait);
                Some(response)
            }
            State::Completed | State::Terminated => None,
        }
    }

    pub fn deadline(&self) -> Option<Instant> {
        earliest([self.e.map(|e| e.at), self.f, self.k])
    }

    /// Runs the timers due at `now`; `true` when F fired (no final response: a 408).
    pub fn on_timer(&mut self, now: Instant, outbox: &mut Outbox) -> bool {
        if Retransmit::due(&self.e, now)
            && let Some(e) = &mut self.e
        {
            send(outbox, self.peer, &self.bytes);
            // In Proceeding the interval is T2 at once (§17.1.2.2).
            if self.state == State::Proceeding {
                e.interval = self.timers.t2 / 2;
            }
            e.next(now, Some(self.timers.t2));
        }
        if self.f.is_some_and(|f| f <= now) {
            self.terminate();
            return true;
        }
        if self.k.is_some_and(|k| k <= now) {
            self.terminate();
        }
        false
    }

    pub fn terminate(&mut self) {
        self.state = State::Terminated;
        self.e = None;
        self.f = None;
        self.k = None;
    }
}
