//! Any bytes as a datagram on a media port: never a panic; what reads as RTP has its
//! payload inside the datagram and, written again without its extras, reads back the
//! same; a telephone-event payload prints back to its own bytes, the reserved bit zeroed.
#![no_main]

use bidline_telephony::media::rtp::{self, RtpPacket};
use bidline_telephony::media::telephone_event::TelephoneEvent;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|datagram: &[u8]| {
    let _ = rtp::is_rtcp(datagram);
    if let Ok(packet) = rtp::parse(datagram) {
        let range = datagram.as_ptr_range();
        assert!(range.contains(&packet.payload.as_ptr()) || packet.payload.is_empty());
        let plain = RtpPacket { csrc: &[], extension: None, ..packet };
        let mut written = Vec::new();
        rtp::write(&plain, &mut written);
        assert_eq!(rtp::parse(&written), Ok(plain));
        if let Some(event) = TelephoneEvent::parse(packet.payload) {
            // The reserved bit is ignored on receipt and sent as zero (RFC 4733 §2.3).
            let p = packet.payload;
            assert_eq!(event.to_bytes(), [p[0], p[1] & !0x40, p[2], p[3]]);
        }
    }
});
