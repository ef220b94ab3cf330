//! Calls through the edge between real SIP peers: sipp as the carrier placing calls and
//! as the buyers answering, refusing, ringing forever or hanging up, over UDP and TCP.

mod support;

use std::time::Duration;

use bidline_telephony::b2bua::{Decision, EndCause, EventKind, Side};
use support::{Scenario, Sipp, TestEdge, Transport, buyer, free_port, scenario};

const RING: Duration = Duration::from_secs(10);

fn refused(status: u16) -> Scenario {
    scenario("uac_refused.xml", vec![("__STATUS__", status.to_string())])
}

fn statuses(kinds: &[EventKind]) -> Vec<String> {
    kinds
        .iter()
        .map(|kind| match kind {
            EventKind::Initiated { .. } => "initiated".into(),
            EventKind::Routed { destinations } => format!("routed {destinations}"),
            EventKind::LegTrying { leg, .. } => format!("trying {leg}"),
            EventKind::LegRinging { leg, status } => format!("ringing {leg} {status}"),
            EventKind::LegAnswered { leg } => format!("answered {leg}"),
            EventKind::LegFailed { leg, status, .. } => format!("failed {leg} {status}"),
            EventKind::Bridged { leg } => format!("bridged {leg}"),
            EventKind::Ended { cause } => format!("ended {cause:?}"),
        })
        .collect()
}

async fn basic_calls(transport: Transport) {
    let port = free_port();
    let mut edge = TestEdge::start(Decision::Connect(vec![buyer(port, transport, RING)])).await;
    let uas = Sipp::uas(Scenario::Builtin("uas"), port, transport, 3);
    let uac = Sipp::uac(Scenario::Builtin("uac"), edge.addr(), transport, 3);
    uac.passes().await;
    uas.passes().await;
    for call in edge.calls(3).await {
        assert_eq!(
            statuses(&call),
            [
                "initiated",
                "routed 1",
                "trying 0",
                "ringing 0 180",
                "answered 0",
                "bridged 0",
                "ended HungUp(Caller)"
            ]
        );
    }
}

#[tokio::test]
async fn a_call_is_answered_bridged_and_hung_up_by_the_caller_over_udp() {
    basic_calls(Transport::Udp).await;
}

#[tokio::test]
async fn a_call_is_answered_bridged_and_hung_up_by_the_caller_over_tcp() {
    basic_calls(Transport::Tcp).await;
}

async fn busy_then_answered(transport: Transport) {
    let (busy, good) = (free_port(), free_port());
    let mut edge = TestEdge::start(Decision::Connect(vec![
        buyer(busy, transport, RING),
        buyer(good, transport, RING),
    ]))
    .await;
    let first = Sipp::uas(scenario("uas_busy.xml", vec![]), busy, transport, 1);
    let second = Sipp::uas(Scenario::Builtin("uas"), good, transport, 1);
    Sipp::uac(Scenario::Builtin("uac"), edge.addr(), transport, 1).passes().await;
    first.passes().await;
    second.passes().await;
    let call = edge.calls(1).await.remove(0);
    assert_eq!(
        statuses(&call),
        [
            "initiated",
            "routed 2",
            "trying 0",
            "failed 0 486",
            "trying 1",
            "ringing 1 180",
            "answered 1",
            "bridged 1",
            "ended HungUp(Caller)"
        ]
    );
}

#[tokio::test]
async fn a_busy_buyer_is_skipped_and_the_next_answers_over_udp() {
    busy_then_answered(Transport::Udp).await;
}

#[tokio::test]
async fn a_busy_buyer_is_skipped_and_the_next_answers_over_tcp() {
    busy_then_answered(Transport::Tcp).await;
}

#[tokio::test]
async fn when_every_buyer_fails_the_caller_gets_the_last_failure() {
    let busy = free_port();
    let mut edge =
        TestEdge::start(Decision::Connect(vec![buyer(busy, Transport::Udp, RING)])).await;
    let uas = Sipp::uas(scenario("uas_busy.xml", vec![]), busy, Transport::Udp, 1);
    Sipp::uac(refused(486), edge.addr(), Transport::Udp, 1).passes().await;
    uas.passes().await;
    let call = edge.calls(1).await.remove(0);
    assert_eq!(
        call.last(),
        Some(&EventKind::Ended { cause: EndCause::Unanswered { status: 486 } })
    );
}

