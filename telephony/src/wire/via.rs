//! The Via header (RFC 3261 §18.2.1, §20.42, RFC 3581): where a response goes and which
//! transaction it belongs to.

use std::fmt;
use std::net::SocketAddr;

use super::headers::is_token;
use super::uri::{Host, Params, split_host_port};

/// RFC 3261 branches start with this cookie; older ones cannot be matched by branch.
pub const MAGIC_COOKIE: &str = "z9hG4bK";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Via {
    /// `UDP`, `TCP`, … upper-cased.
    pub transport: String,
    pub host: Host,
    pub port: Option<u16>,
    pub params: Params,
}

impl Via {
    /// A via-parm of SIP/2.0 (RFC 3261 §20.42, §25.1): `sent-protocol LWS sent-by
    /// *( SEMI via-params )`, LWS allowed around the protocol's slashes and the
    /// parameters' semicolons and equal signs, every parameter named.
    pub fn parse(value: &str) -> Option<Via> {
        let parm = ViaParm::split(value)?;
        let params = Params::strict(parm.params)?;
        let transport = parm.transport.to_ascii_uppercase();
        (parm.version == "2.0").then_some(Via {
            transport,
            host: parm.host,
            port: parm.port,
            params,
        })
    }

    /// The SIP version of a via-parm whose protocol and sent-by can be read, whatever its
    /// parameters: as far as a request must be read to be answered (505 for another
    /// version, 400 for parameters that break the grammar).
    pub fn version(value: &str) -> Option<&str> {
        ViaParm::split(value).map(|parm| parm.version)
    }

    pub fn new(transport: &str, host: Host, port: u16, branch: &str) -> Via {
        let mut params = Params::default();
        params.set("branch", Some(branch));
        params.set("rport", None);
        Via { transport: transport.to_owned(), host, port: Some(port), params }
    }

    pub fn branch(&self) -> Option<&str> {
        self.params.value("branch")
    }

    /// Records where the request really came from (RFC 3261 §18.2.1, RFC 3581 §4):
    /// `received` when the address differs from sent-by, `rport` filled when asked for.
    pub fn stamp_source(&mut self, source: SocketAddr) {
        if self.host != Host::Ip(source.ip()) {
            self.params.set("received", Some(&source.ip().to_string()));
        }
        if self.params.get("rport").is_some() {
            self.params.set("rport", Some(&source.port().to_string()));
            self.params.set("received", Some(&source.ip().to_string()));
        }
    }
}

/// A via-parm, its parameters not yet read.
struct ViaParm<'a> {
    version: &'a str,
    transport: &'a str,
    host: Host,
    port: Option<u16>,
    /// `*( SEMI via-params )` as written.
    params: &'a str,
}

impl<'a> ViaParm<'a> {
    fn split(value: &'a str) -> Option<ViaParm<'a>> {
        let mut protocol = value.trim().splitn(3, '/');
        let (name, version, rest) = (protocol.next()?, protocol.next()?, protocol.next()?);
        let (name, version, rest) = (name.trim(), version.trim(), rest.trim_start());
        let transport_end = rest.find(|c: char| !u8::try_from(c).is_ok_and(is_token))?;
        let (transport, rest) = rest.split_at(transport_end);
        if !name.eq_ignore_ascii_case("SIP")
            || [version, transport]
                .iter()
                .any(|part| part.is_empty() || !part.bytes().all(is_token))
            || !rest.starts_with(|c: char| c.is_ascii_whitespace())
        {
            return None;
        }
        let rest = rest.trim();
        let (sent_by, params) = rest.split_at(rest.find(';').unwrap_or(rest.len()));
        let (host, port) = split_host_port(sent_by.trim())?;
        Some(ViaParm { version, transport, host, port, params })
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        write!(f, "{}", self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ipv6_sent_by_and_parameters() {
        let via = Via::parse("SIP/2.0/tcp [2001:db8::9]:5070;branch=z9hG4bKab;rport").unwrap();
        assert_eq!(via.transport, "TCP");
        assert_eq!(via.port, Some(5070));
        assert_eq!(via.branch(), Some("z9hG4bKab"));
        assert_eq!(via.params.get("rport"), Some(None));
        assert!(Via::parse("SIP/3.0/UDP a").is_none());
        assert!(Via::parse("garbage").is_none());
        assert!(Via::parse("SIP/2.0/UDP a;;branch=z9hG4bK1").is_none(), "an empty parameter");
    }

    #[test]
    fn linear_whitespace_may_surround_slashes_semicolons_and_equal_signs() {
        let via =
            Via::parse("SIP  / 2.0  / TCP     spindle.example.com   ; branch  = z9hG4bK9").unwrap();
        assert_eq!((via.transport.as_str(), via.branch()), ("TCP", Some("z9hG4bK9")));
        assert_eq!(via.host, Host::Name("spindle.example.com".into()));
        assert_eq!(Via::version("SIP/7.0/UDP c.example.com"), Some("7.0"));
        assert_eq!(Via::version("SIP/2.0/UDP c.example.com;;,"), Some("2.0"));
    }

    #[test]
    fn stamps_received_and_rport_for_a_natted_sender() {
        let mut via = Via::parse("SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport").unwrap();
        via.stamp_source("203.0.113.7:40000".parse().unwrap());
        assert_eq!(
            via.to_string(),
            "SIP/2.0/UDP 10.0.0.5:5060;branch=z9hG4bK1;rport=40000;received=203.0.113.7"
        );
        let mut direct = Via::parse("SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bK2").unwrap();
        direct.stamp_source("203.0.113.7:5060".parse().unwrap());
        assert_eq!(direct.to_string(), "SIP/2.0/UDP 203.0.113.7:5060;branch=z9hG4bK2");
    }
}
