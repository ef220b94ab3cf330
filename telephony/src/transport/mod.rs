//! The transport layer (RFC 3261 §18): sockets in, parsed messages out to a sink; bytes
//! out to a [`Peer`]. UDP and TCP now; TLS and WebSocket would be more stream kinds
//! behind the same [`Transports::send`].
//!
//! Inbound, each message is framed and parsed here; a request that cannot be accepted is
//! answered here, statelessly, with the 400/416/501/505 the wire layer built, so no request
//! that can be answered goes unanswered — except over UDP when the answer would be
//! larger than what caused it: a forged source must not make us an amplifier. The top
//! Via of an accepted request is stamped with where it really came from (`received`,
//! `rport`: RFC 3581), so every response built from it goes back the way it came.

mod tcp;
mod udp;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, UdpSocket};

use crate::transaction::{Peer, Transmit, Transport};
use crate::wire::{Message, Rejection, Response, Via};

use tcp::Connections;

/// Where parsed inbound messages go (the edge's shard dispatch).
pub trait Sink: Send + Sync + 'static {
    /// `size` is how many bytes the message took on the wire. What it answers at once,
    /// without taking the message (503 when too busy), is sent back the way it came.
    fn deliver(&self, message: Message, from: Peer, size: usize) -> Option<Response>;

    /// Whether `source` is a peer we deal with: anyone else gets no answer larger than
    /// what it sent (see [`may_answer`]).
    fn knows(&self, source: SocketAddr) -> bool;
}

/// What TCP connections may cost: the internet can open as many as it likes.
#[derive(Clone, Copy, Debug)]
pub struct TcpLimits {
    /// Connections open at once, both directions together.
    pub max_connections: usize,
    /// Connections open at once with one remote address.
    pub per_address: usize,
    /// A connection that sends nothing for this long is closed.
    pub idle: Duration,
    /// Bytes queued for a connection that does not read them; past it, it is closed.
    pub write_queue_bytes: usize,
}

impl Default for TcpLimits {
    fn default() -> TcpLimits {
        TcpLimits {
            max_connections: 4096,
            per_address: 64,
            idle: Duration::from_secs(300),
            write_queue_bytes: 1 << 20,
        }
    }
}

/// Whether a stateless answer of `answer` bytes may go to `to`, a peer we do not know,
/// for a request of `request` bytes: over UDP, whose source can be forged, never a
/// larger one.
pub fn may_answer(to: Peer, request: usize, answer: usize) -> bool {
    to.transport != Transport::Udp || answer <= request
}

/// Asks for a receive buffer of `bytes`: the datagrams that arrive while the edge is busy
/// wait there, and past it they are dropped (the peer repeats them, late). The kernel
/// grants at most its `net.core.rmem_max`; less than asked is said in the log. Answers
/// what it granted.
fn size_receive_buffer(udp: &UdpSocket, bytes: usize) -> io::Result<usize> {
    let socket = socket2::SockRef::from(udp);
    socket.set_recv_buffer_size(bytes)?;
    // Linux reports twice what it keeps for data (the rest is its bookkeeping).
    let granted = socket.recv_buffer_size()? / 2;
    if granted < bytes {
        tracing::warn!(
            asked = bytes,
            granted,
            "the kernel gave the SIP UDP socket a smaller receive buffer than asked; raise net.core.rmem_max"
        );
    }
    Ok(granted)
}

/// The bound sockets: a UDP socket and a TCP listener on the same address.
#[derive(Clone)]
pub struct Transports {
    udp: Arc<UdpSocket>,
    tcp: Connections,
    udp_addr: SocketAddr,
    tcp_addr: SocketAddr,
    udp_receive_buffer: Option<usize>,
}

impl Transports {
    /// Binds UDP and TCP on `addr` (port 0 picks one free port for both when it can),
    /// asking for a UDP receive buffer of `receive_buffer` bytes when given.
    pub async fn bind(
        addr: SocketAddr,
        limits: TcpLimits,
        receive_buffer: Option<usize>,
    ) -> io::Result<(Transports, TcpListener)> {
        let (udp, listener) = Self::bind_both(addr).await?;
        let udp_receive_buffer = match receive_buffer {
            Some(bytes) => Some(size_receive_buffer(&udp, bytes)?),
            None => None,
        };
        let udp_addr = udp.local_addr()?;
        let tcp_addr = listener.local_addr()?;
        let transports = Transports {
            udp: Arc::new(udp),
            tcp: Connections::new(limits),
            udp_addr,
            tcp_addr,
            udp_receive_buffer,
        };
        Ok((transports, listener))
    }

