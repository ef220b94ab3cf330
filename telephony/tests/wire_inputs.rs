//! What the edge answers to hand-written messages on real sockets: malformed, compact,
//! folded, unknown, probing and looping input. Every request that can be answered is.

mod support;

use std::sync::LazyLock;
use std::time::Duration;

use bidline_telephony::b2bua::{Decision, Destination, EndCause, EventKind};
use bidline_telephony::wire::{Fields, Message, parse};
use support::{RawPeer as Peer, TestEdge, raw_invite};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

static INVITE: LazyLock<String> = LazyLock::new(|| raw_invite("wire-1"));

fn reject_all() -> Decision {
    Decision::Reject { status: 404, reason: "Not Found".into() }
}

#[tokio::test]
async fn a_malformed_request_gets_400_with_a_warning_that_says_why() {
    let edge = TestEdge::start(reject_all()).await;
    let peer = Peer::new(edge.addr()).await;
    peer.send(&INVITE.replace("CSeq: 1 INVITE", "CSeq: 1 BYE")).await;
    let response = peer.response().await;
    assert_eq!(response.status, 400);
    assert_eq!(response.call_id(), "wire-1");
    assert!(response.headers.get("Warning").unwrap().contains("CSeq method"), "{response:?}");
}

#[tokio::test]
async fn an_unknown_method_gets_501_with_allow() {
    let edge = TestEdge::start(reject_all()).await;
    let peer = Peer::new(edge.addr()).await;
    peer.send(&INVITE.replace("INVITE sip", "PUBLISHX sip").replace("1 INVITE", "1 PUBLISHX"))
        .await;
    let response = peer.response().await;
    assert_eq!(response.status, 501);
    assert!(response.headers.get("Allow").unwrap().contains("INVITE"));
}

#[tokio::test]
async fn a_datagram_with_a_short_body_gets_400() {
    let edge = TestEdge::start(reject_all()).await;
    let peer = Peer::new(edge.addr()).await;
    peer.send(&INVITE.replace("Content-Length: 0\r\n\r\n", "Content-Length: 50\r\n\r\nv=0\r\n"))
        .await;
    let response = peer.response().await;
    assert_eq!(response.status, 400);
    assert!(response.headers.get("Warning").unwrap().contains("Content-Length"));
}

#[tokio::test]
async fn compact_folded_lf_only_invites_with_tel_uris_are_taken_as_written() {
    let mut edge = TestEdge::start(reject_all()).await;
    let peer = Peer::new(edge.addr()).await;
    let compact = "INVITE tel:+15550100200 SIP/2.0\n\
v: SIP/2.0/UDP {me}\n ;branch=z9hG4bKw2;rport\n\
f: <sip:+15550001111@[2001:db8::1]>;tag=w2\n\
t: <tel:+15550100200>\n\
i : wire-2\n\
CSeq: 1\n\tINVITE\n\
m: <sip:carrier@{me}>\n\
l: 0\n\n";
    peer.send(compact).await;
    assert_eq!(peer.response().await.status, 100);
    let refused = peer.response().await;
    assert_eq!((refused.status, refused.call_id()), (404, "wire-2"));
    let call = edge.calls(1).await.remove(0);
    assert!(matches!(&call[0], EventKind::Initiated { dialed, caller: Some(caller), .. }
        if dialed == "+15550100200" && caller == "+15550001111"));
}

#[tokio::test]
async fn the_top_via_says_where_a_natted_request_really_came_from() {
    let edge = TestEdge::start(reject_all()).await;
    let peer = Peer::new(edge.addr()).await;
    peer.send(&INVITE.replace("Via: SIP/2.0/UDP {me}", "Via: SIP/2.0/UDP 10.0.0.9:5060")).await;
    let trying = peer.response().await;
    let via = trying.top_via().unwrap();
    let me = peer.socket.local_addr().unwrap();
    assert_eq!(via.params.value("received"), Some("127.0.0.1"));
    assert_eq!(via.params.value("rport"), Some(me.port().to_string().as_str()));
}

