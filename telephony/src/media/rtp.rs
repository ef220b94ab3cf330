//! RTP and RTCP packets as they arrive on a relay port (RFC 3550 §5.1, §6.4), read
//! without copying. Every byte is the sender's: lengths are checked against the
//! datagram before anything is sliced, so a short, truncated or lying packet is an
//! error, never a panic.

use thiserror::Error;

/// The fixed header: version, flags, payload type, sequence number, timestamp, SSRC.
const FIXED_HEADER: usize = 12;

/// An RTP packet: its header fields and its payload, borrowed from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    pub marker: bool,
    pub payload_type: u8,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    /// Contributing sources, four bytes each.
    pub csrc: &'a [u8],
    /// The header extension's profile-defined word and its data, when present.
    pub extension: Option<(u16, &'a [u8])>,
    /// The payload, without padding.
    pub payload: &'a [u8],
}

/// Why a datagram is not an RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtpError {
    #[error("{0} bytes is shorter than an RTP header")]
    TooShort(usize),
    #[error("RTP version {0}, not 2")]
    Version(u8),
    #[error("the contributing sources run past the packet")]
    Csrc,
    #[error("the header extension runs past the packet")]
    Extension,
    #[error("the padding count is zero or runs past the payload")]
    Padding,
}

/// Whether a datagram on a port that carries both is RTCP rather than RTP (RFC 5761
/// §4): RTCP's packet types 192–223 sit where RTP's marker bit and payload type are,
/// and RTP payload types 64–95 are not used for that reason.
pub fn is_rtcp(datagram: &[u8]) -> bool {
    datagram.len() >= 2 && (192..=223).contains(&datagram[1])
}

/// Reads an RTP packet.
pub fn parse(datagram: &[u8]) -> Result<RtpPacket<'_>, RtpError> {
    if datagram.len() < FIXED_HEADER {
        return Err(RtpError::TooShort(datagram.len()));
    }
    let first = datagram[0];
    let version = first >> 6;
    if version != 2 {
        return Err(RtpError::Version(version));
    }
    let padded = first & 0x20 != 0;
    let extended = first & 0x10 != 0;
    let csrc_count = usize::from(first & 0x0f);
    let word = |at: usize| {
        u32::from_be_bytes([datagram[at], datagram[at + 1], datagram[at + 2], datagram[at + 3]])
    };

    let csrc_end = FIXED_HEADER + 4 * csrc_count;
    let csrc = datagram.get(FIXED_HEADER..csrc_end).ok_or(RtpError::Csrc)?;
    let (extension, header_end) = if extended {
        let head = datagram.get(csrc_end..csrc_end + 4).ok_or(RtpError::Extension)?;
        let profile = u16::from_be_bytes([head[0], head[1]]);
        let words = usize::from(u16::from_be_bytes([head[2], head[3]]));
        let end = csrc_end + 4 + 4 * words;
        let data = datagram.get(csrc_end + 4..end).ok_or(RtpError::Extension)?;
        (Some((profile, data)), end)
    } else {
        (None, csrc_end)
    };
    let mut payload = &datagram[header_end..];
    if padded {
        // The last byte counts the padding, itself included.
        let count = usize::from(*payload.last().ok_or(RtpError::Padding)?);
        if count == 0 || count > payload.len() {
            return Err(RtpError::Padding);
        }
        payload = &payload[..payload.len() - count];
    }
    Ok(RtpPacket {
        marker: datagram[1] & 0x80 != 0,
        payload_type: datagram[1] & 0x7f,
        sequence: u16::from_be_bytes([datagram[2], datagram[3]]),
        timestamp: word(4),
        ssrc: word(8),
        csrc,
        extension,
        payload,
    })
}

/// Writes an RTP packet without contributing sources, extension or padding: what
/// Bidline itself sends (prompts, recordings played back).
pub fn write(packet: &RtpPacket<'_>, out: &mut Vec<u8>) {
    out.push(0x80);
    out.push(u8::from(packet.marker) << 7 | (packet.payload_type & 0x7f));
    out.extend_from_slice(&packet.sequence.to_be_bytes());
    out.extend_from_slice(&packet.timestamp.to_be_bytes());
    out.extend_from_slice(&packet.ssrc.to_be_bytes());
    out.extend_from_slice(packet.payload);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(first: u8, rest: &[u8]) -> Vec<u8> {
        let mut bytes = vec![first, 0x80 | 8, 0x12, 0x34, 0, 0, 0x01, 0x40, 0xde, 0xad, 0xbe, 0xef];
        bytes.extend_from_slice(rest);
        bytes
    }

    #[test]
    fn a_plain_packet_reads_its_header_and_payload() {
        let bytes = packet(0x80, &[0xd5; 160]);
        let read = parse(&bytes).unwrap();
        assert!(read.marker);
        assert_eq!(read.payload_type, 8);
        assert_eq!(read.sequence, 0x1234);
        assert_eq!(read.timestamp, 320);
        assert_eq!(read.ssrc, 0xdead_beef);
        assert_eq!(read.payload.len(), 160);
        assert!(read.csrc.is_empty() && read.extension.is_none());
    }

    #[test]
    fn contributing_sources_extension_and_padding_are_skipped() {
        // Two CSRCs, a one-word extension, 3 payload bytes and 2 of padding.
        let mut rest = vec![0; 8];
        rest.extend_from_slice(&[0xbe, 0xde, 0x00, 0x01, 1, 2, 3, 4]);
        rest.extend_from_slice(&[7, 8, 9, 0, 2]);
        let bytes = packet(0x80 | 0x20 | 0x10 | 2, &rest);
        let read = parse(&bytes).unwrap();
        assert_eq!(read.csrc.len(), 8);
        assert_eq!(read.extension, Some((0xbede, &[1, 2, 3, 4][..])));
        assert_eq!(read.payload, &[7, 8, 9]);
    }

    #[test]
    fn lying_lengths_are_errors() {
        assert_eq!(parse(&[0x80; 11]), Err(RtpError::TooShort(11)));
        assert_eq!(parse(&packet(0x40, &[])), Err(RtpError::Version(1)));
        assert_eq!(parse(&packet(0x80 | 15, &[0; 8])), Err(RtpError::Csrc));
        assert_eq!(parse(&packet(0x90, &[0, 0, 0, 9, 1, 2])), Err(RtpError::Extension));
        assert_eq!(parse(&packet(0xa0, &[1, 2, 9])), Err(RtpError::Padding));
        assert_eq!(parse(&packet(0xa0, &[1, 2, 0])), Err(RtpError::Padding));
        assert_eq!(parse(&packet(0xa0, &[])), Err(RtpError::Padding));
    }

    #[test]
    fn rtcp_is_told_apart_by_its_packet_type() {
        assert!(is_rtcp(&[0x80, 200, 0, 6]));
        assert!(is_rtcp(&[0x81, 203]));
        assert!(!is_rtcp(&packet(0x80, &[])));
        assert!(!is_rtcp(&[0x80]));
    }

    #[test]
    fn a_written_packet_reads_back() {
        let sent = RtpPacket {
            marker: false,
            payload_type: 0,
            sequence: 65535,
            timestamp: u32::MAX,
            ssrc: 7,
            csrc: &[],
            extension: None,
            payload: &[0xff; 160],
        };
        let mut bytes = Vec::new();
        write(&sent, &mut bytes);
        assert_eq!(parse(&bytes), Ok(sent));
    }
}