    /// UDP and TCP on one port. Port 0 takes a port free for UDP, which TCP may hold for
    /// someone else: then another is tried, a few times.
    async fn bind_both(addr: SocketAddr) -> io::Result<(UdpSocket, TcpListener)> {
        const ATTEMPTS: usize = 20;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let udp = UdpSocket::bind(addr).await?;
            let port = udp.local_addr()?.port();
            match TcpListener::bind(SocketAddr::new(addr.ip(), port)).await {
                Ok(listener) => return Ok((udp, listener)),
                Err(error)
                    if addr.port() == 0
                        && error.kind() == io::ErrorKind::AddrInUse
                        && attempt < ATTEMPTS => {}
                Err(error) => return Err(error),
            }
        }
    }

    pub fn udp_addr(&self) -> SocketAddr {
        self.udp_addr
    }

    /// The UDP socket's receive buffer as the kernel granted it, when one was asked for.
    pub fn udp_receive_buffer(&self) -> Option<usize> {
        self.udp_receive_buffer
    }

    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp_addr
    }

    /// Starts the receive loops; they run until the returned tasks are aborted.
    pub fn spawn(
        &self,
        listener: TcpListener,
        sink: Arc<dyn Sink>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        self.tcp.set_sink(sink.clone());
        vec![
            tokio::spawn(udp::receive(self.udp.clone(), sink)),
            tokio::spawn(tcp::accept(self.tcp.clone(), listener)),
        ]
    }

    /// Puts `transmit` on the wire. Never waits: a full socket buffer or a connection
    /// still opening queues the bytes instead.
    pub fn send(&self, transmit: Transmit) {
        match transmit.to.transport {
            Transport::Udp => udp::send(&self.udp, transmit),
            Transport::Tcp => self.tcp.send(transmit),
        }
    }
}

/// One received message, framed: parsed and handed on, or answered through `reply`.
fn receive(framed: &[u8], from: Peer, sink: &dyn Sink, reply: &(dyn Fn(Transmit) + Sync)) {
    match crate::wire::parse(framed) {
        Ok(Message::Request(mut request)) => {
            stamp_top_via(&mut request.headers, from);
            if let Some(response) = sink.deliver(Message::Request(request), from, framed.len()) {
                answer(response, from, framed.len(), sink, reply);
            }
        }
        Ok(response) => {
            sink.deliver(response, from, framed.len());
        }
        Err(rejection) => reject(&rejection, from, framed.len(), sink, reply),
    }
}

/// Answers what was rejected, if it can be answered — to a peer `sink` does not know,
/// only with an answer no larger than the `size` bytes received (over UDP).
fn reject(
    rejection: &Rejection,
    from: Peer,
    size: usize,
    sink: &dyn Sink,
    reply: &(dyn Fn(Transmit) + Sync),
) {
    tracing::debug!(peer = %from.addr, %rejection, "rejected a SIP message");
    let Some(mut response) = rejection.response() else { return };
    stamp_top_via(&mut response.headers, from);
    answer(response, from, size, sink, reply);
}

/// Sends a stateless answer to a request of `size` bytes — to a peer `sink` does not
/// know, over UDP, only if no larger than the request, without its Warning if need be.
fn answer(
    mut response: Response,
    from: Peer,
    size: usize,
    sink: &dyn Sink,
    reply: &(dyn Fn(Transmit) + Sync),
) {
    let mut bytes = response.to_bytes();
    let fits = |bytes: &[u8]| may_answer(from, size, bytes.len()) || sink.knows(from.addr);
    if !fits(&bytes) {
        // The reason is a courtesy: without it the answer may fit.
        response.headers.remove("Warning");
        bytes = response.to_bytes();
    }
    if fits(&bytes) {
        reply(Transmit { to: from, bytes: bytes.into() });
    }
}

fn stamp_top_via(headers: &mut crate::wire::Headers, from: Peer) {
    let Some(top) = headers.all("Via").next() else { return };
    let Some(mut via) = Via::parse(top) else { return };
    let before = via.clone();
    via.stamp_source(from.addr);
    if via != before {
        headers.pop_first("Via");
        headers.prepend("Via", via.to_string());
    }
}
