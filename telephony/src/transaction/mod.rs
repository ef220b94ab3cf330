//! The transaction layer (RFC 3261 §17, with RFC 6026's Accepted states): one request
//! and its responses, retransmitted over UDP until answered, absorbed when repeated.
//!
//! Each kind of transaction is a state machine without I/O, one file each: it is given
//! messages and the time, puts what must go out into an [`Outbox`], hands what the
//! transaction user must see back as return values, and says when it next needs the
//! time ([`deadline`](ClientInvite::deadline)). Timers are named as in the RFC. Over a
//! reliable transport (TCP) the retransmission timers never run and the wait timers are
//! zero (§17.1.1.2, §17.2.1).

pub mod client;
pub mod client_invite;
pub mod server;
pub mod server_invite;

pub use client::Client;
pub use client_invite::ClientInvite;
pub use server::Server;
pub use server_invite::ServerInvite;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The transports a message can travel on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Transport {
    Udp,
    Tcp,
}

impl Transport {
    pub fn reliable(self) -> bool {
        matches!(self, Transport::Tcp)
    }

    /// The name in Via headers and `transport=` parameters.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "UDP",
            Transport::Tcp => "TCP",
        }
    }

    pub fn parse(name: &str) -> Option<Transport> {
        match name.to_ascii_uppercase().as_str() {
            "UDP" => Some(Transport::Udp),
            "TCP" => Some(Transport::Tcp),
            _ => None,
        }
    }
}

/// Where a message goes (or came from): a transport and a socket address. On TCP the
/// transport layer reuses the connection to that address, or opens one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Peer {
    pub transport: Transport,
    pub addr: SocketAddr,
}

/// One message to put on the wire.
#[derive(Clone, Debug)]
pub struct Transmit {
    pub to: Peer,
    pub bytes: Arc<[u8]>,
}

/// What the layers above the transport want sent, in order.
pub type Outbox = Vec<Transmit>;

/// RFC 3261's timer base values (§17.1.1.1, Table 4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timers {
    /// Round-trip estimate: 500 ms.
    pub t1: Duration,
    /// Longest retransmit interval for non-INVITE requests and INVITE responses: 4 s.
    pub t2: Duration,
    /// Longest time a message stays in the network: 5 s.
    pub t4: Duration,
}

impl Default for Timers {
    fn default() -> Timers {
        Timers {
            t1: Duration::from_millis(500),
            t2: Duration::from_secs(4),
            t4: Duration::from_secs(5),
        }
    }
}

impl Timers {
    /// Timers B, F, H, J, L, M: how long a transaction waits before giving up.
    pub fn timeout(&self) -> Duration {
        self.t1 * 64
    }
}

/// A retransmission timer: fires at `at`, then at twice the interval (capped), until
/// stopped.
#[derive(Clone, Copy, Debug)]
struct Retransmit {
    at: Instant,
    interval: Duration,
}

impl Retransmit {
    fn start(now: Instant, interval: Duration) -> Retransmit {
        Retransmit { at: now + interval, interval }
    }

    fn due(timer: &Option<Retransmit>, now: Instant) -> bool {
        timer.is_some_and(|timer| timer.at <= now)
    }

    fn next(&mut self, now: Instant, cap: Option<Duration>) {
        self.interval = match cap {
            Some(cap) => (self.interval * 2).min(cap),
            None => self.interval * 2,
        };
        self.at = now + self.interval;
    }
}

fn earliest(times: impl IntoIterator<Item = Option<Instant>>) -> Option<Instant> {
    times.into_iter().flatten().min()
}

fn send(outbox: &mut Outbox, to: Peer, bytes: &Arc<[u8]>) {
    outbox.push(Transmit { to, bytes: bytes.clone() });
}

#[cfg(test)]
mod tests;
