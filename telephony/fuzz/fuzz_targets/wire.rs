//! Any bytes through the wire layer, as a datagram and as a stream: never a panic; a
//! rejected request is answered with a response that itself parses; an accepted message
//! printed back parses to the same message.
#![no_main]

use bidline_telephony::wire::framing::{Frame, StreamFramer, datagram};
use bidline_telephony::wire::{Message, parse};
use libfuzzer_sys::fuzz_target;

fn check(framed: &[u8]) {
    match parse(framed) {
        Ok(message) => {
            let printed = message.to_bytes();
            let again = parse(&printed).expect("a printed message parses");
            match (&message, &again) {
                (Message::Request(a), Message::Request(b)) => {
                    assert_eq!((a.method, &a.uri, &a.body), (b.method, &b.uri, &b.body));
                }
                (Message::Response(a), Message::Response(b)) => {
                    assert_eq!((a.status, &a.body), (b.status, &b.body));
                }
                _ => panic!("a request printed back became a response or the reverse"),
            }
        }
        Err(rejection) => {
            if let Some(response) = rejection.response() {
                assert!(
                    matches!(parse(&response.to_bytes()), Ok(Message::Response(_))),
                    "our {} does not parse",
                    rejection.status
                );
            }
        }
    }
}

fuzz_target!(|bytes: &[u8]| {
    if let Ok(framed) = datagram(bytes) {
        check(framed);
    }
    let mut framer = StreamFramer::default();
    for chunk in bytes.chunks(97) {
        framer.push(chunk);
        while let Ok(Some(frame)) = framer.next_frame() {
            if let Frame::Message(message) = frame {
                check(&message);
            }
        }
    }
});
