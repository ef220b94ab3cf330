//! TCP: a stream of messages framed by Content-Length (RFC 3261 §18.3), CRLF keep-alives
//! answered (RFC 5626 §3.5.1). Connections are kept per remote address and used both
//! ways: responses and requests to a peer go on the connection it opened, or on one we
//! open (§18.2.2).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock, RwLock};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedReadHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::Sink;
use crate::transaction::{Peer, Transmit, Transport};
use crate::wire::framing::{Frame, StreamFramer};
use crate::wire::message::Rejection;

type Outgoing = mpsc::UnboundedSender<Arc<[u8]>>;

/// Open connections by remote address. Read on every TCP send, written only when a
/// connection opens or closes.
#[derive(Clone, Default)]
pub struct Connections {
    table: Arc<RwLock<HashMap<SocketAddr, Outgoing>>>,
    /// Where messages read from any connection go; set when the edge starts.
    sink: Arc<OnceLock<Arc<dyn Sink>>>,
}

impl Connections {
    pub(super) fn set_sink(&self, sink: Arc<dyn Sink>) {
        let _ = self.sink.set(sink);
    }

    pub(super) fn send(&self, transmit: Transmit) {
        let addr = transmit.to.addr;
        if let Some(sender) = self.table.read().expect("connection table").get(&addr)
            && sender.send(transmit.bytes.clone()).is_ok()
        {
            return;
        }
        // No connection yet: queue the bytes on a new one and open it.
        let (sender, receiver) = mpsc::unbounded_channel();
        let _ = sender.send(transmit.bytes);
        self.table.write().expect("connection table").insert(addr, sender.clone());
        let connections = self.clone();
        tokio::spawn(async move {
            match TcpStream::connect(addr).await {
                Ok(stream) => connections.run(stream, addr, sender, receiver).await,
                Err(error) => {
                    tracing::debug!(%error, peer = %addr, "TCP connect failed");
                    connections.table.write().expect("connection table").remove(&addr);
                }
            }
        });
    }

    /// Registers a connection a peer opened and serves it.
    async fn adopt(&self, stream: TcpStream, addr: SocketAddr) {
        let (sender, receiver) = mpsc::unbounded_channel();
        self.table.write().expect("connection table").insert(addr, sender.clone());
        self.run(stream, addr, sender, receiver).await;
    }

    /// Serves one connection until either side closes it: whoever opened it, it carries
    /// requests and responses both ways.
    async fn run(
        &self,
        stream: TcpStream,
        addr: SocketAddr,
        sender: Outgoing,
        mut outgoing: mpsc::UnboundedReceiver<Arc<[u8]>>,
    ) {
        let _ = stream.set_nodelay(true);
        let (mut reader, mut writer) = stream.into_split();
        let write = tokio::spawn(async move {
            while let Some(bytes) = outgoing.recv().await {
                if writer.write_all(&bytes).await.is_err() {
                    break;
                }
            }
        });
        if let Some(sink) = self.sink.get() {
            let reply = |transmit: Transmit| {
                let _ = sender.send(transmit.bytes);
            };
            read(&mut reader, addr, sink.as_ref(), &reply).await;
        }
        {
            let mut table = self.table.write().expect("connection table");
            // Only forget the entry if it is still this connection's.
            if table.get(&addr).is_some_and(|entry| entry.same_channel(&sender)) {
                table.remove(&addr);
            }
        }
        // With every sender gone the writer flushes what is queued (a last 400) and
        // closes; a peer that stops reading gets a few seconds.
        drop(sender);
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
) {
    let from = Peer { transport: Transport::Tcp, addr };
    let mut framer = StreamFramer::default();
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let length = match reader.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(length) => length,
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
                    let rejection = Rejection::unframed(framer.pending(), &error.to_string());
                    super::reject(&rejection, from, reply);
                    return;
                }
            }
        }
    }
}

pub(super) async fn accept(connections: Connections, listener: TcpListener) {
    loop {
        let Ok((stream, addr)) = listener.accept().await else { continue };
        let connections = connections.clone();
        tokio::spawn(async move { connections.adopt(stream, addr).await });
    }
}
