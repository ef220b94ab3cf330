//! One framed message → a [`Request`] or [`Response`], or a [`Rejection`] that says how to
//! answer it.
//!
//! The envelope is ours; rsip supplies the method vocabulary ([`Method`]). rsip 0.4
//! cannot be the parser itself: it fails on `tel:` and IPv6 request URIs and on unknown
//! methods, and its header model matches names by a chain of comparisons and allocates a
//! typed variant per field; a B2BUA copies most fields unread, so [`Headers`] keeps them as
//! written. What the edge must read (Via, From/To, CSeq, URIs) has its own small parser.
//!
//! Parsing never panics and never loses a request that can be answered: when Via, From,
//! To, Call-ID and CSeq can be read, the rejection carries them and
//! [`Rejection::response`] builds the 400/416/501/505 for it.

use std::fmt;
use std::str::FromStr;

use rsip::Method;

use super::headers::{Headers, is_token, split_list_exactly};
use super::normalize::normalize;
use super::uri::{NameAddr, SipUri, Uri};
use super::via::Via;

/// Methods this edge understands; any other gets 501 (RFC 3261 §8.2.1).
pub const METHODS: [Method; 9] = [
    Method::Invite,
    Method::Ack,
    Method::Bye,
    Method::Cancel,
    Method::Options,
    Method::Update,
    Method::Info,
    Method::PRack,
    Method::Message,
];

/// The Allow header value for [`METHODS`].
pub fn allow() -> String {
    METHODS.iter().map(Method::to_string).collect::<Vec<_>>().join(", ")
}

/// A method token matched case-sensitively (RFC 3261 §7.1: `invite` is not `INVITE`).
pub fn method(token: &str) -> Option<Method> {
    METHODS.iter().copied().find(|m| m.to_string() == token)
}

/// The CSeq header: sequence number and method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CSeq {
    pub number: u32,
    pub method: Method,
}

impl CSeq {
    /// `1*DIGIT LWS Method` (RFC 3261 §20.16), the number as written: a response can
    /// copy it even when it is out of range.
    fn split(value: &str) -> Result<(&str, &str), &'static str> {
        let mut parts = value.split_ascii_whitespace();
        let number = parts
            .next()
            .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
            .ok_or("bad CSeq number")?;
        let method = parts.next().ok_or("CSeq without method")?;
        if parts.next().is_some() || !method.bytes().all(is_token) {
            return Err("bad CSeq");
        }
        Ok((number, method))
    }

    /// The number, which must fit in 32 bits (RFC 3261 §8.1.1.5), and the method.
    fn parse(value: &str) -> Result<(u32, &str), &'static str> {
        let (number, method) = CSeq::split(value)?;
        Ok((number.parse().map_err(|_| "CSeq number out of range")?, method))
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.number, self.method)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub uri: Uri,
    pub headers: Headers,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Request(Request),
    Response(Response),
}

/// Accessors shared by requests and responses. A parsed message has every one of these
/// (parsing checks them); a message built by this crate sets them.
pub trait Fields {
    fn headers(&self) -> &Headers;

    fn call_id(&self) -> &str {
        self.headers().get("Call-ID").unwrap_or_default()
    }

    fn cseq(&self) -> Option<CSeq> {
        let (number, method) = CSeq::parse(self.headers().get("CSeq")?).ok()?;
        Some(CSeq { number, method: self::method(method)? })
    }

    fn top_via(&self) -> Option<Via> {
        Via::parse(self.headers().all("Via").next()?)
    }

    /// The top Via's branch, which names the transaction; empty when there is none.
    fn branch(&self) -> String {
        self.top_via().and_then(|via| via.branch().map(str::to_owned)).unwrap_or_default()
    }

    fn from(&self) -> Option<NameAddr> {
        self.headers().get("From")?.parse().ok()
    }

    fn to(&self) -> Option<NameAddr> {
        self.headers().get("To")?.parse().ok()
    }

    fn contact(&self) -> Option<NameAddr> {
        self.headers().all("Contact").next()?.parse().ok()
    }
}

impl Fields for Request {
    fn headers(&self) -> &Headers {
        &self.headers
    }
}

