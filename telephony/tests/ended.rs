//! After a call has ended, for as long as RFC 3261 §17 keeps its transactions (32 s over
//! UDP), repeats get the answers they got before: a repeated BYE its 200, a repeated
//! INVITE nothing new (and no second call), a buyer's repeated final response our ACK.
//! An ended call keeps only what that takes, so these are what it must still do.

mod support;

use std::time::Duration;

use bidline_telephony::b2bua::{Decision, EndCause, EventKind, Side};
use bidline_telephony::wire::{Fields, Request, Response};
use rsip::Method;
use support::{RawPeer, SDP, TestEdge, Transport, buyer, free_port, in_dialog, timed_invite};

/// An edge that sends every call to one buyer, and caller and buyer driven by hand.
struct Parties {
    edge: TestEdge,
    caller: RawPeer,
    buyer: RawPeer,
    /// The buyer's port.
    port: u16,
}

impl Parties {
    async fn new() -> Parties {
        let port = free_port();
        let ring = Duration::from_secs(10);
        let edge =
            TestEdge::start(Decision::Connect(vec![buyer(port, Transport::Udp, ring)])).await;
        let socket = tokio::net::UdpSocket::bind(("127.0.0.1", port)).await.unwrap();
        let buyer = RawPeer { socket, edge: edge.addr() };
        let caller = RawPeer::new(edge.addr()).await;
        Parties { edge, caller, buyer, port }
    }
}

async fn send(peer: &RawPeer, response: &Response) {
    peer.socket.send_to(&response.to_bytes(), peer.edge).await.unwrap();
}

/// The buyer's 200 to `invite`, with its tag, Contact and answer.
fn answer(invite: &Request, port: u16) -> Response {
    let mut ok = invite.response(200, Some("buyer"));
    ok.headers.push("Contact", format!("<sip:buyer@127.0.0.1:{port}>"));
    ok.headers.push("Content-Type", "application/sdp");
    ok.body = SDP.as_bytes().to_vec();
    ok
}

/// The next request the peer gets, skipping any repeats of `skip`.
async fn next_request(peer: &RawPeer, skip: Method) -> Request {
    loop {
        let request = peer.request(Duration::from_secs(5)).await;
        if request.method != skip {
            return request;
        }
    }
}

/// A caller's INVITE answered by the buyer and ACKed on both sides. Returns the edge's
/// To for the caller, the INVITE the buyer got and the buyer's 200.
async fn answered_call(
    caller: &RawPeer,
    buyer: &RawPeer,
    port: u16,
) -> (String, Request, Response) {
    caller.send(&timed_invite(1800)).await;
    let invite = buyer.request(Duration::from_secs(5)).await;
    assert_eq!(invite.method, Method::Invite);
    let ok = answer(&invite, port);
    send(buyer, &ok).await;
    assert_eq!(buyer.request(Duration::from_secs(5)).await.method, Method::Ack);
    let answer = caller.response_of(200).await;
    let to = answer.headers.get("To").unwrap().to_owned();
    caller.send(&in_dialog("ACK", 1, &to, "")).await;
    (to, invite, ok)
}

#[tokio::test]
async fn after_the_caller_hangs_up_repeats_of_its_bye_invite_and_the_buyers_answer_are_absorbed() {
    let Parties { mut edge, caller, buyer, port } = Parties::new().await;
    let (to, _, ok) = answered_call(&caller, &buyer, port).await;

    let bye = in_dialog("BYE", 2, &to, "");
    caller.send(&bye).await;
    let hung_up = caller.response().await;
    assert_eq!(hung_up.status, 200);
    let our_bye = next_request(&buyer, Method::Ack).await;
    assert_eq!(our_bye.method, Method::Bye);
    buyer.reply(&our_bye, 200).await;
    let call = edge.calls(1).await.remove(0);
    assert_eq!(call.last(), Some(&EventKind::Ended { cause: EndCause::HungUp(Side::Caller) }));

    // The caller did not hear our 200: its BYE again gets the same 200.
    caller.send(&bye).await;
    let again = caller.response().await;
    assert_eq!((again.status, again.headers.get("To")), (200, hung_up.headers.get("To")));
    // Its INVITE again is no new call: absorbed, unanswered.
    caller.send(&timed_invite(1800)).await;
    caller.silence().await;
    // The buyer did not hear our ACK: its 200 again gets the ACK again.
    send(&buyer, &ok).await;
    let ack = buyer.request(Duration::from_secs(5)).await;
    assert_eq!(ack.method, Method::Ack);
    assert_eq!(ack.cseq().map(|cseq| cseq.number), Some(1));
    buyer.silence().await;
    assert!(edge.events.try_recv().is_err(), "nothing else happened");
}

