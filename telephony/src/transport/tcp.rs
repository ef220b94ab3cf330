//! TCP: a stream of messages framed by Content-Length (RFC 3261 §18.3), CRLF keep-alives
//! answered (RFC 5626 §3.5.1). Connections are kept per remote address and used both
//! ways: responses and requests to a peer go on the connection it opened, or on one we
//! open (§18.2.2).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};

use super::{Sink, TcpLimits};
use crate::transaction::{Peer, Transmit, Transport};
use crate::wire::framing::{Frame, StreamFramer};
use crate::wire::message::Rejection;

/// The sending side of one connection: bytes queued for its writer, counted, so a peer
/// that never reads is disconnected instead of growing the queue without end.
#[derive(Clone)]
struct Outgoing {
    sender: mpsc::UnboundedSender<Arc<[u8]>>,
    queued: Arc<AtomicUsize>,
    /// Told when the connection must close (its queue overflowed).
    close: Arc<Notify>,
}

/// What became of bytes handed to a connection.
#[derive(PartialEq, Eq)]
enum Queued {
    Yes,
    /// The peer has not read what it was sent: it is being disconnected.
    Overflow,
    /// The connection is gone.
    Closed,
}

impl Outgoing {
    fn new() -> (Outgoing, mpsc::UnboundedReceiver<Arc<[u8]>>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (Outgoing { sender, queued: Arc::default(), close: Arc::new(Notify::new()) }, receiver)
    }

    fn send(&self, bytes: Arc<[u8]>, limit: usize) -> Queued {
        let queued = self.queued.fetch_add(bytes.len(), Ordering::Relaxed) + bytes.len();
        if queued > limit {
            self.queued.fetch_sub(bytes.len(), Ordering::Relaxed);
            self.close.notify_one();
            return Queued::Overflow;
        }
        if self.sender.send(bytes).is_ok() { Queued::Yes } else { Queued::Closed }
    }

    fn same(&self, other: &Outgoing) -> bool {
        self.sender.same_channel(&other.sender)
    }
}

/// Open connections by remote address. Read on every TCP send, written only when a
/// connection opens or closes.
#[derive(Clone, Default)]
pub struct Connections {
    table: Arc<RwLock<HashMap<SocketAddr, Outgoing>>>,
    /// Where messages read from any connection go; set when the edge starts.
    sink: Arc<OnceLock<Arc<dyn Sink>>>,
    limits: TcpLimits,
    /// Connections open now, in all and per remote address.
    open: Arc<Mutex<(usize, HashMap<IpAddr, usize>)>>,
}

/// One connection counted in [`Connections::open`] while it lives.
struct Slot {
    open: Arc<Mutex<(usize, HashMap<IpAddr, usize>)>>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        open.0 -= 1;
        if let Some(count) = open.1.get_mut(&self.ip) {
            *count -= 1;
            if *count == 0 {
                open.1.remove(&self.ip);
            }
        }
    }
}

impl Connections {
    pub(super) fn new(limits: TcpLimits) -> Connections {
        Connections { limits, ..Connections::default() }
    }

    pub(super) fn set_sink(&self, sink: Arc<dyn Sink>) {
        let _ = self.sink.set(sink);
    }

    /// A place for one more connection with `ip`, if the limits leave one.
    fn slot(&self, ip: IpAddr) -> Option<Slot> {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let of_ip = open.1.get(&ip).copied().unwrap_or(0);
        if open.0 >= self.limits.max_connections || of_ip >= self.limits.per_address {
            return None;
        }
        open.0 += 1;
        *open.1.entry(ip).or_default() += 1;
        Some(Slot { open: self.open.clone(), ip })
    }

    pub(super) fn send(&self, transmit: Transmit) {
        let addr = transmit.to.addr;
        let limit = self.limits.write_queue_bytes;
        if let Some(outgoing) = self.table.read().expect("connection table").get(&addr)
            && outgoing.send(transmit.bytes.clone(), limit) != Queued::Closed
        {
            return;
        }
        // No connection yet: queue the bytes on a new one and open it.
        let Some(slot) = self.slot(addr.ip()) else {
            tracing::debug!(peer = %addr, "no TCP connection opened: at the connection limit");
            return;
        };
        let (outgoing, receiver) = Outgoing::new();
        outgoing.send(transmit.bytes, limit);
        self.table.write().expect("connection table").insert(addr, outgoing.clone());
        let connections = self.clone();
        tokio::spawn(async move {
            match TcpStream::connect(addr).await {
                Ok(stream) => connections.run(stream, addr, outgoing, receiver, slot).await,
                Err(error) => {
                    tracing::debug!(%error, peer = %addr, "TCP connect failed");
                    connections.forget(addr, &outgoing);
                }
            }
        });
    }

