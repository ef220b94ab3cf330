#![allow(dead_code, unused_imports)] // Each test binary uses its own part of the support code.

//! Real SIP peers for black-box tests: sipp (Debian's `sip-tester`) as carrier and as
//! buyer, against an edge started in the test with a router the test controls.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use bidline_sipp::{Scenario, Sipp, Transport, free_port, scenario};

use bidline_telephony::b2bua::{
    Admission, Arrival, CallEvent, Decision, Destination, EventKind, IncomingCall, Policy, Router,
};
use bidline_telephony::edge::{Config, Edge};
use bidline_telephony::wire::{Message, Request, Response, parse};
use tokio::sync::mpsc::UnboundedReceiver;

/// Routes every call to a fixed decision.
pub struct Fixed(pub Decision);

impl Router for Fixed {
    async fn route(&self, _call: &IncomingCall) -> Decision {
        self.0.clone()
    }
}

/// Who the test edge lets in.
#[derive(Clone)]
pub enum Gate {
    Open,
    Closed,
    /// Digest credentials: one user.
    Password {
        realm: &'static str,
        username: &'static str,
        password: &'static str,
    },
    /// Lets everyone in, taking this long to decide (holding up the shard).
    Slow(Duration),
}

struct Gated(Decision, Gate);

impl Router for Gated {
    fn admit(&self, arrival: &Arrival<'_>) -> Admission {
        match &self.1 {
            Gate::Open => Admission::Accept { trunk: None },
            Gate::Slow(pause) => {
                std::thread::sleep(*pause);
                Admission::Accept { trunk: None }
            }
            Gate::Closed => Admission::Deny,
            Gate::Password { realm, username: user, password } => Admission::Digest {
                realm: realm.to_string(),
                password: (arrival.username == Some(user)).then(|| password.to_string()),
                trunk: Some("carrier".into()),
            },
        }
    }

    /// A closed edge knows no one: its answers are held to the size of the request.
    fn knows(&self, _source: SocketAddr) -> bool {
        !matches!(self.1, Gate::Closed)
    }

    async fn route(&self, _call: &IncomingCall) -> Decision {
        self.0.clone()
    }
}

/// A buyer at `port` reached over `transport`, ringing at most `ring_timeout`.
pub fn buyer(port: u16, transport: Transport, ring_timeout: Duration) -> Destination {
    let suffix = if transport == Transport::Tcp { ";transport=tcp" } else { "" };
    let uri = format!("sip:+15550100200@127.0.0.1:{port}{suffix}").parse().unwrap();
    Destination::to_address(uri, ring_timeout).unwrap()
}

pub struct TestEdge {
    pub edge: Edge,
    pub events: UnboundedReceiver<CallEvent>,
}

impl TestEdge {
    pub async fn start(decision: Decision) -> TestEdge {
        TestEdge::gated(decision, Gate::Open).await
    }

    pub async fn gated(decision: Decision, gate: Gate) -> TestEdge {
        TestEdge::configured(decision, gate, Policy::default()).await
    }

    pub async fn configured(decision: Decision, gate: Gate, policy: Policy) -> TestEdge {
        TestEdge::with(decision, gate, |config| config.policy = policy).await
    }

    /// An edge of two shards with whatever else `configure` sets.
    pub async fn with(
        decision: Decision,
        gate: Gate,
        configure: impl FnOnce(&mut Config),
    ) -> TestEdge {
        let mut config = Config::new("127.0.0.1:0".parse().unwrap());
        config.shards = 2;
        configure(&mut config);
        let (edge, events) = Edge::start(config, Gated(decision, gate)).await.unwrap();
        TestEdge { edge, events }
    }

    pub fn addr(&self) -> SocketAddr {
        self.edge.udp_addr()
    }

    /// The events of the next `calls` calls to end, each call's in order.
    pub async fn calls(&mut self, calls: usize) -> Vec<Vec<EventKind>> {
        let mut by_call: Vec<(u64, Vec<EventKind>)> = Vec::new();
        let mut ended = 0;
        while ended < calls {
            let event = tokio::time::timeout(Duration::from_secs(40), self.events.recv())
                .await
                .expect("call events in time")
                .expect("the edge is running");
            if matches!(event.kind, EventKind::Ended { .. }) {
                ended += 1;
            }
            match by_call.iter_mut().find(|(id, _)| *id == event.call) {
                Some((_, kinds)) => kinds.push(event.kind),
                None => by_call.push((event.call, vec![event.kind])),
            }
        }
        by_call.into_iter().map(|(_, kinds)| kinds).collect()
    }
}

