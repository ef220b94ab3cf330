//! Admission and dialog matching under hostile input. Each run sets up one answered
//! call (caller ↔ Bidline ↔ buyer), then sends it requests built from the input: each
//! takes the dialog's Call-ID, tags and peer address, or ones the input chooses, with
//! any method, headers and body. A request that does not match the dialog in every
//! part must be answered 481 to its sender alone and change nothing; none may panic.
//! The input's bytes are also offered as a new INVITE (admission's reading of the
//! dialed number, the start of a call) and as digest credentials, which must never be
//! accepted without the password.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bidline_telephony::b2bua::call::Effects;
use bidline_telephony::b2bua::{Call, Decision, Destination, IncomingCall, Local, Policy};
use bidline_telephony::digest;
use bidline_telephony::transaction::{Outbox, Peer, Transport};
use bidline_telephony::wire::{Fields, Message, Request, Response, parse};
use libfuzzer_sys::fuzz_target;

const CALLER: &str = "198.51.100.1:5060";
const BUYER: &str = "203.0.113.7:5060";
const STRANGER: &str = "192.0.2.99:5060";
const METHODS: [&str; 10] =
    ["BYE", "INVITE", "UPDATE", "INFO", "ACK", "CANCEL", "OPTIONS", "MESSAGE", "REFER", "PRACK"];

fn peer(addr: &str) -> Peer {
    Peer { transport: Transport::Udp, addr: addr.parse().unwrap() }
}

fn local() -> Local {
    let host = bidline_telephony::wire::Host::Ip("192.0.2.1".parse().unwrap());
    Local { host, udp_port: 5060, tcp_port: 5060, marker: "fz".into(), shard: 0 }
}

/// What one step of the call produced.
#[derive(Default)]
struct Step {
    outbox: Outbox,
    events: Vec<bidline_telephony::b2bua::CallEvent>,
    route: Option<IncomingCall>,
    new_call_ids: Vec<String>,
}

impl Step {
    fn fx(&mut self, now: Instant) -> Effects<'_> {
        Effects {
            now,
            outbox: &mut self.outbox,
            events: &mut self.events,
            route: &mut self.route,
            new_call_ids: &mut self.new_call_ids,
        }
    }

    fn sent(&self) -> Vec<(SocketAddr, Message)> {
        self.outbox
            .iter()
            .map(|t| (t.to.addr, parse(&t.bytes).expect("we send what parses")))
            .collect()
    }
}

fn request(text: &str) -> Request {
    match parse(text.as_bytes()) {
        Ok(Message::Request(request)) => request,
        other => panic!("the harness's own request does not parse: {other:?}"),
    }
}

/// The dialog as each side knows it.
struct Dialog {
    call: Call,
    caller_call_id: String,
    caller_tag: String,
    our_tag_to_caller: String,
    buyer_call_id: String,
    buyer_tag: String,
    our_tag_to_buyer: String,
}

fn tag_of(value: Option<&str>) -> String {
    value
        .and_then(|v| v.split(";tag=").nth(1))
        .map(|t| t.split(';').next().unwrap().to_owned())
        .unwrap_or_default()
}

fn answered_call() -> Dialog {
    let now = Instant::now();
    let invite = request(
        "INVITE sip:+18005550100@192.0.2.1 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK-caller-1\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:+12125550123@198.51.100.1>;tag=caller-tag\r\n\
         To: <sip:+18005550100@192.0.2.1>\r\n\
         Call-ID: caller-call-id@198.51.100.1\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:caller@198.51.100.1:5060>\r\n\
         Content-Type: application/sdp\r\n\
         Content-Length: 4\r\n\r\nv=0\n",
    );
    let mut step = Step::default();
    let mut call =
        Call::start(1, invite, peer(CALLER), None, local(), Policy::default(), step.fx(now));
    assert!(step.route.is_some(), "a plain INVITE is routed");
    let uri = format!("sip:buyer@{BUYER}").parse().unwrap();
    let destination = Destination::to_address(uri, Duration::from_secs(30)).unwrap();
    let mut step = Step::default();
    call.on_decision(Decision::Connect(vec![destination]), step.fx(now));
    let (_, Message::Request(outbound)) = step
        .sent()
        .into_iter()
        .find(|(to, m)| to.to_string() == BUYER && matches!(m, Message::Request(_)))
        .expect("the buyer is rung")
    else {
        unreachable!()
    };
    let mut ok: Response = outbound.response(200, Some("buyer-tag"));
    ok.headers.push("Contact", format!("<sip:buyer@{BUYER}>"));
    let mut step = Step::default();
    call.on_response(ok, step.fx(now));
    let relayed = step
        .sent()
        .into_iter()
        .find_map(|(to, m)| match m {
            Message::Response(r) if to.to_string() == CALLER && r.status == 200 => Some(r),
            _ => None,
        })
        .expect("the answer reaches the caller");
    let our_tag_to_caller = tag_of(relayed.headers.get("To"));
    let ack = request(&format!(
        "ACK sip:bidline@192.0.2.1:5060 SIP/2.0\r\n\
         Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK-caller-ack\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:+12125550123@198.51.100.1>;tag=caller-tag\r\n\
         To: <sip:+18005550100@192.0.2.1>;tag={our_tag_to_caller}\r\n\
         Call-ID: caller-call-id@198.51.100.1\r\n\
         CSeq: 1 ACK\r\n\
         Content-Length: 0\r\n\r\n"
    ));
    let mut step = Step::default();
    call.on_request(ack, peer(CALLER), step.fx(now));
    Dialog {
        call,
        caller_call_id: "caller-call-id@198.51.100.1".into(),
        caller_tag: "caller-tag".into(),
        our_tag_to_caller,
        buyer_call_id: outbound.call_id().to_owned(),
        buyer_tag: "buyer-tag".into(),
        our_tag_to_buyer: tag_of(outbound.headers.get("From")),
    }
}

