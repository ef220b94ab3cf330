//! Where a leg goes on the wire: a phone number is written in its outbound trunk's dial
//! format and sent to the trunk (with its credentials); a SIP URI is sent to its host.
//! Host names are resolved here, in the routing task, never on the SIP edge's shards
//! (A/AAAA only: a trunk or buyer using SRV records must be given by address or name of
//! a host). The address dialed must be public unless the operator allows private
//! targets, as for every request Bidline sends on its users' say-so.

use std::net::SocketAddr;
use std::time::Duration;

use bidline_telephony::{
    b2bua::{Credentials, Destination},
    transaction::{Peer, Transport},
    wire::{Host, SipUri, Uri},
};

use crate::{
    e164::E164,
    network::trunks::{self, Trunk},
    routing::snapshot::TrunkEntry,
};

/// `number` as `format` writes it: `{e164}` is the digits with the country code,
/// `{national}` the national number, `{country_code}` the country code.
pub fn dial_string(format: &str, number: &E164) -> String {
    let digits = number.as_str().trim_start_matches('+');
    let (country_code, national) = match phonenumber::parse(None, number.as_str()) {
        Ok(parsed) => (parsed.code().value().to_string(), parsed.national().value().to_string()),
        Err(_) => (String::new(), digits.to_owned()),
    };
    // A national number with a leading zero (Italy) keeps it, as E.164 does.
    let national = if digits.ends_with(&national) {
        digits[country_code.len().min(digits.len())..].to_owned()
    } else {
        national
    };
    format
        .replace("{e164}", digits)
        .replace("{national}", &national)
        .replace("{country_code}", &country_code)
}

/// Why a leg cannot be placed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DialError {
    #[error("the outbound trunk is missing or paused")]
    NoTrunk,
    #[error("{0} is not a SIP URI Bidline can send to")]
    BadUri(String),
    #[error("cannot resolve {host}: {reason}")]
    Resolve { host: String, reason: String },
    /// The leg would reach this machine or a private network.
    #[error("{0}")]
    Private(String),
}

/// A phone number through `trunk`.
pub async fn via_trunk(
    number: &E164,
    trunk: Option<&TrunkEntry>,
    ring_timeout: Duration,
    allow_private: bool,
) -> Result<Destination, DialError> {
    let Some(TrunkEntry { trunk, password }) =
        trunk.filter(|entry| entry.trunk.status == crate::network::Status::Active)
    else {
        return Err(DialError::NoTrunk);
    };
    let Trunk { host: Some(host), port: Some(port), transport: Some(transport), .. } = trunk else {
        return Err(DialError::NoTrunk);
    };
    let transport = match transport {
        trunks::Transport::Udp => Transport::Udp,
        trunks::Transport::Tcp => Transport::Tcp,
    };
    let user = dial_string(trunk.dial_format.as_deref().unwrap_or("+{e164}"), number);
    let host_part = Host::parse(host).ok_or_else(|| DialError::BadUri(host.clone()))?;
    let mut uri = SipUri::new(Some(&user), host_part, Some(*port));
    if transport == Transport::Tcp {
        uri.params.set("transport", Some("tcp"));
    }
    let addr = resolve(host, *port).await?;
    crate::outbound::check_dialed(host, addr, allow_private).map_err(DialError::Private)?;
    let credentials = match (&trunk.username, password) {
        (Some(username), Some(password)) => {
            Some(Credentials { username: username.clone(), password: password.clone() })
        }
        _ => None,
    };
    Ok(Destination {
        uri: Uri::Sip(uri),
        next_hop: Peer { transport, addr },
        ring_timeout,
        headers: Vec::new(),
        credentials,
    })
}

/// A SIP URI, sent to its host (port 5060 unless it names one).
pub async fn to_uri(
    text: &str,
    ring_timeout: Duration,
    allow_private: bool,
) -> Result<Destination, DialError> {
    let bad = || DialError::BadUri(text.to_owned());
    let uri: Uri = text.parse().map_err(|_| bad())?;
    let Uri::Sip(sip) = &uri else { return Err(bad()) };
    if sip.secure {
        // TLS is not offered by the edge yet.
        return Err(bad());
    }
    let transport = match sip.transport().as_deref() {
        None => Transport::Udp,
        Some(name) => Transport::parse(name).ok_or_else(bad)?,
    };
    let port = sip.port.unwrap_or(5060);
    let addr = match &sip.host {
        Host::Ip(ip) => SocketAddr::new(*ip, port),
        Host::Name(name) => resolve(name, port).await?,
    };
    crate::outbound::check_dialed(&sip.host.to_string(), addr, allow_private)
        .map_err(DialError::Private)?;
    Ok(Destination {
        uri,
        next_hop: Peer { transport, addr },
        ring_timeout,
        headers: Vec::new(),
        credentials: None,
    })
}

async fn resolve(host: &str, port: u16) -> Result<SocketAddr, DialError> {
    let error = |reason: String| DialError::Resolve { host: host.to_owned(), reason };
    if let Ok(ip) = host.trim_start_matches('[').trim_end_matches(']').parse() {
        return Ok(SocketAddr::new(ip, port));
    }
    tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| error(e.to_string()))?
        .next()
        .ok_or_else(|| error("no address".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dial_formats_write_the_number_as_the_trunk_wants() {
        let us = E164::parse("+15551234567").unwrap();
        assert_eq!(dial_string("+{e164}", &us), "+15551234567");
        assert_eq!(dial_string("{e164}", &us), "15551234567");
        assert_eq!(dial_string("1{national}", &us), "15551234567");
        assert_eq!(dial_string("{national}", &us), "5551234567");
        let uk = E164::parse("+442079460000").unwrap();
        assert_eq!(dial_string("011{country_code}{national}", &uk), "011442079460000");
        assert_eq!(dial_string("00{e164}", &uk), "00442079460000");
    }

    #[tokio::test]
    async fn a_sip_uri_goes_to_its_host_and_transport() {
        let ring = Duration::from_secs(5);
        let destination =
            to_uri("sip:buyer@127.0.0.1:5090;transport=tcp", ring, true).await.unwrap();
        assert_eq!(destination.next_hop.transport, Transport::Tcp);
        assert_eq!(destination.next_hop.addr, "127.0.0.1:5090".parse().unwrap());
        let local = to_uri("sip:buyer@localhost", ring, true).await.unwrap();
        assert_eq!(local.next_hop.addr.port(), 5060);
        assert!(to_uri("sips:buyer@127.0.0.1", ring, true).await.is_err());
    }

    #[tokio::test]
    async fn a_leg_to_a_private_address_is_refused_unless_allowed() {
        let ring = Duration::from_secs(5);
        for uri in ["sip:x@127.0.0.1:6379;transport=tcp", "sip:x@localhost", "sip:x@[::1]"] {
            let refused = to_uri(uri, ring, false).await.unwrap_err();
            assert!(matches!(refused, DialError::Private(_)), "{uri}: {refused}");
        }
    }
}
