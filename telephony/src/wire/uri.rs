//! SIP and tel URIs (RFC 3261 §19.1, RFC 3966) and the name-addr form of From, To and
//! Contact (RFC 3261 §20.10).
//!
//! Ours rather than rsip's: rsip's `Uri` cannot hold a `tel:` URI (it prints `tel://`),
//! fails on IPv6 references and prints an IPv6 host without its brackets. Carriers send
//! all three. Parameters are kept in order and printed back as written.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use super::headers::is_token;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid URI {uri:?}: {reason}")]
pub struct UriError {
    pub uri: String,
    pub reason: &'static str,
}

fn error(uri: &str, reason: &'static str) -> UriError {
    UriError { uri: uri.to_owned(), reason }
}

const UNSUPPORTED_SCHEME: &str = "unsupported scheme";

impl UriError {
    /// Whether the URI is well formed as far as can be told, of a scheme this crate does
    /// not read: a request for it gets 416 (RFC 3261 §8.2.2.1), not 400.
    pub fn is_unsupported_scheme(&self) -> bool {
        self.reason == UNSUPPORTED_SCHEME
    }
}

/// The scheme of an absolute URI, without its colon, when `text` starts with a well-formed
/// one: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"` (RFC 3261 §25.1).
fn scheme(text: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = text.split_once(':')?;
    let mut bytes = scheme.bytes();
    let valid = bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    valid.then_some((scheme, rest))
}

/// `;name=value` parameters, in the order written; names compare case-insensitively.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, Option<String>)>);

impl Params {
    /// `;a=1;b;c=3` (the leading `;` optional), read leniently: URI parameters, whose
    /// names and values may hold escapes, and values only looked into (a refresher);
    /// header parameters held to the grammar are [`strict`](Params::strict).
    pub fn parse(text: &str) -> Params {
        Params(
            text.split(';')
                .map(str::trim)
                .filter(|part| !part.is_empty())
                .map(|part| match part.split_once('=') {
                    Some((name, value)) => (name.trim().to_owned(), Some(value.trim().to_owned())),
                    None => (part.to_owned(), None),
                })
                .collect(),
        )
    }

    /// Header parameters as RFC 3261 writes them, `*( SEMI generic-param )`: each one
    /// named by a token, with a value when it has `=`; `None` for empty ones (`;;`) or
    /// anything else. Semicolons inside quoted values do not separate.
    pub fn strict(text: &str) -> Option<Params> {
        let text = text.trim();
        if text.is_empty() {
            return Some(Params::default());
        }
        let mut params = Vec::new();
        let mut rest = text.strip_prefix(';')?;
        loop {
            let (part, next) = match find_unquoted(rest, ';') {
                Some(at) => (&rest[..at], Some(&rest[at + 1..])),
                None => (rest, None),
            };
            let (name, value) = match part.split_once('=') {
                Some((name, value)) => (name.trim(), Some(value.trim())),
                None => (part.trim(), None),
            };
            if name.is_empty() || !name.bytes().all(is_token) || value == Some("") {
                return None;
            }
            params.push((name.to_owned(), value.map(str::to_owned)));
            match next {
                Some(next) => rest = next,
                None => return Some(Params(params)),
            }
        }
    }

    /// The value of `name`: `Some(None)` when present without a value.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.0.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, value)| value.as_deref())
    }

    pub fn value(&self, name: &str) -> Option<&str> {
        self.get(name).flatten()
    }

    pub fn set(&mut self, name: &str, value: Option<&str>) {
        let value = value.map(str::to_owned);
        match self.0.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_owned(), value)),
        }
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (name, value) in &self.0 {
            match value {
                Some(value) => write!(f, ";{name}={value}")?,
                None => write!(f, ";{name}")?,
            }
        }
        Ok(())
    }
}

/// A host as written: a name, or an address (IPv6 printed in brackets).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    Name(String),
    Ip(IpAddr),
}

impl Host {
    /// `example.com`, `192.0.2.1` or `[2001:db8::1]`.
    pub fn parse(text: &str) -> Option<Host> {
        if let Some(inner) = text.strip_prefix('[') {
            return ipv6(inner.strip_suffix(']')?).map(|ip| Host::Ip(ip.into()));
        }
        if text.is_empty() {
            return None;
        }
        if let Ok(ip) = text.parse::<IpAddr>() {
            // A bare IPv6 address is not a valid host: it must be bracketed.
            return ip.is_ipv4().then_some(Host::Ip(ip));
        }
        let valid = text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
        valid.then(|| Host::Name(text.to_ascii_lowercase()))
    }
}

