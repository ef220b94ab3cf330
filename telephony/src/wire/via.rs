//! The Via header (RFC 3261 §18.2.1, §20.42, RFC 3581): where a response goes and which
//! transaction it belongs to.

use std::fmt;
use std::net::SocketAddr;

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
    pub fn parse(value: &str) -> Option<Via> {
        let (protocol, rest) = value.trim().split_once(|c: char| c.is_ascii_whitespace())?;
        let mut parts = protocol.split('/');
        let (name, version, transport) = (parts.next()?, parts.next()?, parts.next()?);
        if !name.trim().eq_ignore_ascii_case("SIP") || version.trim() != "2.0" {
            return None;
        }
        let rest = rest.trim();
        let (sent_by, params) = match rest.split_once(';') {
            Some((sent_by, params)) => (sent_by.trim(), Params::parse(params)),
            None => (rest, Params::default()),
        };
        let (host, port) = split_host_port(sent_by)?;
        Some(Via { transport: transport.trim().to_ascii_uppercase(), host, port, params })
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
