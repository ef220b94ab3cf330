//! Where a target's calls go: a phone number (dialed through an outbound trunk) or a
//! SIP URI (sent to directly).

use crate::e164::E164;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Destination {
    Phone(E164),
    /// `sip:` or `sips:` URI, checked by [`parse_sip_uri`].
    Sip(String),
}

impl Destination {
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let lower = text.to_ascii_lowercase();
        if lower.starts_with("sip:") || lower.starts_with("sips:") {
            parse_sip_uri(text).map(Self::Sip)
        } else {
            E164::parse(text).map(Self::Phone).map_err(|_| {
                "must be a phone number (+15551234567) or a SIP URI (sip:buyer@host)".to_owned()
            })
        }
    }

    /// A SIP URI whose host is a literal private, loopback or link-local address is
    /// refused, unless the operator allows such targets (see [`crate::outbound`]).
    pub fn check_public(&self) -> Result<(), String> {
        let port = match self {
            Self::Sip(uri) => port_of(uri),
            Self::Phone(_) => None,
        };
        self.host().map_or(Ok(()), |host| crate::outbound::check_host(&host, port))
    }

    /// A SIP URI's host (an IPv6 address in brackets); `None` for a phone number.
    pub fn host(&self) -> Option<String> {
        match self {
            Self::Sip(uri) => Some(host_of(uri)),
            Self::Phone(_) => None,
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Phone(number) => number.as_str(),
            Self::Sip(uri) => uri,
        }
    }
}

impl serde::Serialize for Destination {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl schemars::JsonSchema for Destination {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Destination".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "description": "A phone number in E.164 (+15551234567), dialed through the target's outbound trunk, or a SIP URI (sip:buyer@host[:port][;params]) called directly.",
        })
    }
}

/// The host of a URI [`parse_sip_uri`] accepted (IPv6 in brackets).
fn host_of(uri: &str) -> String {
    let host_port = host_port_of(uri);
    match host_port.strip_prefix('[') {
        Some(v6) => format!("[{}]", v6.split(']').next().unwrap_or(v6)),
        None => host_port.split(':').next().unwrap_or(host_port).to_owned(),
    }
}

/// A SIP URI's port, as written (5060 is meant when none is).
fn port_of(uri: &str) -> Option<u16> {
    let host_port = host_port_of(uri);
    let after_host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map_or("", |(_, after)| after),
        None => host_port.split_once(':').map_or("", |(host, _)| &host_port[host.len()..]),
    };
    after_host.strip_prefix(':').map_or(Some(5060), |port| port.parse().ok())
}

fn host_port_of(uri: &str) -> &str {
    let rest = uri.split_once(':').map_or(uri, |(_, rest)| rest);
    let address = rest.split(';').next().unwrap_or(rest);
    address.rsplit_once('@').map_or(address, |(_, host_port)| host_port)
}

/// `sip[s]:[user@]host[:port][;param[=value]]…`, with the scheme in lower case. Headers
/// (`?…`) are refused: what is sent is Bidline's to decide.
fn parse_sip_uri(text: &str) -> Result<String, String> {
    let bad =
        |why: &str| Err(format!("is not a SIP URI like sip:buyer@sip.example.com:5060 ({why})"));
    let (scheme, rest) = text.split_once(':').expect("checked by the caller");
    let scheme = scheme.to_ascii_lowercase();
    if rest.contains('?') {
        return bad("headers are not allowed");
    }
    let (address, params) = rest.split_once(';').unwrap_or((rest, ""));
    let host_port = match address.rsplit_once('@') {
        Some((user, host_port)) => {
            let user_ok = !user.is_empty()
                && user
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'()&=+$,;?/%:".contains(&b));
            if !user_ok {
                return bad("the user part has characters a SIP URI cannot hold");
            }
            host_port
        }
        None => address,
    };
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let Some((address, after)) = v6.split_once(']') else {
            return bad("unclosed [");
        };
        if address.parse::<std::net::Ipv6Addr>().is_err() {
            return bad("not an IPv6 address in [ ]");
        }
        match after.strip_prefix(':') {
            Some(port) => (host_port, Some(port)),
            None if after.is_empty() => (host_port, None),
            None => return bad("unexpected text after ]"),
        }
    } else {
        match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        }
    };
    let host_ok = host.starts_with('[') || super::is_dns_name(host);
    if !host_ok {
        return bad("no valid host");
    }
    if let Some(port) = port
        && !port.parse::<u16>().is_ok_and(|port| port > 0)
    {
        return bad("the port must be 1 to 65535");
    }
    let params_ok = params.is_empty()
        || params.split(';').all(|param| {
            !param.is_empty()
                && param
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.!~*'=%[]/:&+$".contains(&b))
        });
    if !params_ok {
        return bad("a parameter is malformed");
    }
    Ok(format!("{scheme}:{}", &text[scheme.len() + 1..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_and_sip_uris_are_destinations() {
        assert_eq!(
            Destination::parse("+1 (555) 010-0200").unwrap(),
            Destination::Phone(E164::parse("+15550100200").unwrap())
        );
        for uri in [
            "sip:buyer@sip.example.com",
            "sip:+15550100200@10.0.0.5:5070;transport=tcp",
            "sips:calls.example.com",
            "sip:agent@[2001:db8::1]:5060",
        ] {
            assert_eq!(Destination::parse(uri).unwrap().as_str(), uri, "{uri}");
        }
        assert_eq!(Destination::parse("SIP:a@b.example").unwrap().as_str(), "sip:a@b.example");
    }

    #[test]
    fn the_host_of_a_uri_is_found_whatever_surrounds_it() {
        assert_eq!(host_of("sip:x@127.0.0.1:6379;transport=tcp"), "127.0.0.1");
        assert_eq!(host_of("sip:agent@[2001:db8::1]:5060"), "[2001:db8::1]");
        assert_eq!(host_of("sips:calls.example.com"), "calls.example.com");
    }

    #[test]
    fn what_is_neither_is_refused_with_the_reason() {
        for (bad, why) in [
            ("sip:", "no valid host"),
            ("sip:a@b.example:0", "port"),
            ("sip:a@b.example?subject=x", "headers"),
            ("sip:a b@host.example", "user part"),
            ("sip:a@[::1", "unclosed"),
            ("sip:a@host.example;;", "parameter"),
            ("call me", "phone number"),
        ] {
            let error = Destination::parse(bad).unwrap_err();
            assert!(error.contains(why), "{bad:?}: {error}");
        }
    }
}