/// A minimal INVITE from a [`RawPeer`] (`{me}` stands for its address) with `call_id`.
pub fn raw_invite(call_id: &str) -> String {
    format!(
        "INVITE sip:+15550100200@127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP {{me}};branch=z9hG4bK{call_id};rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:+15550001111@127.0.0.1>;tag=raw\r\n\
To: <sip:+15550100200@127.0.0.1>\r\n\
Call-ID: {call_id}\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:carrier@{{me}}>\r\n\
Content-Length: 0\r\n\r\n"
    )
}

pub const SDP: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";

/// An INVITE with an offer and a session timer of `session_expires` seconds, Call-ID
/// `session-1`, From tag `s1`.
pub fn timed_invite(session_expires: u32) -> String {
    format!(
        "INVITE sip:+15550100200@127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP {{me}};branch=z9hG4bKs1;rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:+15550001111@127.0.0.1>;tag=s1\r\n\
To: <sip:+15550100200@127.0.0.1>\r\n\
Call-ID: session-1\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:carrier@{{me}}>\r\n\
Supported: timer\r\n\
Session-Expires: {session_expires}\r\n\
Content-Type: application/sdp\r\n\
Content-Length: {}\r\n\r\n{SDP}",
        SDP.len()
    )
}

/// An in-dialog request from the caller, to the edge's Contact, with the edge's To tag.
pub fn in_dialog(method: &str, cseq: u32, to: &str, extra: &str) -> String {
    format!(
        "{method} sip:bidline@127.0.0.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP {{me}};branch=z9hG4bKs{cseq}{method};rport\r\n\
Max-Forwards: 70\r\n\
From: <sip:+15550001111@127.0.0.1>;tag=s1\r\n\
To: {to}\r\n\
Call-ID: session-1\r\n\
CSeq: {cseq} {method}\r\n\
{extra}Content-Length: 0\r\n\r\n"
    )
}

/// A hand-driven peer on UDP: sends text (`{me}` replaced by its own address) and reads
/// what comes back.
pub struct RawPeer {
    pub socket: tokio::net::UdpSocket,
    pub edge: SocketAddr,
}

impl RawPeer {
    pub async fn new(edge: SocketAddr) -> RawPeer {
        RawPeer { socket: tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap(), edge }
    }

    pub async fn send(&self, text: &str) {
        let text = text.replace("{me}", &self.socket.local_addr().unwrap().to_string());
        self.socket.send_to(text.as_bytes(), self.edge).await.unwrap();
    }

    pub async fn message(&self, within: Duration) -> Message {
        let mut buffer = vec![0; 65_536];
        let (length, _) = tokio::time::timeout(within, self.socket.recv_from(&mut buffer))
            .await
            .expect("a message in time")
            .unwrap();
        parse(&buffer[..length]).expect("the edge sends well-formed messages")
    }

    pub async fn response(&self) -> Response {
        match self.message(Duration::from_secs(5)).await {
            Message::Response(response) => response,
            other => panic!("not a response: {other:?}"),
        }
    }

    /// The next response with `status`, skipping any other (provisional ones).
    pub async fn response_of(&self, status: u16) -> Response {
        loop {
            let response = self.response().await;
            if response.status == status {
                return response;
            }
        }
    }

    /// The next request, within `within`.
    pub async fn request(&self, within: Duration) -> Request {
        match self.message(within).await {
            Message::Request(request) => request,
            other => panic!("not a request: {other:?}"),
        }
    }

    pub async fn reply(&self, request: &Request, status: u16) {
        let response = request.response(status, None);
        self.socket.send_to(&response.to_bytes(), self.edge).await.unwrap();
    }

    pub async fn silence(&self) {
        let mut buffer = vec![0; 65_536];
        let answer =
            tokio::time::timeout(Duration::from_millis(300), self.socket.recv_from(&mut buffer))
                .await;
        assert!(answer.is_err(), "expected no answer");
    }
}
