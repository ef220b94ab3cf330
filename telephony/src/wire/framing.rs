//! Where one SIP message ends: by Content-Length (RFC 3261 §18.3, §20.14).
//!
//! On a stream (TCP) Content-Length is mandatory and the only way to find the end of a
//! message; CRLFs between messages are keep-alives (RFC 5626 §3.5.1: a double CRLF is a
//! ping, answered with a single CRLF). In a datagram (UDP) the datagram is the message: a
//! body shorter than Content-Length is an error (400), a longer one is cut to it, and
//! without Content-Length the body is the rest of the datagram.

/// The header section may not grow past this; a peer that never ends it is cut off.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Bodies (SDP) are small; a larger Content-Length is refused before it is buffered.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("no Content-Length: it is required on a stream transport")]
    MissingContentLength,
    /// The value is kept for the log; the answer's Warning never repeats it.
    #[error("Content-Length is not a number")]
    BadContentLength(String),
    #[error("the header section is longer than {MAX_HEADER_BYTES} bytes")]
    HeadersTooLong,
    #[error("the body is longer than {MAX_BODY_BYTES} bytes")]
    BodyTooLong,
    #[error("the body has {got} bytes, Content-Length says {declared}")]
    ShortBody { declared: usize, got: usize },
}

/// What a stream yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// A double CRLF: answer with one CRLF (RFC 5626).
    Ping,
    /// One whole message: header section and body.
    Message(Vec<u8>),
}

