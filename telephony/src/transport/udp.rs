//! UDP: one datagram, one message (RFC 3261 §18.3).

use std::sync::Arc;

use tokio::net::UdpSocket;

use super::Sink;
use crate::transaction::{Peer, Transmit, Transport};
use crate::wire::Rejection;
use crate::wire::framing::{MAX_BODY_BYTES, MAX_HEADER_BYTES, datagram};

pub(super) async fn receive(socket: Arc<UdpSocket>, sink: Arc<dyn Sink>) {
    let mut buffer = vec![0u8; MAX_HEADER_BYTES + MAX_BODY_BYTES];
    loop {
        let (length, addr) = match socket.recv_from(&mut buffer).await {
            Ok(received) => received,
            // ICMP port-unreachable from an earlier send surfaces here on some systems.
            Err(error) => {
                tracing::trace!(%error, "UDP receive error");
                continue;
            }
        };
        let from = Peer { transport: Transport::Udp, addr };
        let bytes = &buffer[..length];
        // Keep-alives (RFC 5626 §4.4.1, and bare CRLFs) carry no message.
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let reply = |transmit: Transmit| send(&socket, transmit);
        match datagram(bytes) {
            Ok(framed) => super::receive(framed, from, sink.as_ref(), &reply),
            Err(error) => {
                let rejection = Rejection::unframed(bytes, &error.to_string());
                super::reject(&rejection, from, bytes.len(), sink.as_ref(), &reply)
            }
        }
    }
}

pub(super) fn send(socket: &Arc<UdpSocket>, transmit: Transmit) {
    match socket.try_send_to(&transmit.bytes, transmit.to.addr) {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {
            let socket = socket.clone();
            tokio::spawn(async move {
                if let Err(error) = socket.send_to(&transmit.bytes, transmit.to.addr).await {
                    tracing::debug!(%error, peer = %transmit.to.addr, "UDP send failed");
                }
            });
        }
        Err(error) => tracing::debug!(%error, peer = %transmit.to.addr, "UDP send failed"),
    }
}
