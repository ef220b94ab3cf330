//! The line Bidline's own phone calls in on: the demo's simulated carrier and the
//! dashboard's test calls reach the SIP edge like any carrier's call, from loopback,
//! proving a password this process drew at start and never shows (digest). No trunk of
//! any organization is needed, and nobody outside this machine can use it: an INVITE
//! from anywhere else giving this username is treated as any other.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use bidline_telephony::phone::{self, Dial, Outcome, PhoneError};

/// The username the phone gives; [`CallRouter::admit`](super::router::CallRouter)
/// challenges it only from loopback.
pub const USERNAME: &str = "bidline-loopback";
/// What the edge hands back as the admitting trunk for such calls.
pub const TRUNK: &str = "loopback";

/// The line's credentials and where the edge listens for them.
#[derive(Clone)]
pub struct Line {
    password: String,
    edge: SocketAddr,
}

impl std::fmt::Debug for Line {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Line").field("edge", &self.edge).finish_non_exhaustive()
    }
}

impl Line {
    /// A line with `password` (see [`password`]) to the edge listening at `edge` (an
    /// unspecified address is reached on loopback).
    pub fn new(password: String, edge: SocketAddr) -> Line {
        Line { password, edge: reachable(edge) }
    }

    /// Calls `number` from `caller` with the Call-ID `call_id`, rings at most
    /// `ring_timeout`, talks `talk`.
    pub async fn call(
        &self,
        number: &str,
        caller: &str,
        call_id: &str,
        ring_timeout: std::time::Duration,
        talk: std::time::Duration,
    ) -> Result<Outcome, PhoneError> {
        let dial = Dial {
            to: self.edge,
            number: number.to_owned(),
            caller: caller.to_owned(),
            call_id: call_id.to_owned(),
            credentials: Some((USERNAME.to_owned(), self.password.clone())),
            headers: Vec::new(),
            ring_timeout,
            talk,
        };
        let local = if self.edge.ip().is_loopback() {
            self.edge.ip()
        } else {
            IpAddr::V4(Ipv4Addr::LOCALHOST)
        };
        phone::call(&dial, local).await
    }
}

/// Where this machine reaches a socket bound to `addr`: an unspecified address on
/// loopback.
pub fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(Ipv6Addr::LOCALHOST.into(), addr.port())
        }
        _ => addr,
    }
}

/// A fresh password for the line, drawn at start: the router checks it, the line gives it.
pub fn password() -> String {
    crate::accounts::passwords::generate()
}

/// Whether an INVITE from `source` giving `username` is on the loopback line.
pub fn is_line(source: IpAddr, username: Option<&str>) -> bool {
    source.is_loopback() && username == Some(USERNAME)
}