impl Fields for Response {
    fn headers(&self) -> &Headers {
        &self.headers
    }
}

impl Request {
    pub fn max_forwards(&self) -> u32 {
        // Absent means a pre-RFC 3261 peer: assume the RFC's initial value.
        self.headers.get("Max-Forwards").and_then(|v| v.trim().parse().ok()).unwrap_or(70)
    }

    /// A response to this request: Via, From, To, Call-ID and CSeq copied (RFC 3261
    /// §8.2.6.2), with `to_tag` added to To when it has none.
    pub fn response(&self, status: u16, to_tag: Option<&str>) -> Response {
        response_to(&self.headers, status, to_tag)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serialize(format_args!("{} {} SIP/2.0", self.method, self.uri), &self.headers, &self.body)
    }
}

impl Response {
    pub fn new(status: u16) -> Response {
        Response {
            status,
            reason: reason(status).to_owned(),
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    pub fn is_provisional(&self) -> bool {
        self.status < 200
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        serialize(
            format_args!("SIP/2.0 {} {}", self.status, self.reason),
            &self.headers,
            &self.body,
        )
    }
}

fn response_to(request: &Headers, status: u16, to_tag: Option<&str>) -> Response {
    let mut response = Response::new(status);
    for via in request.lines("Via") {
        response.headers.push("Via", via);
    }
    for name in ["From", "To", "Call-ID", "CSeq"] {
        if let Some(value) = request.get(name) {
            response.headers.push(name, value);
        }
    }
    if let (Some(tag), Some(to)) = (to_tag, response.headers.get_mut("To")) {
        let has_tag = to.parse::<NameAddr>().is_ok_and(|to| to.tag().is_some());
        if !has_tag {
            to.push_str(";tag=");
            to.push_str(tag);
        }
    }
    response
}

fn serialize(start: fmt::Arguments<'_>, headers: &Headers, body: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut out = Vec::with_capacity(512 + body.len());
    let _ = write!(out, "{start}\r\n");
    for (name, value) in headers.iter() {
        // Content-Length is always ours: it must match the body we send.
        if !name.eq_ignore_ascii_case("Content-Length") {
            let _ = write!(out, "{name}: {value}\r\n");
        }
    }
    let _ = write!(out, "Content-Length: {}\r\n\r\n", body.len());
    out.extend_from_slice(body);
    out
}

impl Message {
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(request) => request.to_bytes(),
            Message::Response(response) => response.to_bytes(),
        }
    }
}

/// The standard reason phrase of a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        415 => "Unsupported Media Type",
        420 => "Bad Extension",
        422 => "Session Interval Too Small",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => match status / 100 {
            1 => "Session Progress",
            2 => "OK",
            3 => "Redirection",
            4 => "Request Failure",
            5 => "Server Failure",
            _ => "Global Failure",
        },
    }
}

/// Why a message was not accepted, and how to say so. The detail is one of our own short
/// texts, never a copy of what was received: the answer may go to a forged source, and
/// must not carry what an attacker wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub status: u16,
    /// The human-readable reason, sent in a Warning header (RFC 3261 §20.43).
    pub detail: String,
    /// The fields a response needs, when the message was a request that can be answered.
    reply: Option<Headers>,
}

impl Rejection {
    /// The response to send, if the message was a request that can be answered (never a
    /// response, never an ACK).
    pub fn response(&self) -> Option<Response> {
        let mut response = response_to(self.reply.as_ref()?, self.status, None);
        let detail: String = self.detail.chars().map(|c| if c == '"' { '\'' } else { c }).collect();
        response.headers.push("Warning", format!("399 bidline \"{detail}\""));
        if self.status == 501 {
            response.headers.push("Allow", allow());
        }
        Some(response)
    }
}

impl Rejection {
    /// A message that could not be framed (a short body, a stream without
    /// Content-Length): a 400, answerable when its header section reads as a request.
    pub fn unframed(bytes: &[u8], detail: &str) -> Rejection {
        let head = match bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            Some(at) => &bytes[..at + 4],
            None => bytes,
        };
        let reply = match parse(head) {
            Ok(Message::Request(request)) if request.method != Method::Ack => Some(request.headers),
            Err(rejection) => rejection.reply,
            Ok(_) => None,
        };
        Rejection { status: 400, detail: detail.to_owned(), reply }
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, reason(self.status), self.detail)
    }
}