#[tokio::test]
async fn after_the_buyer_hangs_up_its_repeated_bye_gets_its_200_again() {
    let Parties { mut edge, caller, buyer, port } = Parties::new().await;
    let (_, invite, ok) = answered_call(&caller, &buyer, port).await;

    // The buyer's BYE inside its dialog: its From is the 200's To, its To our From.
    let mut bye = Request {
        method: Method::Bye,
        uri: invite.headers.get("Contact").unwrap().trim_matches(['<', '>']).parse().unwrap(),
        headers: Default::default(),
        body: Vec::new(),
    };
    let me = buyer.socket.local_addr().unwrap();
    bye.headers.push("Via", format!("SIP/2.0/UDP {me};branch=z9hG4bKbuyerbye"));
    bye.headers.push("Max-Forwards", "70");
    bye.headers.push("From", ok.headers.get("To").unwrap());
    bye.headers.push("To", invite.headers.get("From").unwrap());
    bye.headers.push("Call-ID", invite.call_id());
    bye.headers.push("CSeq", "1 BYE");
    bye.headers.push("Content-Length", "0");
    buyer.socket.send_to(&bye.to_bytes(), edge.addr()).await.unwrap();
    assert_eq!(buyer.response().await.status, 200);
    let to_caller = caller.request(Duration::from_secs(5)).await;
    assert_eq!(to_caller.method, Method::Bye);
    caller.reply(&to_caller, 200).await;
    let call = edge.calls(1).await.remove(0);
    assert_eq!(call.last(), Some(&EventKind::Ended { cause: EndCause::HungUp(Side::Callee) }));

    buyer.socket.send_to(&bye.to_bytes(), edge.addr()).await.unwrap();
    assert_eq!(buyer.response().await.status, 200);
}

#[tokio::test]
async fn after_a_failure_the_caller_hears_it_until_it_acks_and_the_buyer_gets_its_ack_again() {
    let Parties { mut edge, caller, buyer, .. } = Parties::new().await;

    caller.send(&timed_invite(1800)).await;
    let invite = buyer.request(Duration::from_secs(5)).await;
    let busy = invite.response(486, Some("buyer"));
    send(&buyer, &busy).await;
    let ack = buyer.request(Duration::from_secs(5)).await;
    assert_eq!(ack.method, Method::Ack);
    let call = edge.calls(1).await.remove(0);
    assert_eq!(
        call.last(),
        Some(&EventKind::Ended { cause: EndCause::Unanswered { status: 486 } })
    );

    // Unacknowledged, our 486 comes again by itself (timer G), and again for a repeat.
    let first = caller.response_of(486).await;
    assert_eq!(caller.response().await.status, 486);
    caller.send(&timed_invite(1800)).await;
    assert_eq!(caller.response().await.status, 486);
    let to = first.headers.get("To").unwrap().to_owned();
    caller.send(&in_dialog("ACK", 1, &to, "").replace("z9hG4bKs1ACK", "z9hG4bKs1")).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    while tokio::time::timeout(Duration::from_millis(50), caller.response()).await.is_ok() {}
    // Acknowledged: neither timers nor repeats bring it again.
    caller.send(&timed_invite(1800)).await;
    caller.silence().await;

    // The buyer's 486 again gets the same ACK again.
    send(&buyer, &busy).await;
    let again = buyer.request(Duration::from_secs(5)).await;
    assert_eq!(again.to_bytes(), ack.to_bytes());
    assert!(edge.events.try_recv().is_err(), "no second call");
}
