//! The non-INVITE server transaction (RFC 3261 §17.2.2): a repeated request gets the
//! last response again; after the final response it is absorbed until J.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Outbox, Peer, Timers, send};
use crate::wire::Response;

#[derive(Debug)]
pub struct Server {
    peer: Peer,
    timers: Timers,
    last: Option<Arc<[u8]>>,
    completed: bool,
    j: Option<Instant>,
    over: bool,
}

impl Server {
    pub fn new(peer: Peer, timers: Timers) -> Server {
        Server { peer, timers, last: None, completed: false, j: None, over: false }
    }

    pub fn on_retransmission(&mut self, outbox: &mut Outbox) {
        if let Some(last) = &self.last {
            send(outbox, self.peer, last);
        }
    }

    pub fn respond(&mut self, response: &Response, now: Instant, outbox: &mut Outbox) {
        if self.completed {
            return;
        }
        let bytes: Arc<[u8]> = response.to_bytes().into();
        send(outbox, self.peer, &bytes);
        self.last = Some(bytes);
        if !response.is_provisional() {
            self.completed = true;
            let wait =
                if self.peer.transport.reliable() { Duration::ZERO } else { self.timers.timeout() };
            self.j = Some(now + wait);
        }
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.j
    }

    /// `true` once J fired: the transaction is over.
    pub fn on_timer(&mut self, now: Instant) -> bool {
        if self.j.is_some_and(|j| j <= now) {
            self.j = None;
            self.over = true;
        }
        self.over
    }

    pub fn finished(&self) -> bool {
        self.over
    }

    pub fn peer(&self) -> Peer {
        self.peer
    }
}