#[tokio::test]
async fn options_gets_200_with_allow_and_supported_even_at_max_forwards_0() {
    let edge = TestEdge::start(reject_all()).await;
    let peer = Peer::new(edge.addr()).await;
    let options = INVITE.replace("INVITE sip", "OPTIONS sip").replace("1 INVITE", "1 OPTIONS");
    peer.send(&options.replace("Max-Forwards: 70", "Max-Forwards: 0")).await;
    let response = peer.response().await;
    assert_eq!(response.status, 200);
    assert!(response.headers.get("Allow").unwrap().contains("BYE"));
    assert!(response.headers.has("Supported"));
}

#[tokio::test]
async fn an_invite_out_of_hops_gets_483() {
    let edge = TestEdge::start(reject_all()).await;
    let peer = Peer::new(edge.addr()).await;
    peer.send(&INVITE.replace("Max-Forwards: 70", "Max-Forwards: 0")).await;
    assert_eq!(peer.response().await.status, 100);
    assert_eq!(peer.response().await.status, 483);
}

#[tokio::test]
async fn an_invite_that_loops_back_to_the_edge_gets_482() {
    // The edge's only destination is itself: the outbound INVITE comes back in.
    let port = support::free_port();
    let uri = format!("sip:+15550100200@127.0.0.1:{port}").parse().unwrap();
    let itself = Destination::to_address(uri, Duration::from_secs(5)).unwrap();
    let mut config =
        bidline_telephony::edge::Config::new(format!("127.0.0.1:{port}").parse().unwrap());
    config.shards = 2;
    let (edge, mut events) = bidline_telephony::edge::Edge::start(
        config,
        support::Fixed(Decision::Connect(vec![itself])),
    )
    .await
    .unwrap();
    let peer = Peer::new(edge.udp_addr()).await;
    peer.send(&INVITE).await;
    assert_eq!(peer.response().await.status, 100);
    assert_eq!(peer.response().await.status, 482);
    let ended = loop {
        if let EventKind::Ended { cause } = events.recv().await.unwrap().kind {
            break cause;
        }
    };
    assert_eq!(ended, EndCause::Unanswered { status: 482 });
}

#[tokio::test]
async fn a_request_for_an_unknown_dialog_gets_481_and_a_stray_ack_nothing() {
    let edge = TestEdge::start(reject_all()).await;
    let peer = Peer::new(edge.addr()).await;
    let bye = INVITE
        .replace("INVITE sip", "BYE sip")
        .replace("1 INVITE", "2 BYE")
        .replace("To: <sip:+15550100200@127.0.0.1>", "To: <sip:+15550100200@127.0.0.1>;tag=x");
    peer.send(&bye).await;
    assert_eq!(peer.response().await.status, 481);
    peer.send(&bye.replace("BYE sip", "ACK sip").replace("2 BYE", "1 ACK")).await;
    peer.silence().await;
}

#[tokio::test]
async fn over_tcp_a_keep_alive_ping_gets_a_pong_and_a_message_without_length_gets_400() {
    let edge = TestEdge::start(reject_all()).await;
    let mut stream = TcpStream::connect(edge.edge.tcp_addr()).await.unwrap();
    stream.write_all(b"\r\n\r\n").await.unwrap();
    let mut pong = [0u8; 2];
    tokio::time::timeout(Duration::from_secs(5), stream.read_exact(&mut pong))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&pong, b"\r\n");

    let me = stream.local_addr().unwrap().to_string();
    let invite = INVITE
        .replace("{me}", &me)
        .replace("SIP/2.0/UDP", "SIP/2.0/TCP")
        .replace("Content-Length: 0\r\n", "");
    stream.write_all(invite.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    let Ok(Message::Response(response)) = parse(&answer) else {
        panic!("{}", String::from_utf8_lossy(&answer))
    };
    assert_eq!(response.status, 400);
    assert!(response.headers.get("Warning").unwrap().contains("Content-Length"));
}
