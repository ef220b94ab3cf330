//! Requests Bidline sends on its users' say-so (buyer pings, webhooks, pixels) go only to
//! public addresses unless the operator allows others (`BIDLINE_ALLOW_PRIVATE_TARGETS`):
//! a URL typed into the dashboard must not reach this machine or its private network.
//! Names are checked by the client's resolver, so no connection — new, pooled or after a
//! redirect — reaches a private address by name; literal addresses by [`check_url`] and,
//! after a redirect, by [`redirects`].
//!
//! SIP legs are held to the same policy: a literal address in configuration (a target's
//! SIP URI, an outbound trunk's host) is refused when it is written ([`check_host`]), and
//! the address a leg is sent to, after resolution, when it is dialed ([`check_dialed`]).

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};

/// `--allow-private-targets`, for configuration as it is written (checked in code that
/// has no server state at hand). Set once at start.
static PRIVATE_ALLOWED: AtomicBool = AtomicBool::new(false);

pub fn set_private_allowed(allowed: bool) {
    PRIVATE_ALLOWED.store(allowed, Ordering::Relaxed);
}

fn private_allowed() -> bool {
    PRIVATE_ALLOWED.load(Ordering::Relaxed)
}

/// The address a host is written as (IPv6 with or without brackets); `None` for a name.
pub fn literal_ip(host: &str) -> Option<IpAddr> {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    bare.parse().ok()
}

/// Checks a host (and port, if given) written into configuration: a literal address
/// must be public (unless the operator allows others); a name is checked when it is
/// resolved.
pub fn check_host(host: &str, port: Option<u16>) -> Result<(), String> {
    literal_ip(host).map_or(Ok(()), |ip| guard(host, ip, port, private_allowed()))
}

/// Checks the address a SIP leg is about to be sent to.
pub fn check_dialed(host: &str, addr: SocketAddr, allow_private: bool) -> Result<(), String> {
    guard(host, addr.ip(), Some(addr.port()), allow_private)
}

/// Addresses on this machine that Bidline itself serves (the demo's simulated buyers):
/// they pass the guard whatever the policy; nothing else on this machine does.
static OWN: std::sync::RwLock<Vec<SocketAddr>> = std::sync::RwLock::new(Vec::new());

/// Lets requests and legs reach `addr`, a socket this process listens on.
pub fn allow_own(addr: SocketAddr) {
    OWN.write().unwrap_or_else(std::sync::PoisonError::into_inner).push(addr);
}

fn own(ip: IpAddr, port: Option<u16>) -> bool {
    let Some(port) = port else { return false };
    let own = OWN.read().unwrap_or_else(std::sync::PoisonError::into_inner);
    own.iter().any(|addr| addr.ip() == ip && addr.port() == port)
}

/// Addresses that are not public: this machine, private and link-local networks, and
/// addresses that are not a host.
fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                // Shared address space (carrier-grade NAT), 100.64.0.0/10.
                || (v4.octets()[0] == 100 && (v4.octets()[1] & 0xc0) == 64)
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped().or_else(|| embedded_v4(v6)) {
            Some(v4) => is_private(IpAddr::V4(v4)),
            None => {
                v6.is_loopback()
                    || v6.is_unspecified()
                    || v6.is_multicast()
                    || (v6.segments()[0] & 0xfe00) == 0xfc00
                    || (v6.segments()[0] & 0xffc0) == 0xfe80
            }
        },
    }
}

/// The IPv4 address an IPv6 one carries to reach it: NAT64 (`64:ff9b::/96`), 6to4
/// (`2002::/16`) and the deprecated IPv4-compatible form (`::a.b.c.d`).
fn embedded_v4(v6: std::net::Ipv6Addr) -> Option<std::net::Ipv4Addr> {
    let s = v6.segments();
    let v4 = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        std::net::Ipv4Addr::new(a, b, c, d)
    };
    match s {
        [0x64, 0xff9b, 0, 0, 0, 0, high, low] => Some(v4(high, low)),
        [0x2002, high, low, ..] => Some(v4(high, low)),
        [0, 0, 0, 0, 0, 0, high, low] if (high, low) > (0, 1) => Some(v4(high, low)),
        _ => None,
    }
}

/// Refuses `ip` unless private addresses are allowed (or it is one of our own sockets).
fn guard(host: &str, ip: IpAddr, port: Option<u16>, allow_private: bool) -> Result<(), String> {
    if allow_private || !is_private(ip) || own(ip, port) {
        return Ok(());
    }
    Err(format!(
        "{host} is a loopback, private or link-local address ({ip}); requests go only to public \
         addresses (the operator can allow others with BIDLINE_ALLOW_PRIVATE_TARGETS=true)"
    ))
}