/// Parses one framed message (see [`framing`](super::framing)).
pub fn parse(framed: &[u8]) -> Result<Message, Rejection> {
    let normalized = normalize(framed);
    let (head, body) = match normalized.windows(4).position(|w| w == b"\r\n\r\n") {
        Some(at) => (&normalized[..at], normalized[at + 4..].to_vec()),
        None => (&normalized[..], Vec::new()),
    };
    let reject = |status: u16, detail: String| Rejection { status, detail, reply: None };
    let head = std::str::from_utf8(head)
        .map_err(|_| reject(400, "the header section is not UTF-8".to_owned()))?;
    let mut lines = head.split("\r\n");
    let start = lines.next().unwrap_or_default();
    let mut headers = Headers::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            return Err(reject(400, "a header line without a colon".to_owned()));
        };
        if name.is_empty() || !name.bytes().all(is_token) {
            return Err(reject(400, "a bad header name".to_owned()));
        }
        headers.push(name, value.trim());
    }

    if let Some(status_line) = start.strip_prefix("SIP/2.0 ") {
        let (code, reason) = status_line.split_once(' ').unwrap_or((status_line, ""));
        let status = code
            .parse::<u16>()
            .ok()
            .filter(|s| (100..700).contains(s) && code.len() == 3)
            .ok_or_else(|| reject(400, "a bad status line".to_owned()))?;
        let response = Response { status, reason: reason.to_owned(), headers, body };
        // Only what matching it needs: a response may copy fields its request got wrong
        // (our own 400s do), and one that matches no transaction of ours is dropped anyway.
        check_common(&response.headers).map_err(|detail| reject(400, detail.to_owned()))?;
        return Ok(Message::Response(response));
    }

    // Method SP Request-URI SP SIP-Version (RFC 3261 §7.1): single spaces, nothing more.
    let token = start.split(' ').next().unwrap_or_default();
    if token.is_empty() || !token.bytes().all(is_token) {
        return Err(reject(400, "a bad method".to_owned()));
    }
    // From here on the message is a request: an answer can be built if the fields hold.
    let answerable = |status: u16, detail: String| {
        // A response copies Via, From, To, Call-ID and CSeq: unreadable ones make it useless.
        let reply = (check_common(&headers).is_ok() && token != "ACK").then(|| headers.clone());
        Rejection { status, detail, reply }
    };
    if let Err(detail) = check_common(&headers) {
        return Err(answerable(400, detail.to_owned()));
    }
    let mut parts = start.split(' ');
    let (Some(_), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(answerable(400, "a bad request line".to_owned()));
    };
    if !version.eq_ignore_ascii_case("SIP/2.0") {
        return Err(answerable(505, "only SIP/2.0 is supported".to_owned()));
    }
    check_fields(&headers).map_err(|detail| answerable(400, detail.to_owned()))?;
    check_request_fields(&headers).map_err(|detail| answerable(400, detail))?;
    // The request-URI is read before the method, so a malformed one is refused (400)
    // rather than a method (501); one of a scheme we do not read is well formed as far as
    // we can tell, and refused (416) after the method checks, in RFC 3261 §8.2's order.
    let uri = match Uri::from_str(uri) {
        Ok(Uri::Sip(SipUri { headers: Some(_), .. })) => {
            // RFC 3261 §19.1.1: headers are not allowed in a request-URI.
            return Err(answerable(400, "a request-URI with headers".to_owned()));
        }
        Ok(uri) => Ok(uri),
        Err(e) if e.is_unsupported_scheme() => Err(e),
        Err(e) => return Err(answerable(400, format!("a bad request-URI ({})", e.reason))),
    };
    let Some(method) = method(token) else {
        return Err(answerable(501, "the method is not implemented".to_owned()));
    };
    let cseq_method = headers.get("CSeq").and_then(|v| CSeq::split(v).ok()).map(|(_, m)| m);
    if cseq_method != Some(token) {
        return Err(answerable(400, "CSeq method differs from the request method".to_owned()));
    }
    let uri =
        uri.map_err(|_| answerable(416, "the request-URI scheme is not supported".to_owned()))?;
    Ok(Message::Request(Request { method, uri, headers, body }))
}

