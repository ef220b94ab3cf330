//! DTMF digits carried as RTP events (RFC 4733 §2.3): the event code, whether the tone
//! has ended, its volume and its duration so far. A digit's packets repeat (the end
//! packet three times), so a reader should act on the first end packet of each timestamp.

/// One telephone-event payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TelephoneEvent {
    pub event: u8,
    pub end: bool,
    /// Power level in −dBm0 (0–63).
    pub volume: u8,
    /// In timestamp units since the event's timestamp.
    pub duration: u16,
}

impl TelephoneEvent {
    /// Reads the first event of a payload; `None` when it is shorter than one.
    pub fn parse(payload: &[u8]) -> Option<Self> {
        let [event, flags, high, low, ..] = *payload else {
            return None;
        };
        Some(Self {
            event,
            end: flags & 0x80 != 0,
            volume: flags & 0x3f,
            duration: u16::from_be_bytes([high, low]),
        })
    }

    pub fn to_bytes(self) -> [u8; 4] {
        let [high, low] = self.duration.to_be_bytes();
        [self.event, u8::from(self.end) << 7 | (self.volume & 0x3f), high, low]
    }

    /// The keypad digit of events 0–15 (`0`–`9`, `*`, `#`, `A`–`D`).
    pub fn digit(self) -> Option<char> {
        match self.event {
            0..=9 => Some(char::from(b'0' + self.event)),
            10 => Some('*'),
            11 => Some('#'),
            12..=15 => Some(char::from(b'A' + self.event - 12)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_end_packet_of_digit_one_reads_back() {
        let event = TelephoneEvent::parse(&[1, 0x8a, 0x03, 0x20]).unwrap();
        assert_eq!(event, TelephoneEvent { event: 1, end: true, volume: 10, duration: 800 });
        assert_eq!(event.digit(), Some('1'));
        assert_eq!(TelephoneEvent::parse(&event.to_bytes()), Some(event));
    }

    #[test]
    fn keypad_events_name_their_keys_and_others_none() {
        let digit = |event| TelephoneEvent { event, end: false, volume: 0, duration: 0 }.digit();
        let keys: String = (0..16).map(|event| digit(event).unwrap()).collect();
        assert_eq!(keys, "0123456789*#ABCD");
        assert_eq!(digit(16), None);
    }

    #[test]
    fn a_short_payload_is_not_an_event() {
        assert_eq!(TelephoneEvent::parse(&[1, 0x80, 0]), None);
    }
}