    /// Registers a connection a peer opened and serves it, if the limits allow.
    async fn adopt(&self, stream: TcpStream, addr: SocketAddr) {
        let Some(slot) = self.slot(addr.ip()) else {
            tracing::debug!(peer = %addr, "refused a TCP connection: at the connection limit");
            return;
        };
        let (outgoing, receiver) = Outgoing::new();
        self.table.write().expect("connection table").insert(addr, outgoing.clone());
        self.run(stream, addr, outgoing, receiver, slot).await;
    }

    /// Forgets `addr`'s entry if it is still `outgoing`'s.
    fn forget(&self, addr: SocketAddr, outgoing: &Outgoing) {
        let mut table = self.table.write().expect("connection table");
        if table.get(&addr).is_some_and(|entry| entry.same(outgoing)) {
            table.remove(&addr);
        }
    }

    /// Serves one connection until either side closes it, it idles past the limit, or
    /// it stops reading what it is sent: whoever opened it, it carries requests and
    /// responses both ways.
    async fn run(
        &self,
        stream: TcpStream,
        addr: SocketAddr,
        outgoing: Outgoing,
        mut receiver: mpsc::UnboundedReceiver<Arc<[u8]>>,
        _slot: Slot,
    ) {
        let _ = stream.set_nodelay(true);
        let (mut reader, mut writer) = stream.into_split();
        let queued = outgoing.queued.clone();
        let write = tokio::spawn(async move {
            while let Some(bytes) = receiver.recv().await {
                let written = writer.write_all(&bytes).await;
                queued.fetch_sub(bytes.len(), Ordering::Relaxed);
                if written.is_err() {
                    break;
                }
            }
        });
        if let Some(sink) = self.sink.get() {
            let limit = self.limits.write_queue_bytes;
            let reply = |transmit: Transmit| {
                outgoing.send(transmit.bytes, limit);
            };
            tokio::select! {
                () = read(&mut reader, addr, sink.as_ref(), &reply, self.limits.idle) => {}
                () = outgoing.close.notified() => {
                    tracing::info!(peer = %addr, "closed a TCP connection that does not read what it is sent");
                }
            }
        }
        self.forget(addr, &outgoing);
        // With every sender gone the writer flushes what is queued (a last 400) and
        // closes; a peer that stops reading gets a few seconds.
        drop(outgoing);
        let abort = write.abort_handle();
        if tokio::time::timeout(Duration::from_secs(5), write).await.is_err() {
            abort.abort();
        }
    }
}

async fn read(
    reader: &mut OwnedReadHalf,
    addr: SocketAddr,
    sink: &dyn Sink,
    reply: &(dyn Fn(Transmit) + Sync),
    idle: Duration,
) {
    let from = Peer { transport: Transport::Tcp, addr };
    let mut framer = StreamFramer::default();
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let length = match tokio::time::timeout(idle, reader.read(&mut buffer)).await {
            Ok(Ok(0) | Err(_)) => return,
            Ok(Ok(length)) => length,
            Err(_) => {
                tracing::debug!(peer = %addr, "closed an idle TCP connection");
                return;
            }
        };
        framer.push(&buffer[..length]);
        loop {
            match framer.next_frame() {
                Ok(None) => break,
                Ok(Some(Frame::Ping)) => {
                    reply(Transmit { to: from, bytes: Arc::from(&b"\r\n"[..]) })
                }
                Ok(Some(Frame::Message(message))) => super::receive(&message, from, sink, reply),
                Err(error) => {
                    // The stream cannot be resynchronised: answer if possible and close.
                    let pending = framer.pending();
                    let rejection = Rejection::unframed(pending, &error.to_string());
                    super::reject(&rejection, from, pending.len(), sink, reply);
                    return;
                }
            }
        }
    }
}

/// Accepts connections; a failing accept (out of descriptors, say) is retried after a
/// pause that doubles up to a second, instead of spinning.
pub(super) async fn accept(connections: Connections, listener: TcpListener) {
    let mut pause = Duration::from_millis(5);
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                pause = Duration::from_millis(5);
                let connections = connections.clone();
                tokio::spawn(async move { connections.adopt(stream, addr).await });
            }
            Err(error) => {
                tracing::warn!(%error, pause_ms = pause.as_millis(), "TCP accept failed");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(1));
            }
        }
    }
}