/// Fields every message needs to be matched to a transaction and answered, read as far
/// as an answer needs: the top Via of any SIP version and whatever parameters (a request
/// of another version is answered 505, one with broken parameters 400), a CSeq of any
/// number (one out of range is answered 400).
fn check_common(headers: &Headers) -> Result<(), &'static str> {
    let via = headers.all("Via").next().ok_or("no Via")?;
    Via::version(via).ok_or("bad Via")?;
    for name in ["From", "To", "Call-ID"] {
        if headers.get(name).is_none_or(str::is_empty) {
            return Err(match name {
                "From" => "no From",
                "To" => "no To",
                _ => "no Call-ID",
            });
        }
    }
    CSeq::split(headers.get("CSeq").ok_or("no CSeq")?)?;
    Ok(())
}

/// What a request must hold beyond [`check_common`]: each via-parm of each Via a SIP/2.0
/// one (no empty ones, as in `a;;,,`), a CSeq number in range.
fn check_fields(headers: &Headers) -> Result<(), &'static str> {
    for line in headers.lines("Via") {
        if !split_list_exactly(line).all(|via| Via::parse(via).is_some()) {
            return Err("bad Via");
        }
    }
    CSeq::parse(headers.get("CSeq").unwrap_or_default())?;
    Ok(())
}

