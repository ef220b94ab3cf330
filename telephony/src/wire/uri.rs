//! SIP and tel URIs (RFC 3261 §19.1, RFC 3966) and the name-addr form of From, To and
//! Contact (RFC 3261 §20.10).
//!
//! Ours rather than rsip's: rsip's `Uri` cannot hold a `tel:` URI (it prints `tel://`),
//! fails on IPv6 references and prints an IPv6 host without its brackets. Carriers send
//! all three. Parameters are kept in order and printed back as written.

use std::fmt;
use std::net::{IpAddr, Ipv6Addr};
use std::str::FromStr;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid URI {uri:?}: {reason}")]
pub struct UriError {
    pub uri: String,
    pub reason: &'static str,
}

fn error(uri: &str, reason: &'static str) -> UriError {
    UriError { uri: uri.to_owned(), reason }
}

/// `;name=value` parameters, in the order written; names compare case-insensitively.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(Vec<(String, Option<String>)>);

impl Params {
    /// `;a=1;b;c=3` (the leading `;` optional).
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
            return inner.strip_suffix(']')?.parse::<Ipv6Addr>().ok().map(|ip| Host::Ip(ip.into()));
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
        let (rest, headers) = match rest.split_once('?') {
            Some((rest, headers)) => (rest, Some(headers.to_owned())),
            None => (rest, None),
        };
        // The user part may hold `;` (user parameters), so split at the last `@` first.
        let (user, hostport_params) = match rest.rsplit_once('@') {
            Some((userinfo, rest)) => {
                let user = userinfo.split_once(':').map_or(userinfo, |(user, _password)| user);
                if user.is_empty() {
                    return Err(error(whole, "empty user part"));
                }
                (Some(user.to_owned()), rest)
            }
            None => (None, rest),
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
        let Some((scheme, rest)) = text.split_once(':') else {
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
            Err(error(text, "unsupported scheme"))
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
}

impl FromStr for NameAddr {
    type Err = UriError;

    fn from_str(text: &str) -> Result<NameAddr, UriError> {
        let text = text.trim();
        if let Some(open) = find_unquoted(text, '<') {
            let close = text[open..].find('>').ok_or_else(|| error(text, "no closing >"))? + open;
            let display = text[..open].trim();
            Ok(NameAddr {
                display: (!display.is_empty()).then(|| display.to_owned()),
                uri: text[open + 1..close].parse()?,
                params: Params::parse(&text[close + 1..]),
            })
        } else {
            // Without angle brackets, parameters after the URI are the header's
            // (RFC 3261 §20.10), and the URI can carry none of its own.
            let (uri, params) = match text.split_once(';') {
                Some((uri, params)) => (uri, Params::parse(params)),
                None => (text, Params::default()),
            };
            Ok(NameAddr { display: None, uri: uri.parse()?, params })
        }
    }
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
        let bare: NameAddr = "sip:bob@[::1]:5060;tag=9".parse().unwrap();
        assert_eq!(bare.tag(), Some("9"));
        assert_eq!(bare.to_string(), "<sip:bob@[::1]:5060>;tag=9");
    }
}