/// An IPv6 address as RFC 3261 §25.1 writes it. Its grammar, `hexpart [ ":" IPv4address ]`,
/// also lets a dotted quad follow a "::" with a colon of its own (`2001:db8:::192.0.2.1`,
/// RFC 5118 §4.10), which means what `2001:db8::192.0.2.1` means.
fn ipv6(text: &str) -> Option<Ipv6Addr> {
    text.parse().ok().or_else(|| {
        let (hexpart, ipv4) = text.rsplit_once(':')?;
        ipv4.parse::<Ipv4Addr>().ok()?;
        hexpart.ends_with("::").then(|| format!("{hexpart}{ipv4}").parse().ok())?
    })
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Host::Name(name) => f.write_str(name),
            Host::Ip(IpAddr::V4(ip)) => write!(f, "{ip}"),
            Host::Ip(IpAddr::V6(ip)) => write!(f, "[{ip}]"),
        }
    }
}

/// `sip:` or `sips:` URI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SipUri {
    pub secure: bool,
    /// The user part, percent-escapes kept as written.
    pub user: Option<String>,
    pub host: Host,
    pub port: Option<u16>,
    pub params: Params,
    /// `?header=value&…`, kept as written (without the `?`).
    pub headers: Option<String>,
}

impl SipUri {
    pub fn new(user: Option<&str>, host: Host, port: Option<u16>) -> SipUri {
        SipUri {
            secure: false,
            user: user.map(str::to_owned),
            host,
            port,
            params: Params::default(),
            headers: None,
        }
    }

    fn parse_after_scheme(whole: &str, rest: &str, secure: bool) -> Result<SipUri, UriError> {
        // The user part may hold `;`, `?` and `,` (user parameters, unusual characters) but
        // no `@`, which no later part holds either: split there first.
        let (user, rest) = match rest.split_once('@') {
            Some((userinfo, rest)) => {
                let user = userinfo.split_once(':').map_or(userinfo, |(user, _password)| user);
                if user.is_empty() {
                    return Err(error(whole, "empty user part"));
                }
                (Some(user.to_owned()), rest)
            }
            None => (None, rest),
        };
        let (hostport_params, headers) = match rest.split_once('?') {
            Some((rest, headers)) => (rest, Some(headers.to_owned())),
            None => (rest, None),
        };
        let (hostport, params) = match hostport_params.split_once(';') {
            Some((hostport, params)) => (hostport, Params::parse(params)),
            None => (hostport_params, Params::default()),
        };
        let (host, port) =
            split_host_port(hostport).ok_or_else(|| error(whole, "bad host or port"))?;
        Ok(SipUri { secure, user, host, port, params, headers })
    }

