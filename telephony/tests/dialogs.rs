//! Inside an answered call: re-INVITE, UPDATE and INFO pass from one leg to the other,
//! and a session timer (RFC 4028) keeps the call only while refreshes come.

mod support;

use std::time::{Duration, Instant};

use bidline_telephony::b2bua::{Decision, EndCause, EventKind, Policy};
use bidline_telephony::wire::{Fields, Message};
use rsip::Method;
use support::{
    Gate, RawPeer, Sipp, TestEdge, Transport, buyer, free_port, in_dialog, scenario,
    timed_invite as invite,
};

#[tokio::test]
async fn a_re_invite_and_an_info_are_relayed_between_the_legs() {
    let port = free_port();
    let mut edge = TestEdge::start(Decision::Connect(vec![buyer(
        port,
        Transport::Udp,
        Duration::from_secs(10),
    )]))
    .await;
    let uas = Sipp::uas(scenario("uas_reinvite.xml", vec![]), port, Transport::Udp, 1);
    Sipp::uac(scenario("uac_reinvite.xml", vec![]), edge.addr(), Transport::Udp, 1).passes().await;
    uas.passes().await;
    let call = edge.calls(1).await.remove(0);
    assert_eq!(
        call.last(),
        Some(&EventKind::Ended {
            cause: bidline_telephony::b2bua::EndCause::HungUp(
                bidline_telephony::b2bua::Side::Caller
            )
        })
    );
}

#[tokio::test]
async fn a_session_lives_while_refreshed_and_is_hung_up_when_refreshes_stop() {
    let port = free_port();
    let policy = Policy { min_session_expires: Duration::from_secs(1), ..Policy::default() };
    let decision = Decision::Connect(vec![buyer(port, Transport::Udp, Duration::from_secs(10))]);
    let mut edge = TestEdge::configured(decision, Gate::Open, policy).await;
    let uas = Sipp::uas(scenario("uas_refresh.xml", vec![]), port, Transport::Udp, 1);
    let caller = RawPeer::new(edge.addr()).await;

    caller.send(&invite(3)).await;
    let answer = caller.response_of(200).await;
    let answered = Instant::now();
    assert_eq!(answer.headers.get("Session-Expires"), Some("3;refresher=uac"));
    assert_eq!(answer.headers.get("Require"), Some("timer"));
    let to = answer.headers.get("To").unwrap().to_owned();
    caller.send(&in_dialog("ACK", 1, &to, "")).await;

    // One refresh, a second in: the session now ends two seconds after it, not after
    // the answer.
    tokio::time::sleep(Duration::from_secs(1)).await;
    caller.send(&in_dialog("UPDATE", 2, &to, "Session-Expires: 3;refresher=uac\r\n")).await;
    let refreshed = caller.response().await;
    assert_eq!((refreshed.status, refreshed.cseq().unwrap().method), (200, Method::Update));

    let bye = caller.request(Duration::from_secs(5)).await;
    assert_eq!(bye.method, Method::Bye);
    let lived = answered.elapsed();
    assert!(
        lived > Duration::from_millis(2_500) && lived < Duration::from_millis(4_000),
        "hung up {lived:?} after the answer"
    );
    caller.reply(&bye, 200).await;
    uas.passes().await;
    let call = edge.calls(1).await.remove(0);
    assert_eq!(call.last(), Some(&EventKind::Ended { cause: EndCause::SessionExpired }));
}

#[tokio::test]
async fn a_session_interval_under_the_minimum_gets_422_with_min_se() {
    let edge = TestEdge::start(Decision::Connect(vec![])).await;
    let caller = RawPeer::new(edge.addr()).await;
    caller.send(&invite(30)).await;
    assert_eq!(caller.response().await.status, 100);
    let refused = caller.response().await;
    assert_eq!(refused.status, 422);
    assert_eq!(refused.headers.get("Min-SE"), Some("90"));
}

#[tokio::test]
async fn an_in_dialog_request_for_a_call_not_answered_gets_481() {
    let edge = TestEdge::start(Decision::Connect(vec![])).await;
    let caller = RawPeer::new(edge.addr()).await;
    caller.send(&in_dialog("INFO", 2, "<sip:+15550100200@127.0.0.1>;tag=nope", "")).await;
    let Message::Response(response) = caller.message(Duration::from_secs(5)).await else {
        panic!()
    };
    assert_eq!(response.status, 481);
}