#[tokio::test]
async fn with_no_destination_the_caller_gets_480_and_a_refusal_gets_its_status() {
    let mut edge = TestEdge::start(Decision::Connect(vec![])).await;
    Sipp::uac(refused(480), edge.addr(), Transport::Udp, 1).passes().await;
    assert_eq!(
        edge.calls(1).await[0].last(),
        Some(&EventKind::Ended { cause: EndCause::Unanswered { status: 480 } })
    );

    let reject = Decision::Reject { status: 404, reason: "No Such Number".into() };
    let mut edge = TestEdge::start(reject).await;
    Sipp::uac(refused(404), edge.addr(), Transport::Udp, 1).passes().await;
    assert_eq!(
        edge.calls(1).await[0].last(),
        Some(&EventKind::Ended { cause: EndCause::Rejected { status: 404 } })
    );
}

#[tokio::test]
async fn a_buyer_that_rings_too_long_is_cancelled_and_the_next_answers() {
    let (slow, good) = (free_port(), free_port());
    let mut edge = TestEdge::start(Decision::Connect(vec![
        buyer(slow, Transport::Udp, Duration::from_secs(1)),
        buyer(good, Transport::Udp, RING),
    ]))
    .await;
    let first = Sipp::uas(scenario("uas_ring_forever.xml", vec![]), slow, Transport::Udp, 1);
    let second = Sipp::uas(Scenario::Builtin("uas"), good, Transport::Udp, 1);
    Sipp::uac(Scenario::Builtin("uac"), edge.addr(), Transport::Udp, 1).passes().await;
    first.passes().await;
    second.passes().await;
    let call = statuses(&edge.calls(1).await[0]);
    assert_eq!(
        call,
        [
            "initiated",
            "routed 2",
            "trying 0",
            "ringing 0 180",
            "failed 0 408",
            "trying 1",
            "ringing 1 180",
            "answered 1",
            "bridged 1",
            "ended HungUp(Caller)"
        ]
    );
}

async fn caller_cancels(transport: Transport) {
    let port = free_port();
    let mut edge = TestEdge::start(Decision::Connect(vec![buyer(port, transport, RING)])).await;
    let uas = Sipp::uas(scenario("uas_ring_forever.xml", vec![]), port, transport, 1);
    Sipp::uac(scenario("uac_cancel.xml", vec![]), edge.addr(), transport, 1).passes().await;
    uas.passes().await;
    let call = edge.calls(1).await.remove(0);
    assert_eq!(call.last(), Some(&EventKind::Ended { cause: EndCause::Cancelled }));
}

#[tokio::test]
async fn a_caller_cancel_while_ringing_cancels_the_buyer_over_udp() {
    caller_cancels(Transport::Udp).await;
}

#[tokio::test]
async fn a_caller_cancel_while_ringing_cancels_the_buyer_over_tcp() {
    caller_cancels(Transport::Tcp).await;
}

#[tokio::test]
async fn an_answer_that_crosses_the_cancel_is_acked_and_hung_up() {
    let port = free_port();
    let mut edge =
        TestEdge::start(Decision::Connect(vec![buyer(port, Transport::Udp, RING)])).await;
    let uas = Sipp::uas(scenario("uas_answer_on_cancel.xml", vec![]), port, Transport::Udp, 1);
    Sipp::uac(scenario("uac_cancel.xml", vec![]), edge.addr(), Transport::Udp, 1).passes().await;
    uas.passes().await;
    let call = edge.calls(1).await.remove(0);
    assert_eq!(call.last(), Some(&EventKind::Ended { cause: EndCause::Cancelled }));
}

#[tokio::test]
async fn a_buyer_hang_up_ends_the_caller_leg_too() {
    let port = free_port();
    let mut edge =
        TestEdge::start(Decision::Connect(vec![buyer(port, Transport::Udp, RING)])).await;
    let uas = Sipp::uas(scenario("uas_hangs_up.xml", vec![]), port, Transport::Udp, 1);
    Sipp::uac(scenario("uac_hears_bye.xml", vec![]), edge.addr(), Transport::Udp, 1).passes().await;
    uas.passes().await;
    let call = edge.calls(1).await.remove(0);
    assert_eq!(call.last(), Some(&EventKind::Ended { cause: EndCause::HungUp(Side::Callee) }));
}
