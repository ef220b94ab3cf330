//! The header section rewritten into the one form a strict parser accepts: CRLF line
//! ends, folded lines joined (RFC 3261 §7.3.1), no space before the colon, and compact
//! header names spelled out (RFC 3261 §7.3.3 and the registrations since). Carriers send
//! all of these; the message means the same after.

use std::borrow::Cow;

/// Compact forms and the names they stand for.
const COMPACT: &[(&str, &str)] = &[
    ("a", "Accept-Contact"),
    ("b", "Referred-By"),
    ("c", "Content-Type"),
    ("d", "Request-Disposition"),
    ("e", "Content-Encoding"),
    ("f", "From"),
    ("i", "Call-ID"),
    ("j", "Reject-Contact"),
    ("k", "Supported"),
    ("l", "Content-Length"),
    ("m", "Contact"),
    ("n", "Identity-Info"),
    ("o", "Event"),
    ("r", "Refer-To"),
    ("s", "Subject"),
    ("t", "To"),
    ("u", "Allow-Events"),
    ("v", "Via"),
    ("x", "Session-Expires"),
    ("y", "Identity"),
];

/// The full name of `name` if it is a compact form.
pub fn full_name(name: &str) -> &str {
    if name.len() == 1 {
        let lower = name.to_ascii_lowercase();
        if let Some((_, full)) = COMPACT.iter().find(|(short, _)| *short == lower) {
            return full;
        }
    }
    name
}

/// `message` (header section and body) with its header section normalised; the body is
/// kept byte for byte. Most messages already are in that form and are returned as they
/// are, without a copy.
pub fn normalize(message: &[u8]) -> Cow<'_, [u8]> {
    match message.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(end) if is_plain(&message[..end]) => Cow::Borrowed(message),
        _ => Cow::Owned(rewrite(message)),
    }
}

/// Whether a header section (without its blank line) needs no rewriting: UTF-8, CRLF line
/// ends only, no folded lines, no compact names, no space before a colon.
fn is_plain(head: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(head) else { return false };
    let mut lines = text.split("\r\n");
    let start_ok = lines.next().is_some_and(|start| !start.contains(['\r', '\n']));
    start_ok
        && lines.all(|line| {
            let Some((name, _)) = line.split_once(':') else { return false };
            !line.contains(['\r', '\n'])
                && !line.starts_with([' ', '\t'])
                && name.len() > 1
                && !name.ends_with([' ', '\t'])
        })
}

fn rewrite(message: &[u8]) -> Vec<u8> {
    let (head, body) = split(message);
    let text = String::from_utf8_lossy(head);
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if line.is_empty() {
            continue;
        }
        // A continuation line belongs to the header above it (never to the start line).
        let folded = line.starts_with([' ', '\t']) && lines.len() > 1;
        match lines.last_mut() {
            Some(previous) if folded => {
                previous.push(' ');
                previous.push_str(line.trim_start());
            }
            _ => lines.push(line.to_owned()),
        }
    }
    let mut out = Vec::with_capacity(message.len() + 32);
    for (index, line) in lines.iter().enumerate() {
        if index == 0 {
            // As written: spaces at its end make a request line malformed (RFC 3261 §7.1).
            out.extend_from_slice(line.as_bytes());
        } else {
            match line.split_once(':') {
                Some((name, value)) => {
                    out.extend_from_slice(full_name(name.trim()).as_bytes());
                    out.extend_from_slice(b": ");
                    out.extend_from_slice(value.trim().as_bytes());
                }
                None => out.extend_from_slice(line.as_bytes()),
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// The header section (without the blank line) and the body.
fn split(message: &[u8]) -> (&[u8], &[u8]) {
    for i in 0..message.len() {
        if message[i] == b'\n' {
            if message.get(i + 1) == Some(&b'\n') {
                return (&message[..i], &message[i + 2..]);
            }
            if message.get(i + 1) == Some(&b'\r') && message.get(i + 2) == Some(&b'\n') {
                return (&message[..i], &message[i + 3..]);
            }
        }
    }
    (message, &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_folded_lf_only_headers_become_the_plain_form() {
        let written = b"INVITE sip:+15550100200@edge SIP/2.0\n\
v: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK77\n\
i : abc@203.0.113.5\n\
f: <sip:caller@carrier>;tag=1\n\
t: <sip:+15550100200@edge>\n\
Subject: a long\n\
\tsubject line\n\
l: 5\n\
\n\
v=0\r\n";
        assert_eq!(
            String::from_utf8(normalize(written).into_owned()).unwrap(),
            "INVITE sip:+15550100200@edge SIP/2.0\r\n\
Via: SIP/2.0/UDP 203.0.113.5;branch=z9hG4bK77\r\n\
Call-ID: abc@203.0.113.5\r\n\
From: <sip:caller@carrier>;tag=1\r\n\
To: <sip:+15550100200@edge>\r\n\
Subject: a long subject line\r\n\
Content-Length: 5\r\n\
\r\n\
v=0\r\n"
        );
    }

    #[test]
    fn a_normal_message_is_unchanged() {
        let message =
            b"SIP/2.0 200 OK\r\nVia: SIP/2.0/TCP h;branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n";
        assert!(matches!(normalize(message), Cow::Borrowed(m) if m == message));
    }

    #[test]
    fn only_single_letters_are_compact_names() {
        assert_eq!(full_name("I"), "Call-ID");
        assert_eq!(full_name("X-Custom"), "X-Custom");
        assert_eq!(full_name("q"), "q");
    }
}