/// Text the input chose for a tag or Call-ID: letters and digits, so that the harness
/// and the parser read it alike (the body carries the input's raw bytes).
fn token(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    bytes.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

fuzz_target!(|bytes: &[u8]| {
    // The input as a new call: admission reads the dialed number from it.
    if let Ok(Message::Request(invite)) = parse(bytes) {
        let mut step = Step::default();
        let call = Call::start(
            9,
            invite,
            peer(STRANGER),
            None,
            local(),
            Policy::default(),
            step.fx(Instant::now()),
        );
        let _ = call.call_ids().count();
    }
    // The input as credentials for a trunk whose password it cannot know.
    let digest = digest::Server::new([7; 16]);
    let source = "198.51.100.1".parse().unwrap();
    let _challenge = digest.challenge("bidline", source, false);
    let authorization = String::from_utf8_lossy(bytes);
    if let Some(username) = digest::Server::username(&authorization) {
        let uri = "sip:+18005550100@192.0.2.1".parse().unwrap();
        let verdict = digest.verify(&digest::Attempt {
            authorization: &authorization,
            method: "INVITE",
            request_uri: &uri,
            realm: "bidline",
            username: &username,
            password: Some("a password no input knows: 5f0c1d"),
            source,
        });
        assert!(verdict.is_err(), "credentials accepted without the password");
    }

    let mut dialog = answered_call();
    let mut rest = bytes;
    let mut cseq = 2;
    while let [flags, method, len, tail @ ..] = rest {
        let len = usize::from(*len).min(tail.len());
        let (chosen, tail) = tail.split_at(len);
        rest = tail;
        cseq += 1;
        let from_buyer = flags & 1 != 0;
        let (call_id, their_tag, our_tag, home) = if from_buyer {
            (&dialog.buyer_call_id, &dialog.buyer_tag, &dialog.our_tag_to_buyer, BUYER)
        } else {
            (&dialog.caller_call_id, &dialog.caller_tag, &dialog.our_tag_to_caller, CALLER)
        };
        let chosen_text = token(chosen);
        let pick = |bit: u8, right: &str| {
            if flags & bit != 0 { format!("{right}{chosen_text}") } else { right.to_owned() }
        };
        let call_id_sent = pick(2, call_id);
        let from_tag = pick(4, their_tag);
        let to_tag = if flags & 16 != 0 { String::new() } else { pick(8, our_tag) };
        let source = if flags & 32 != 0 { STRANGER } else { home };
        let method = METHODS[usize::from(*method) % METHODS.len()];
        let to = if to_tag.is_empty() { String::new() } else { format!(";tag={to_tag}") };
        let body = if flags & 64 != 0 {
            String::from_utf8_lossy(chosen).into_owned()
        } else {
            String::new()
        };
        let text = format!(
            "{method} sip:bidline@192.0.2.1:5060 SIP/2.0\r\n\
             Via: SIP/2.0/UDP {source};branch=z9hG4bK-{cseq}\r\n\
             Max-Forwards: 70\r\n\
             From: <sip:a@example.com>;tag={from_tag}\r\n\
             To: <sip:b@example.com>{to}\r\n\
             Call-ID: {call_id_sent}\r\n\
             CSeq: {cseq} {method}\r\n\
             X-Chosen: {chosen_text}\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let Ok(Message::Request(request)) = parse(text.as_bytes()) else { continue };
        // Tags as the parser read them: a chosen suffix may add nothing.
        let matches = request.call_id() == call_id.as_str()
            && tag_of(request.headers.get("From")) == *their_tag
            && tag_of(request.headers.get("To")) == *our_tag
            && source == home;
        let mut step = Step::default();
        dialog.call.on_request(request, peer(source), step.fx(Instant::now()));
        if !matches && request_is_for_this_call(&call_id_sent, &dialog) {
            for (to, message) in step.sent() {
                assert_eq!(to.to_string(), source, "a stranger's request reached another peer");
                assert!(
                    matches!(&message, Message::Response(r) if r.status == 481),
                    "a request outside the dialog got {message:?}"
                );
            }
            assert!(step.events.is_empty(), "a request outside the dialog changed the call");
        }
        if dialog.call.finished() {
            break;
        }
    }
    let mut step = Step::default();
    dialog.call.on_timer(step.fx(Instant::now() + Duration::from_secs(5 * 3600)));
});

/// Whether a request with this Call-ID would be delivered to the call at all (the edge
/// hands a call only requests with one of its Call-IDs).
fn request_is_for_this_call(call_id: &str, dialog: &Dialog) -> bool {
    dialog.call.call_ids().any(|id| id == call_id)
}
