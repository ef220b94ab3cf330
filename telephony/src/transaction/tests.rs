//! The transaction state machines driven with a virtual clock.

use std::time::{Duration, Instant};

use super::*;
use crate::wire::{Message, Request, Response, parse};

const INVITE: &str = "INVITE sip:+15550100200@192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKx1\r\n\
Max-Forwards: 70\r\nFrom: <sip:a@192.0.2.9>;tag=f\r\nTo: <sip:+15550100200@192.0.2.1>\r\n\
Call-ID: t1\r\nCSeq: 1 INVITE\r\n\r\n";

fn invite() -> Request {
    match parse(INVITE.as_bytes()).unwrap() {
        Message::Request(request) => request,
        _ => unreachable!(),
    }
}

fn peer(transport: Transport) -> Peer {
    Peer { transport, addr: "192.0.2.1:5060".parse().unwrap() }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The times (ms after start) at which `step` sends something, run every 10 ms until `end`.
fn sends_until(
    end: u64,
    mut step: impl FnMut(Instant, &mut Outbox) -> bool,
    start: Instant,
) -> (Vec<u64>, Option<u64>) {
    let mut sent = Vec::new();
    let mut fired = None;
    for tick in (10..=end).step_by(10) {
        let mut outbox = Outbox::new();
        if step(start + ms(tick), &mut outbox) && fired.is_none() {
            fired = Some(tick);
        }
        sent.extend(outbox.iter().map(|_| tick));
    }
    (sent, fired)
}

#[test]
fn an_unanswered_invite_over_udp_is_resent_on_timer_a_and_times_out_on_timer_b() {
    let start = Instant::now();
    let mut outbox = Outbox::new();
    let mut ict =
        ClientInvite::start(invite(), peer(Transport::Udp), Timers::default(), start, &mut outbox);
    assert_eq!(outbox.len(), 1);
    let (sent, fired) = sends_until(33_000, |now, out| ict.on_timer(now, out), start);
    assert_eq!(sent, [500, 1500, 3500, 7500, 15500, 31500]);
    assert_eq!(fired, Some(32_000));
    assert_eq!(ict.state(), client_invite::State::Terminated);
}

#[test]
fn over_tcp_nothing_is_resent() {
    let start = Instant::now();
    let mut outbox = Outbox::new();
    let mut ict =
        ClientInvite::start(invite(), peer(Transport::Tcp), Timers::default(), start, &mut outbox);
    let (sent, fired) = sends_until(33_000, |now, out| ict.on_timer(now, out), start);
    assert!(sent.is_empty());
    assert_eq!(fired, Some(32_000));
}

#[test]
fn a_failure_is_acked_once_per_copy_and_goes_up_once() {
    let start = Instant::now();
    let mut outbox = Outbox::new();
    let mut ict =
        ClientInvite::start(invite(), peer(Transport::Udp), Timers::default(), start, &mut outbox);
    let mut busy = invite().response(486, Some("b"));
    busy.headers.set("Via", "SIP/2.0/UDP 192.0.2.9:5060;branch=z9hG4bKx1");
    outbox.clear();
    assert!(ict.on_response(busy.clone(), start, &mut outbox).is_some());
    assert!(ict.on_response(busy, start, &mut outbox).is_none());
    assert_eq!(outbox.len(), 2);
    let ack = String::from_utf8(outbox[0].bytes.to_vec()).unwrap();
    assert!(ack.starts_with("ACK sip:+15550100200@192.0.2.1 SIP/2.0\r\n"), "{ack}");
    assert!(ack.contains("To: <sip:+15550100200@192.0.2.1>;tag=b\r\n"));
    assert!(ack.contains("CSeq: 1 ACK\r\n") && ack.contains("branch=z9hG4bKx1"));
    assert_eq!(ict.state(), client_invite::State::Completed);
    ict.on_timer(start + Duration::from_secs(32), &mut outbox);
    assert_eq!(ict.state(), client_invite::State::Terminated);
}

#[test]
fn every_2xx_goes_up_so_the_user_can_ack_each() {
    let start = Instant::now();
    let mut outbox = Outbox::new();
    let mut ict =
        ClientInvite::start(invite(), peer(Transport::Udp), Timers::default(), start, &mut outbox);
    let ok = invite().response(200, Some("b"));
    assert!(ict.on_response(invite().response(180, Some("b")), start, &mut outbox).is_some());
    assert!(ict.on_response(ok.clone(), start, &mut outbox).is_some());
    assert!(ict.on_response(ok, start, &mut outbox).is_some());
    assert_eq!(ict.state(), client_invite::State::Accepted);
}

#[test]
fn a_non_invite_request_is_resent_up_to_t2_apart_until_timer_f() {
    let start = Instant::now();
    let mut outbox = Outbox::new();
    let mut bye = invite();
    bye.method = rsip::Method::Bye;
    let mut nict = Client::start(bye, peer(Transport::Udp), Timers::default(), start, &mut outbox);
    let (sent, fired) = sends_until(33_000, |now, out| nict.on_timer(now, out), start);
    assert_eq!(&sent[..6], [500, 1500, 3500, 7500, 11500, 15500]);
    assert_eq!(fired, Some(32_000));
}

#[test]
fn a_server_invite_repeats_its_provisional_then_resends_a_failure_until_acked() {
    let start = Instant::now();
    let mut outbox = Outbox::new();
    let mut ist = ServerInvite::new(peer(Transport::Udp), Timers::default());
    ist.respond(&invite().response(100, None), start, &mut outbox);
    ist.on_retransmission(&mut outbox);
    assert_eq!(outbox.len(), 2);
    ist.respond(&invite().response(486, Some("b")), start, &mut outbox);
    let (sent, _) = sends_until(2_000, |now, out| ist.on_timer(now, out), start);
    assert_eq!(sent, [500, 1500]);
    ist.on_ack(start + ms(2_000));
    assert_eq!(ist.state(), server_invite::State::Confirmed);
    let (sent, _) = sends_until(8_000, |now, out| ist.on_timer(now, out), start + ms(2_000));
    assert!(sent.is_empty());
    assert_eq!(ist.state(), server_invite::State::Terminated);
}

#[test]
fn an_unacked_failure_ends_on_timer_h() {
    let start = Instant::now();
    let mut outbox = Outbox::new();
    let mut ist = ServerInvite::new(peer(Transport::Udp), Timers::default());
    ist.respond(&Response::new(480), start, &mut outbox);
    let (_, fired) = sends_until(33_000, |now, out| ist.on_timer(now, out), start);
    assert_eq!(fired, Some(32_000));
}

#[test]
fn a_server_non_invite_answers_repeats_with_its_final_response() {
    let start = Instant::now();
    let mut outbox = Outbox::new();
    let mut nist = Server::new(peer(Transport::Udp), Timers::default());
    nist.respond(&Response::new(200), start, &mut outbox);
    nist.on_retransmission(&mut outbox);
    assert_eq!(outbox.len(), 2);
    assert_eq!(outbox[0].bytes, outbox[1].bytes);
    assert!(!nist.on_timer(start + Duration::from_secs(31)));
    assert!(nist.on_timer(start + Duration::from_secs(32)));
}
