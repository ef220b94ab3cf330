//! Who may call in, and how the edge proves itself to buyers that ask: source allow-lists
//! and digest authentication both ways, with sipp as carrier and buyer.

mod support;

use std::sync::LazyLock;
use std::time::Duration;

use bidline_telephony::b2bua::{Credentials, Decision, EventKind};
use support::{
    Gate, RawPeer, Scenario, Sipp, TestEdge, Transport, buyer, free_port, raw_invite, scenario,
};

const GATE: Gate = Gate::Password { realm: "bidline", username: "carrier", password: "s3cret" };

async fn answer_to(edge: std::net::SocketAddr, request: &str) -> u16 {
    let peer = RawPeer::new(edge).await;
    peer.send(request).await;
    peer.response().await.status
}

static INVITE: LazyLock<String> = LazyLock::new(|| raw_invite("trunk-1"));

#[tokio::test]
async fn a_source_no_trunk_admits_gets_403_before_anything_else() {
    let edge = TestEdge::gated(Decision::Connect(vec![]), Gate::Closed).await;
    assert_eq!(answer_to(edge.addr(), &INVITE).await, 403);
}

#[tokio::test]
async fn wrong_or_missing_credentials_are_challenged() {
    let edge = TestEdge::gated(Decision::Connect(vec![]), GATE).await;
    assert_eq!(answer_to(edge.addr(), &INVITE).await, 401);
    let forged = INVITE.replace(
        "Content-Length: 0",
        "Authorization: Digest username=\"carrier\", realm=\"bidline\", nonce=\"1.x\", uri=\"sip:+15550100200@127.0.0.1\", response=\"00000000000000000000000000000000\"\r\nContent-Length: 0",
    );
    assert_eq!(answer_to(edge.addr(), &forged).await, 401);
}

#[tokio::test]
async fn a_carrier_that_answers_the_challenge_gets_its_call_through() {
    let port = free_port();
    let mut edge = TestEdge::gated(
        Decision::Connect(vec![buyer(port, Transport::Udp, Duration::from_secs(10))]),
        GATE,
    )
    .await;
    let uas = Sipp::uas(Scenario::Builtin("uas"), port, Transport::Udp, 1);
    Sipp::uac_with_credentials(scenario("uac_auth.xml", vec![]), edge.addr(), "carrier", "s3cret")
        .passes()
        .await;
    uas.passes().await;
    let call = edge.calls(1).await.remove(0);
    assert!(call.contains(&EventKind::Bridged { leg: 0 }), "{call:?}");
}

#[tokio::test]
async fn a_buyer_challenge_is_answered_with_the_destination_credentials() {
    let port = free_port();
    let mut destination = buyer(port, Transport::Udp, Duration::from_secs(10));
    destination.credentials = Some(Credentials { username: "buyer".into(), password: "pw".into() });
    let mut edge = TestEdge::start(Decision::Connect(vec![destination])).await;
    let uas = Sipp::uas(scenario("uas_challenge.xml", vec![]), port, Transport::Udp, 1);
    Sipp::uac(Scenario::Builtin("uac"), edge.addr(), Transport::Udp, 1).passes().await;
    uas.passes().await;
    let call = edge.calls(1).await.remove(0);
    assert!(call.contains(&EventKind::Bridged { leg: 0 }), "{call:?}");
}