/// Checks a URL before it is requested: it has a host, and a literal address is public.
pub fn check_url(url: &url::Url, allow_private: bool) -> Result<(), String> {
    match url.host() {
        None => Err("the URL has no host".to_owned()),
        // Literal addresses never reach the resolver: they are checked here.
        Some(url::Host::Ipv4(ip)) => {
            guard(&ip.to_string(), ip.into(), url.port_or_known_default(), allow_private)
        }
        Some(url::Host::Ipv6(ip)) => {
            guard(&ip.to_string(), ip.into(), url.port_or_known_default(), allow_private)
        }
        Some(url::Host::Domain(_)) => Ok(()),
    }
}

/// The client's resolver: a name resolves only if every address it has passes [`guard`].
struct Guarded {
    allow_private: bool,
}

impl reqwest::dns::Resolve for Guarded {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|error| format!("cannot resolve {host}: {error}"))?
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no address").into());
            }
            for addr in &addrs {
                guard(&host, addr.ip(), None, allow_private)?;
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A client builder whose every name is resolved through [`Guarded`], sending once (no
/// retries: the caller decides) and following no redirects unless told with
/// [`redirects`].
pub fn client(allow_private: bool) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .dns_resolver(std::sync::Arc::new(Guarded { allow_private }))
        .redirect(reqwest::redirect::Policy::none())
        // Retrying would also copy every request in case it is needed.
        .retry(reqwest::retry::never())
        // A proxy would resolve names itself, past the guard.
        .no_proxy()
        .user_agent(concat!("Bidline/", env!("CARGO_PKG_VERSION")))
}

/// Follows up to `most` redirects, none of them to a literal address that is not public
/// (names are checked when resolved).
pub fn redirects(most: usize, allow_private: bool) -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= most {
            return attempt.error(format!("more than {most} redirects"));
        }
        match check_url(attempt.url(), allow_private) {
            Ok(()) => attempt.follow(),
            Err(refused) => {
                let to = attempt.url().to_string();
                attempt.error(format!("redirected to {to}: {refused}"))
            }
        }
    })
}

/// An error with its causes: a refused address reads as such, not as "error sending
/// request".
pub fn with_causes(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_addresses_are_recognised() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "2002:c0a8:101::1",
            "::10.0.0.1",
            "0.0.0.0",
        ] {
            assert!(is_private(private.parse().unwrap()), "{private}");
        }
        for public in ["203.0.113.10", "8.8.8.8", "2001:4860::8888", "64:ff9b::808:808"] {
            assert!(!is_private(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn literal_hosts_in_configuration_are_checked() {
        for private in ["127.0.0.1", "[::1]", "10.0.0.5", "64:ff9b::7f00:1", "[2002:c0a8:101::1]"] {
            assert!(check_host(private, None).is_err(), "{private}");
        }
        for public in ["203.0.113.10", "sip.carrier.example", "[2001:4860::8888]"] {
            assert!(check_host(public, None).is_ok(), "{public}");
        }
    }

    #[test]
    fn literal_addresses_in_urls_are_checked() {
        let url = |text: &str| url::Url::parse(text).unwrap();
        assert!(check_url(&url("http://127.0.0.1:8080/hook"), false).is_err());
        assert!(check_url(&url("http://[::1]/hook"), false).is_err());
        assert!(check_url(&url("http://127.0.0.1:8080/hook"), true).is_ok());
        assert!(check_url(&url("http://203.0.113.10/hook"), false).is_ok());
        assert!(check_url(&url("https://buyer.example/ping"), false).is_ok());
        assert!(check_url(&url("data:text/plain,hi"), true).is_err());
    }

    #[test]
    fn our_own_sockets_pass_and_nothing_else_on_their_address() {
        let url = |text: &str| url::Url::parse(text).unwrap();
        allow_own("127.0.0.3:5071".parse().unwrap());
        assert!(check_url(&url("http://127.0.0.3:5071/bid"), false).is_ok());
        assert!(check_url(&url("http://127.0.0.3:5072/bid"), false).is_err());
        assert!(check_host("127.0.0.3", Some(5071)).is_ok());
        assert!(check_host("127.0.0.3", None).is_err());
        assert!(check_dialed("127.0.0.3", "127.0.0.3:5071".parse().unwrap(), false).is_ok());
        assert!(check_dialed("127.0.0.3", "127.0.0.3:5060".parse().unwrap(), false).is_err());
    }
}