/// The end of the header section (index after the blank line), accepting CRLF or bare LF
/// line ends.
fn header_end(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            match bytes.get(i + 1) {
                Some(b'\n') => return Some(i + 2),
                Some(b'\r') if bytes.get(i + 2) == Some(&b'\n') => return Some(i + 3),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// The Content-Length of a header section (full or compact name `l`), if any.
fn content_length(headers: &[u8]) -> Result<Option<usize>, FrameError> {
    // The start line is skipped; folded lines cannot hold a Content-Length name.
    for line in headers.split(|b| *b == b'\n').skip(1) {
        let Some(colon) = line.iter().position(|b| *b == b':') else { continue };
        let name = line[..colon].trim_ascii();
        if name.eq_ignore_ascii_case(b"content-length") || name.eq_ignore_ascii_case(b"l") {
            let value = line[colon + 1..].trim_ascii();
            return std::str::from_utf8(value)
                .ok()
                .and_then(|v| v.parse::<usize>().ok())
                .map(Some)
                .ok_or_else(|| {
                    FrameError::BadContentLength(String::from_utf8_lossy(value).into_owned())
                });
        }
    }
    Ok(None)
}

/// The message in one datagram.
pub fn datagram(bytes: &[u8]) -> Result<&[u8], FrameError> {
    let Some(end) = header_end(bytes) else {
        // No blank line: a message without a body whose final CRLF was lost; let the
        // parser judge it.
        return Ok(bytes);
    };
    match content_length(&bytes[..end])? {
        None => Ok(bytes),
        Some(declared) if bytes.len() - end < declared => {
            Err(FrameError::ShortBody { declared, got: bytes.len() - end })
        }
        Some(declared) => Ok(&bytes[..end + declared]),
    }
}

/// Splits a byte stream into messages and pings. Feed it what the socket read; take
/// frames until it answers `None`.
#[derive(Debug, Default)]
pub struct StreamFramer {
    buffer: Vec<u8>,
}

impl StreamFramer {
    /// The bytes not yet taken as frames (after an error: the message that failed).
    pub fn pending(&self) -> &[u8] {
        &self.buffer
    }

    pub fn push(&mut self, bytes: &[u8]) {
        self.buffer.extend_from_slice(bytes);
    }

    /// The next whole frame, `None` when more bytes are needed. After an error the
    /// stream cannot be resynchronised: the connection should be closed.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        // Keep-alives: CRLFs before a message; a double CRLF among them is a ping.
        let leading = self.buffer.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
        if leading > 0 {
            if let Some(at) = self.buffer[..leading].windows(4).position(|w| w == b"\r\n\r\n") {
                self.buffer.drain(..at + 4);
                return Ok(Some(Frame::Ping));
            }
            if leading == self.buffer.len() {
                // Perhaps the rest of a ping is on its way.
                return Ok(None);
            }
            self.buffer.drain(..leading);
        }
        let Some(end) = header_end(&self.buffer) else {
            if self.buffer.len() > MAX_HEADER_BYTES {
                return Err(FrameError::HeadersTooLong);
            }
            return Ok(None);
        };
        if end > MAX_HEADER_BYTES {
            return Err(FrameError::HeadersTooLong);
        }
        let length =
            content_length(&self.buffer[..end])?.ok_or(FrameError::MissingContentLength)?;
        if length > MAX_BODY_BYTES {
            return Err(FrameError::BodyTooLong);
        }
        if self.buffer.len() < end + length {
            return Ok(None);
        }
        let message: Vec<u8> = self.buffer.drain(..end + length).collect();
        Ok(Some(Frame::Message(message)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPTIONS: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n";

    #[test]
    fn a_stream_yields_messages_split_anywhere_and_pings_between_them() {
        let invite = b"INVITE sip:a@b SIP/2.0\r\nl: 4\r\n\r\nv=0\nOPTIONS";
        let mut stream = Vec::new();
        stream.extend_from_slice(b"\r\n\r\n");
        stream.extend_from_slice(&invite[..invite.len() - 7]);
        stream.extend_from_slice(OPTIONS);
        for chunk_size in [1, 3, 7, stream.len()] {
            let mut framer = StreamFramer::default();
            let mut frames = Vec::new();
            for chunk in stream.chunks(chunk_size) {
                framer.push(chunk);
                while let Some(frame) = framer.next_frame().unwrap() {
                    frames.push(frame);
                }
            }
            assert_eq!(
                frames,
                [
                    Frame::Ping,
                    Frame::Message(b"INVITE sip:a@b SIP/2.0\r\nl: 4\r\n\r\nv=0\n".to_vec()),
                    Frame::Message(OPTIONS.to_vec()),
                ],
                "chunks of {chunk_size}"
            );
        }
    }

    #[test]
    fn a_stream_message_needs_a_content_length() {
        let mut framer = StreamFramer::default();
        framer.push(b"OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\n\r\n");
        assert_eq!(framer.next_frame(), Err(FrameError::MissingContentLength));
        let mut framer = StreamFramer::default();
        framer.push(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: many\r\n\r\n");
        assert_eq!(framer.next_frame(), Err(FrameError::BadContentLength("many".into())));
    }

    #[test]
    fn an_endless_header_section_is_cut_off() {
        let mut framer = StreamFramer::default();
        framer.push(b"OPTIONS sip:a@b SIP/2.0\r\n");
        framer.push(&vec![b'X'; MAX_HEADER_BYTES]);
        assert_eq!(framer.next_frame(), Err(FrameError::HeadersTooLong));
        let mut framer = StreamFramer::default();
        framer.push(b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 99999999\r\n\r\n");
        assert_eq!(framer.next_frame(), Err(FrameError::BodyTooLong));
    }

    #[test]
    fn a_datagram_body_is_cut_to_content_length_and_a_short_one_refused() {
        let long = b"MESSAGE sip:a@b SIP/2.0\nContent-Length: 2\n\nhi there";
        assert_eq!(datagram(long).unwrap(), b"MESSAGE sip:a@b SIP/2.0\nContent-Length: 2\n\nhi");
        let short = b"MESSAGE sip:a@b SIP/2.0\r\nContent-Length: 20\r\n\r\nhi";
        assert_eq!(datagram(short), Err(FrameError::ShortBody { declared: 20, got: 2 }));
        let unstated = b"MESSAGE sip:a@b SIP/2.0\r\n\r\nhello";
        assert_eq!(datagram(unstated).unwrap(), unstated);
    }
}
