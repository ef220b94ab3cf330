//! Callers who are not who they say: wrong or replayed credentials, requests that know a
//! Call-ID but not its dialog, floods of INVITEs, sources that may be forged, and TCP
//! peers that hold connections open or never read. Real sockets and sipp throughout.

mod support;

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bidline_telephony::b2bua::{Decision, EndCause, EventKind, Side};
use bidline_telephony::digest;
use bidline_telephony::wire::{Message, parse};
use support::{
    Gate, RawPeer, Sipp, TestEdge, Transport, buyer, free_port, in_dialog, raw_invite, scenario,
    timed_invite,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

const GATE: Gate = Gate::Password { realm: "bidline", username: "carrier", password: "s3cret" };

fn not_here() -> Decision {
    Decision::Reject { status: 404, reason: "Not Found".into() }
}

/// A raw peer on another loopback address than 127.0.0.1.
async fn peer_elsewhere(edge: std::net::SocketAddr) -> RawPeer {
    RawPeer { socket: UdpSocket::bind("127.0.0.2:0").await.unwrap(), edge }
}

fn with_authorization(invite: &str, authorization: &str) -> String {
    invite.replace(
        "Content-Length: 0",
        &format!("Authorization: {authorization}\r\nContent-Length: 0"),
    )
}

#[tokio::test]
async fn a_wrong_password_gets_403_after_the_challenge() {
    let edge = TestEdge::gated(not_here(), GATE).await;
    let refused = scenario("uac_auth_refused.xml", vec![]);
    Sipp::uac_with_credentials(refused, edge.addr(), "carrier", "wrong").passes().await;
}

#[tokio::test]
async fn credentials_work_once_from_their_address_for_their_request_uri() {
    let edge = TestEdge::gated(not_here(), GATE).await;
    let peer = RawPeer::new(edge.addr()).await;
    peer.send(&raw_invite("auth-1")).await;
    let challenged = peer.response().await;
    assert_eq!(challenged.status, 401);
    let challenge = challenged.headers.get("WWW-Authenticate").unwrap().to_owned();
    let answer =
        |uri: &str| digest::answer(&challenge, "INVITE", uri, "carrier", "s3cret").unwrap();
    let good = answer("sip:+15550100200@127.0.0.1");

    // Computed for another number: refused, whatever the password.
    peer.send(&with_authorization(&raw_invite("auth-2"), &answer("sip:+15559999999@127.0.0.1")))
        .await;
    assert_eq!(peer.response().await.status, 403);

    // The nonce was given to 127.0.0.1: from elsewhere it is worth a new challenge only.
    let elsewhere = peer_elsewhere(edge.addr()).await;
    elsewhere.send(&with_authorization(&raw_invite("auth-3"), &good)).await;
    assert_eq!(elsewhere.response().await.status, 401);

    // Right: the call is in (routed, then refused by the router).
    peer.send(&with_authorization(&raw_invite("auth-4"), &good)).await;
    assert_eq!(peer.response().await.status, 100);
    assert_eq!(peer.response().await.status, 404);

    // The same Authorization on another call is a replay.
    peer.send(&with_authorization(&raw_invite("auth-5"), &good)).await;
    assert_eq!(peer.response().await.status, 403);
}

#[tokio::test]
async fn requests_that_know_a_call_id_but_not_its_dialog_get_481() {
    let port = free_port();
    let decision = Decision::Connect(vec![buyer(port, Transport::Udp, Duration::from_secs(10))]);
    let mut edge = TestEdge::start(decision).await;
    let uas = Sipp::uas(support::Scenario::Builtin("uas"), port, Transport::Udp, 1);
    let caller = RawPeer::new(edge.addr()).await;
    caller.send(&timed_invite(1800)).await;
    let answer = caller.response_of(200).await;
    let to = answer.headers.get("To").unwrap().to_owned();
    caller.send(&in_dialog("ACK", 1, &to, "")).await;

    // The right Call-ID with a To tag that is not ours.
    caller.send(&in_dialog("BYE", 2, "<sip:+15550100200@127.0.0.1>;tag=guessed", "")).await;
    assert_eq!(caller.response().await.status, 481);
    // The right Call-ID and tags, from an address that is not the caller's.
    let stranger = peer_elsewhere(edge.addr()).await;
    stranger.send(&in_dialog("BYE", 3, &to, "")).await;
    assert_eq!(stranger.response().await.status, 481);
    // The right Call-ID on an INVITE without a To tag: a new call, admitted, refused as a
    // request merged with a call that has its Call-ID.
    stranger.send(&timed_invite(1800).replace("z9hG4bKs1", "z9hG4bKs9")).await;
    assert_eq!(stranger.response().await.status, 482);

    // The call is still up: the caller's own BYE ends it.
    caller.send(&in_dialog("BYE", 4, &to, "")).await;
    assert_eq!(caller.response().await.status, 200);
    uas.passes().await;
    let call = edge.calls(1).await.remove(0);
    assert_eq!(call.last(), Some(&EventKind::Ended { cause: EndCause::HungUp(Side::Caller) }));
}

#[tokio::test]
async fn a_flood_of_invites_gets_503_while_other_requests_are_still_served() {
    let edge = TestEdge::with(not_here(), Gate::Slow(Duration::from_millis(30)), |config| {
        config.shards = 1;
        config.queue = 8;
    })
    .await;
    let flood = RawPeer::new(edge.addr()).await;
    for n in 0..40 {
        flood.send(&raw_invite(&format!("flood-{n}"))).await;
    }
    let bystander = RawPeer::new(edge.addr()).await;
    bystander.send(&in_dialog("BYE", 2, "<sip:+15550100200@127.0.0.1>;tag=t", "")).await;

    let mut busy = 0;
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        let mut buffer = vec![0; 65_536];
        let wait = tokio::time::timeout(Duration::from_millis(500), flood.socket.recv(&mut buffer));
        let Ok(Ok(length)) = wait.await else { break };
        let Ok(Message::Response(response)) = parse(&buffer[..length]) else { continue };
        if response.status == 503 {
            assert_eq!(response.headers.get("Retry-After"), Some("5"));
            busy += 1;
        }
    }
    assert!(busy >= 20, "most of the flood is turned away at once ({busy} 503s)");
    assert_eq!(edge.edge.stats().overloaded.load(Ordering::Relaxed), busy);
    let served = bystander.message(Duration::from_secs(5)).await;
    let Message::Response(served) = served else { panic!("{served:?}") };
    assert_eq!(served.status, 481, "a request of no new call still got in");
}