/// What a request must hold beyond [`check_fields`]: Max-Forwards, From, To and Contact
/// as RFC 3261 writes them.
fn check_request_fields(headers: &Headers) -> Result<(), String> {
    if let Some(value) = headers.get("Max-Forwards")
        && value.trim().parse::<u8>().is_err()
    {
        return Err("a bad Max-Forwards".to_owned());
    }
    for name in ["From", "To"] {
        let value = headers.get(name).unwrap_or_default();
        if let Err(e) = value.parse::<NameAddr>() {
            return Err(format!("a bad {name} ({})", e.reason));
        }
    }
    for line in headers.lines("Contact") {
        for contact in split_list_exactly(line) {
            if let Err(e) = NameAddr::check_contact(contact) {
                return Err(format!("a bad Contact ({})", e.reason));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "INVITE sip:+15550100200@192.0.2.1 SIP/2.0\r\n\
Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK77;rport\r\n\
Max-Forwards: 70\r\n\
From: \"Carrier\" <sip:+15550001111@203.0.113.5>;tag=a1\r\n\
To: <sip:+15550100200@192.0.2.1>\r\n\
Call-ID: c1@203.0.113.5\r\n\
CSeq: 1 INVITE\r\n\
Contact: <sip:gw@203.0.113.5:5060>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\
\r\n\
v=0\n";

    fn request(text: &str) -> Request {
        match parse(text.as_bytes()) {
            Ok(Message::Request(request)) => request,
            other => panic!("not a request: {other:?}"),
        }
    }

    #[test]
    fn an_invite_parses_and_prints_back() {
        let invite = request(INVITE);
        assert_eq!(invite.method, Method::Invite);
        assert_eq!(invite.uri.user(), Some("+15550100200"));
        assert_eq!(invite.call_id(), "c1@203.0.113.5");
        assert_eq!(invite.cseq(), Some(CSeq { number: 1, method: Method::Invite }));
        assert_eq!(invite.from().unwrap().tag(), Some("a1"));
        assert_eq!(invite.body, b"v=0\n");
        assert_eq!(String::from_utf8(invite.to_bytes()).unwrap(), INVITE);
    }

    #[test]
    fn tel_and_ipv6_request_uris_are_accepted() {
        let tel = request(&INVITE.replace("sip:+15550100200@192.0.2.1 ", "tel:+15550100200 "));
        assert_eq!(tel.uri.user(), Some("+15550100200"));
        let v6 = request(&INVITE.replace("@192.0.2.1 ", "@[2001:db8::1]:5060 "));
        assert_eq!(v6.uri.to_string(), "sip:+15550100200@[2001:db8::1]:5060");
    }

    #[test]
    fn unknown_and_lower_case_methods_get_501_with_allow() {
        for method in ["FOO", "invite"] {
            let text = INVITE
                .replace("INVITE sip", &format!("{method} sip"))
                .replace("1 INVITE", &format!("1 {method}"));
            let rejection = parse(text.as_bytes()).unwrap_err();
            assert_eq!(rejection.status, 501, "{method}");
            let response = rejection.response().unwrap();
            assert_eq!(response.headers.get("Call-ID"), Some("c1@203.0.113.5"));
            assert!(response.headers.get("Allow").unwrap().contains("INVITE"));
        }
    }

    #[test]
    fn malformed_requests_get_400_with_a_warning() {
        let cases = [
            INVITE.replace("CSeq: 1 INVITE", "CSeq: 1 BYE"),
            INVITE.replace("sip:+15550100200@192.0.2.1 ", "sip:+1555@ "),
            INVITE.replace("Max-Forwards: 70", "Max-Forwards: lots"),
            INVITE.replace("From: \"Carrier\" <sip", "From: \"Carrier\" <xyz"),
        ];
        for case in cases {
            let rejection = parse(case.as_bytes()).unwrap_err();
            assert_eq!(rejection.status, 400, "{case}");
            let response = rejection.response().expect("answerable");
            assert!(response.headers.get("Warning").unwrap().starts_with("399 bidline \""));
        }
    }

    #[test]
    fn our_answer_to_a_request_with_fields_we_refuse_parses_as_a_response() {
        let cases = [
            INVITE
                .replace("INVITE sip:+15550100200@192.0.2.1 SIP/2.0", "INVITE  sip:x SIP/2.0")
                .replace(";branch=z9hG4bK77;rport", ";branch=z9hG4bK77;bad param"),
            INVITE.replace("CSeq: 1 INVITE", "CSeq: 99999999999 INVITE"),
        ];
        for case in cases {
            let rejection = parse(case.as_bytes()).unwrap_err();
            let response = rejection.response().expect("answerable");
            assert!(matches!(parse(&response.to_bytes()), Ok(Message::Response(_))), "{case}");
        }
    }

    #[test]
    fn requests_missing_what_a_response_needs_cannot_be_answered() {
        let no_via =
            INVITE.replace("Via: SIP/2.0/UDP 203.0.113.5:5060;branch=z9hG4bK77;rport\r\n", "");
        assert_eq!(parse(no_via.as_bytes()).unwrap_err().response(), None);
        let bad_cseq = INVITE.replace("CSeq: 1 INVITE", "CSeq: one INVITE");
        assert_eq!(parse(bad_cseq.as_bytes()).unwrap_err().response(), None);
        let ack = INVITE
            .replace("INVITE sip", "ACK sip")
            .replace("1 INVITE", "1 ACK")
            .replace("sip:+15550100200@192.0.2.1 ", "sip:@ ");
        assert_eq!(parse(ack.as_bytes()).unwrap_err().response(), None);
    }

    #[test]
    fn wrong_version_gets_505() {
        let text = INVITE.replace("192.0.2.1 SIP/2.0", "192.0.2.1 SIP/3.0");
        assert_eq!(parse(text.as_bytes()).unwrap_err().status, 505);
    }

    #[test]
    fn responses_parse_with_any_reason_phrase() {
        let text = "SIP/2.0 486 Busy, try later\r\nVia: SIP/2.0/UDP a;branch=z9hG4bK1\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>;tag=2\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\n\r\n";
        let Ok(Message::Response(response)) = parse(text.as_bytes()) else { panic!() };
        assert_eq!((response.status, response.reason.as_str()), (486, "Busy, try later"));
        assert_eq!(response.to().unwrap().tag(), Some("2"));
    }

    #[test]
    fn a_response_copies_the_fields_and_adds_the_to_tag() {
        let invite = request(INVITE);
        let ringing = invite.response(180, Some("b2"));
        assert_eq!(ringing.headers.get("To"), Some("<sip:+15550100200@192.0.2.1>;tag=b2"));
        assert_eq!(ringing.headers.get("CSeq"), Some("1 INVITE"));
        assert!(
            String::from_utf8(ringing.to_bytes()).unwrap().starts_with("SIP/2.0 180 Ringing\r\n")
        );
    }
}