    /// The transport parameter, lower-cased (`udp`, `tcp`, …), if any.
    pub fn transport(&self) -> Option<String> {
        self.params.value("transport").map(str::to_ascii_lowercase)
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`.
pub fn split_host_port(text: &str) -> Option<(Host, Option<u16>)> {
    let (host, port) = if text.starts_with('[') {
        let close = text.find(']')?;
        let (host, rest) = text.split_at(close + 1);
        match rest {
            "" => (host, None),
            _ => (host, Some(rest.strip_prefix(':')?)),
        }
    } else {
        match text.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };
    let port = match port {
        Some(port) => Some(port.parse::<u16>().ok().filter(|p| *p != 0)?),
        None => None,
    };
    Some((Host::parse(host)?, port))
}

impl fmt::Display for SipUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.secure { "sips:" } else { "sip:" })?;
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        write!(f, "{}", self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        write!(f, "{}", self.params)?;
        if let Some(headers) = &self.headers {
            write!(f, "?{headers}")?;
        }
        Ok(())
    }
}

/// `tel:` URI (RFC 3966): a telephone number and its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TelUri {
    /// `+15551234567`, or a local number with `phone-context` among the parameters.
    pub number: String,
    pub params: Params,
}

impl fmt::Display for TelUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tel:{}{}", self.number, self.params)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Uri {
    Sip(SipUri),
    Tel(TelUri),
}

impl Uri {
    /// The user part of a SIP URI or the number of a tel URI, without user parameters
    /// (`+1555;npdi` → `+1555`).
    pub fn user(&self) -> Option<&str> {
        let user = match self {
            Uri::Sip(uri) => uri.user.as_deref()?,
            Uri::Tel(uri) => &uri.number,
        };
        Some(user.split(';').next().unwrap_or(user))
    }
}

impl FromStr for Uri {
    type Err = UriError;

    fn from_str(text: &str) -> Result<Uri, UriError> {
        let text = text.trim();
        let Some((scheme, rest)) = scheme(text) else {
            return Err(error(text, "no scheme"));
        };
        if rest.bytes().any(|b| b.is_ascii_whitespace() || b.is_ascii_control()) {
            return Err(error(text, "whitespace inside"));
        }
        if scheme.eq_ignore_ascii_case("sip") {
            SipUri::parse_after_scheme(text, rest, false).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("sips") {
            SipUri::parse_after_scheme(text, rest, true).map(Uri::Sip)
        } else if scheme.eq_ignore_ascii_case("tel") {
            let (number, params) = match rest.split_once(';') {
                Some((number, params)) => (number, Params::parse(params)),
                None => (rest, Params::default()),
            };
            let digits = number.strip_prefix('+').unwrap_or(number);
            let valid = !digits.is_empty()
                && digits.bytes().all(|b| b.is_ascii_hexdigit() || b"*#-.()".contains(&b));
            if !valid {
                return Err(error(text, "bad telephone number"));
            }
            Ok(Uri::Tel(TelUri { number: number.to_owned(), params }))
        } else {
            Err(error(text, UNSUPPORTED_SCHEME))
        }
    }
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Uri::Sip(uri) => uri.fmt(f),
            Uri::Tel(uri) => uri.fmt(f),
        }
    }
}

/// The value of From, To or Contact: `"Name" <uri>;tag=…` or `uri;tag=…`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name as written, quotes included.
    pub display: Option<String>,
    pub uri: Uri,
    /// Header parameters (`tag`, `expires`, …), not the URI's.
    pub params: Params,
}

impl NameAddr {
    pub fn new(uri: Uri) -> NameAddr {
        NameAddr { display: None, uri, params: Params::default() }
    }

    pub fn tag(&self) -> Option<&str> {
        self.params.value("tag")
    }

    /// Checks one Contact value (RFC 3261 §20.10): `*`, or a name-addr or addr-spec with
    /// header parameters, whose URI may be of any scheme (only those this crate reads
    /// are looked into).
    pub fn check_contact(text: &str) -> Result<(), UriError> {
        if text.trim() == "*" {
            return Ok(());
        }
        match Parts::split(text)?.uri.parse::<Uri>() {
            Err(e) if e.is_unsupported_scheme() => Ok(()),
            parsed => parsed.map(drop),
        }
    }
}

impl FromStr for NameAddr {
    type Err = UriError;

    fn from_str(text: &str) -> Result<NameAddr, UriError> {
        let Parts { display, uri, params } = Parts::split(text)?;
        Ok(NameAddr { display: display.map(str::to_owned), uri: uri.parse()?, params })
    }
}

/// A name-addr or addr-spec with its header parameters, the URI not yet read.
struct Parts<'a> {
    display: Option<&'a str>,
    uri: &'a str,
    params: Params,
}

impl<'a> Parts<'a> {
    /// `[ display-name ] LAQUOT addr-spec RAQUOT` or an addr-spec, then
    /// `*( SEMI generic-param )` (RFC 3261 §20.10, §25.1).
    fn split(text: &'a str) -> Result<Parts<'a>, UriError> {
        let text = text.trim();
        let (display, uri, params) = if let Some(open) = find_unquoted(text, '<') {
            let close = text[open..].find('>').ok_or_else(|| error(text, "no closing >"))? + open;
            let display = text[..open].trim();
            if !display.is_empty() && !is_display_name(display) {
                return Err(error(text, "a bad display name"));
            }
            let uri = &text[open + 1..close];
            // LAQUOT and RAQUOT take whitespace outside the brackets, never inside.
            if uri.trim() != uri {
                return Err(error(text, "whitespace inside <>"));
            }
            ((!display.is_empty()).then_some(display), uri, &text[close + 1..])
        } else {
            // Without angle brackets, parameters after the URI are the header's, and the
            // URI can carry none of its own, nor headers nor commas (RFC 3261 §20.10).
            let (uri, params) = text.split_at(text.find(';').unwrap_or(text.len()));
            if uri.contains(['?', ',']) {
                return Err(error(text, "a URI with headers or commas outside <>"));
            }
            (None, uri, params)
        };
        let params = Params::strict(params).ok_or_else(|| error(text, "bad parameters"))?;
        Ok(Parts { display, uri, params })
    }
}

/// `display-name = *(token LWS) / quoted-string` (RFC 3261 §25.1).
fn is_display_name(text: &str) -> bool {
    if text.starts_with('"') {
        quoted_string_end(text) == Some(text.len())
    } else {
        text.split_ascii_whitespace().all(|word| word.bytes().all(is_token))
    }
}

/// Where the quoted-string that `text` starts with ends (after its closing quote): its
/// characters are any but controls, or any but CR and LF after a backslash.
fn quoted_string_end(text: &str) -> Option<usize> {
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            '\r' | '\n' => return None,
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '"' => return Some(i + 1),
            c if c.is_ascii_control() && c != '\t' => return None,
            _ => {}
        }
    }
    None
}

/// The first `wanted` outside a quoted string.
fn find_unquoted(text: &str, wanted: char) -> Option<usize> {
    let mut quoted = false;
    let mut escaped = false;
    for (i, c) in text.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            c if c == wanted && !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(display) = &self.display {
            write!(f, "{display} ")?;
        }
        write!(f, "<{}>{}", self.uri, self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sip(text: &str) -> SipUri {
        match text.parse::<Uri>().unwrap() {
            Uri::Sip(uri) => uri,
            other => panic!("not a SIP URI: {other:?}"),
        }
    }

    #[test]
    fn ipv6_references_parse_and_print_in_brackets() {
        let uri = sip("sip:+15550100@[2001:db8::1]:5070;transport=TCP");
        assert_eq!(uri.host, Host::Ip("2001:db8::1".parse().unwrap()));
        assert_eq!(uri.port, Some(5070));
        assert_eq!(uri.transport().as_deref(), Some("tcp"));
        assert_eq!(uri.to_string(), "sip:+15550100@[2001:db8::1]:5070;transport=TCP");
        assert!("sip:u@2001:db8::1".parse::<Uri>().is_err());
        // RFC 3261's grammar lets a dotted quad follow "::" after a colon of its own.
        assert_eq!(
            sip("sip:u@[2001:db8:::192.0.2.1]").host,
            sip("sip:u@[2001:db8::c000:201]").host
        );
    }

    #[test]
    fn tel_uris_keep_number_and_parameters() {
        let uri: Uri = "tel:+1-555-010-0200;npdi;rn=+15550000000".parse().unwrap();
        assert_eq!(uri.user(), Some("+1-555-010-0200"));
        assert_eq!(uri.to_string(), "tel:+1-555-010-0200;npdi;rn=+15550000000");
        assert!("tel:".parse::<Uri>().is_err());
        assert!("tel:xyz".parse::<Uri>().is_err());
    }

    #[test]
    fn user_parameters_are_not_part_of_the_number() {
        let uri: Uri = "sip:+15550100200;npdi@carrier.example;user=phone".parse().unwrap();
        assert_eq!(uri.user(), Some("+15550100200"));
    }

    #[test]
    fn bad_uris_are_errors() {
        for bad in
            ["", "sip:", "sip:@host", "sip:host:0", "sip:host:99999", "mailto:a@b", "sip:a b@c"]
        {
            assert!(bad.parse::<Uri>().is_err(), "{bad}");
        }
    }

    #[test]
    fn name_addr_separates_header_parameters_from_uri_parameters() {
        let addr: NameAddr =
            "\"A <b>\" <sip:alice@example.com;transport=tcp>;tag=abc".parse().unwrap();
        assert_eq!(addr.display.as_deref(), Some("\"A <b>\""));
        assert_eq!(addr.tag(), Some("abc"));
        for bad in
            ["Bell, Alexander <sip:a@b>", "\"Mr. J. User <sip:a@b>", "< sip:a@b >", "<sip:a@b>;;"]
        {
            assert!(bad.parse::<NameAddr>().is_err(), "{bad}");
        }
        let bare: NameAddr = "sip:bob@[::1]:5060;tag=9".parse().unwrap();
        assert_eq!(bare.tag(), Some("9"));
        assert_eq!(bare.to_string(), "<sip:bob@[::1]:5060>;tag=9");
    }
}