#[tokio::test]
async fn no_answer_to_a_stranger_over_udp_is_larger_than_what_it_sent() {
    let edge = TestEdge::gated(not_here(), Gate::Closed).await;
    let peer = RawPeer::new(edge.addr()).await;
    let tiny = "INVITE sip:1@x SIP/2.0\r\nv: SIP/2.0/UDP {me};branch=z9hG4bKa\r\nf: <sip:a@x>;tag=1\r\nt: <sip:1@x>\r\ni: a\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n";
    peer.send(tiny).await;
    peer.silence().await;
    let malformed = raw_invite("amp-1").replace("Max-Forwards: 70", "Max-Forwards: <script>");
    peer.send(&malformed).await;
    let mut buffer = vec![0; 65_536];
    let length = tokio::time::timeout(Duration::from_secs(5), peer.socket.recv(&mut buffer))
        .await
        .expect("the 400")
        .unwrap();
    let sent = malformed.replace("{me}", &peer.socket.local_addr().unwrap().to_string());
    assert!(length <= sent.len(), "{length} bytes for {} received", sent.len());
    let answer = String::from_utf8_lossy(&buffer[..length]).into_owned();
    assert!(answer.starts_with("SIP/2.0 400"), "{answer}");
    assert!(!answer.contains("script"), "the answer repeats what it was sent: {answer}");

    let invite = raw_invite("amp-2");
    peer.send(&invite).await;
    let length = tokio::time::timeout(Duration::from_secs(5), peer.socket.recv(&mut buffer))
        .await
        .expect("the 403")
        .unwrap();
    assert!(String::from_utf8_lossy(&buffer[..length]).starts_with("SIP/2.0 403"));
    assert!(length <= invite.len() + 10, "{length} bytes for an INVITE of ~{}", invite.len());
}

/// Whether the edge closed `stream` within `within` (a read ends or fails).
async fn closed(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0u8; 4096];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
        }
    }
}

const OPTIONS: &str = "OPTIONS sip:127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKo{n}\r\nMax-Forwards: 70\r\nFrom: <sip:probe@127.0.0.1>;tag=o\r\nTo: <sip:127.0.0.1>\r\nCall-ID: options-{n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n";

#[tokio::test]
async fn tcp_connections_are_capped_per_address_and_idle_ones_closed() {
    let edge = TestEdge::with(not_here(), Gate::Open, |config| {
        config.tcp.per_address = 2;
        config.tcp.idle = Duration::from_secs(2);
    })
    .await;
    let addr = edge.edge.tcp_addr();
    let mut first = TcpStream::connect(addr).await.unwrap();
    let mut second = TcpStream::connect(addr).await.unwrap();
    let mut third = TcpStream::connect(addr).await.unwrap();
    assert!(closed(&mut third, Duration::from_secs(2)).await, "a third connection is refused");
    second.write_all(OPTIONS.replace("{n}", "1").as_bytes()).await.unwrap();
    let mut buffer = [0u8; 4096];
    let length = second.read(&mut buffer).await.unwrap();
    assert!(String::from_utf8_lossy(&buffer[..length]).starts_with("SIP/2.0 200"));
    // Nothing more from either: both go once idle for two seconds.
    let started = Instant::now();
    assert!(closed(&mut first, Duration::from_secs(5)).await, "an idle connection is closed");
    assert!(closed(&mut second, Duration::from_secs(5)).await);
    assert!(started.elapsed() >= Duration::from_millis(1500), "{:?}", started.elapsed());
    // A place is free again.
    let mut fourth = TcpStream::connect(addr).await.unwrap();
    assert!(!closed(&mut fourth, Duration::from_millis(300)).await);
}

#[tokio::test]
async fn a_tcp_peer_that_never_reads_is_disconnected() {
    let edge = TestEdge::with(not_here(), Gate::Open, |config| {
        config.tcp.write_queue_bytes = 64 * 1024;
    })
    .await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let mut stream = socket.connect(edge.edge.tcp_addr()).await.unwrap();
    // Tens of megabytes of answers asked for, none read: more than any kernel buffers.
    let started = Instant::now();
    let mut cut = false;
    for n in 0..200_000 {
        if stream.write_all(OPTIONS.replace("{n}", &n.to_string()).as_bytes()).await.is_err() {
            cut = true;
            break;
        }
        if started.elapsed() > Duration::from_secs(30) {
            break;
        }
    }
    assert!(cut || closed(&mut stream, Duration::from_secs(5)).await, "still connected");
}
