//! Where peers are told to reach the edge: the advertised host and port in every Via,
//! Contact and From we write, and no start at all on an unspecified address without one.

mod support;

use std::time::Duration;

use bidline_telephony::b2bua::Decision;
use bidline_telephony::edge::{Advertise, Config, Edge};
use bidline_telephony::wire::Fields;
use rsip::Method;
use support::{Fixed, Gate, RawPeer, TestEdge, Transport, buyer, raw_invite};

#[tokio::test]
async fn an_advertised_name_and_port_are_what_a_buyer_is_told() {
    let buyer_peer = RawPeer::new("127.0.0.1:9".parse().unwrap()).await;
    let port = buyer_peer.socket.local_addr().unwrap().port();
    let decision = Decision::Connect(vec![buyer(port, Transport::Udp, Duration::from_secs(5))]);
    let edge = TestEdge::with(decision, Gate::Open, |config| {
        config.advertise = Some("sip.bidline.example:5080".parse().unwrap());
    })
    .await;
    let caller = RawPeer::new(edge.addr()).await;
    caller.send(&raw_invite("advertised-1")).await;

    let invite = buyer_peer.request(Duration::from_secs(5)).await;
    assert_eq!(invite.method, Method::Invite);
    let via = invite.headers.get("Via").unwrap();
    assert!(via.starts_with("SIP/2.0/UDP sip.bidline.example:5080;"), "{via}");
    assert_eq!(invite.headers.get("Contact"), Some("<sip:bidline@sip.bidline.example:5080>"));
    let from = invite.from().unwrap();
    assert_eq!(from.uri.to_string(), "sip:+15550001111@sip.bidline.example");
    assert_eq!(invite.cseq().unwrap().method, Method::Invite);
}

fn nowhere() -> Fixed {
    Fixed(Decision::Reject { status: 404, reason: "Not Found".into() })
}

#[tokio::test]
async fn an_unspecified_address_is_refused_unless_an_address_is_advertised() {
    let refused = Edge::start(Config::new("0.0.0.0:0".parse().unwrap()), nowhere()).await;
    let error = refused.err().expect("no edge on 0.0.0.0 without an advertised address");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("advertise"), "{error}");

    let mut config = Config::new("0.0.0.0:0".parse().unwrap());
    config.advertise = Some("203.0.113.5".parse().unwrap());
    assert!(Edge::start(config, nowhere()).await.is_ok());
}

#[test]
fn an_advertised_address_is_a_host_and_maybe_a_port() {
    let parsed = |text: &str| text.parse::<Advertise>().map(|a| (a.host.to_string(), a.port));
    assert_eq!(parsed("sip.example.com"), Ok(("sip.example.com".into(), None)));
    assert_eq!(parsed("203.0.113.5:5080"), Ok(("203.0.113.5".into(), Some(5080))));
    assert_eq!(parsed("[2001:db8::5]:5060"), Ok(("[2001:db8::5]".into(), Some(5060))));
    assert_eq!(parsed("[2001:db8::5]"), Ok(("[2001:db8::5]".into(), None)));
    for bad in ["", "0.0.0.0", "[::]:5060", "sip.example.com:0", "a b", "host:port", "2001:db8::5"]
    {
        assert!(parsed(bad).is_err(), "{bad}");
    }
}
