//! Who a client is, for the limits of the public endpoints (DNI, buyer postbacks) and of
//! signing in, and how often it may ask.
//!
//! The client's address is the TCP peer's or, behind proxies the operator trusts, the
//! last address their `X-Forwarded-For` names that is not itself a trusted proxy. Limits
//! are kept per [`client_key`]: an IPv4 address, or the /64 network of an IPv6 one — one
//! subscriber gets a whole /64 and picks addresses from it at will, so counting single
//! IPv6 addresses would count nothing.

use std::{
    net::{IpAddr, Ipv6Addr, SocketAddr},
    num::NonZeroU32,
    sync::Arc,
    time::Duration,
};

use axum::http::HeaderMap;
use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use ipnet::IpNet;

/// What a limit counts a client by: its IPv4 address (an IPv4-mapped IPv6 address is
/// the IPv4 one), or its IPv6 address with the last 64 bits cleared.
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => {
            let network = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(network))
        }
    }
}

/// The proxies whose `X-Forwarded-For` is believed (`--trusted-proxy`).
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Arc<Vec<IpNet>>);

impl TrustedProxies {
    pub fn new(networks: Vec<IpNet>) -> Self {
        Self(Arc::new(networks))
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the peer's, or — behind a proxy the operator trusts — the
    /// nearest address in `X-Forwarded-For` the proxies did not add.
    pub fn client_ip(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        let mut ip = peer.ip();
        if !self.trusts(ip) {
            return ip;
        }
        let forwarded = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
        let hops: Vec<IpAddr> = forwarded
            .flat_map(|value| value.split(','))
            .filter_map(|hop| hop.trim().parse().ok())
            .collect();
        for hop in hops.into_iter().rev() {
            ip = hop;
            if !self.trusts(hop) {
                break;
            }
        }
        ip
    }
}

/// The client's address as [`TrustedProxies::client_ip`] found it, put in every
/// request's extensions by `http::client_address` so that handlers, server functions
/// and the audit log all name the same client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl ClientIp {
    /// The request's client address: as found behind trusted proxies, else the peer's.
    pub fn of(extensions: &axum::http::Extensions) -> Option<IpAddr> {
        extensions.get::<ClientIp>().map(|ClientIp(ip)| *ip).or_else(|| {
            extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|axum::extract::ConnectInfo(peer)| peer.ip())
        })
    }
}

/// Who clients are and how often they may ask.
#[derive(Clone)]
pub struct Limits {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    trusted_proxies: TrustedProxies,
}

impl Limits {
    /// `per_minute` requests per client (see [`client_key`]), in bursts of up to a
    /// quarter of it.
    pub fn new(per_minute: NonZeroU32, trusted_proxies: TrustedProxies) -> Limits {
        let burst = NonZeroU32::new(per_minute.get().div_ceil(4)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        Limits { limiter: Arc::new(RateLimiter::keyed(quota)), trusted_proxies }
    }

    /// The client's address (see [`TrustedProxies::client_ip`]).
    pub fn client_ip(&self, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
        self.trusted_proxies.client_ip(peer, headers)
    }

    /// Counts one request from `ip`'s client; `Err` tells how long to wait.
    pub fn throttle(&self, ip: IpAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&client_key(ip))
            .map_err(|later| later.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets addresses whose limits have refilled, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64_and_ipv4_ones_by_address() {
        assert_eq!(client_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(client_key(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")), ip("2001:db8:1:2::"));
        assert_ne!(client_key(ip("2001:db8:1:3::1")), client_key(ip("2001:db8:1:2::1")));
        assert_eq!(client_key(ip("192.0.2.7")), ip("192.0.2.7"));
        assert_ne!(client_key(ip("192.0.2.8")), client_key(ip("192.0.2.7")));
        assert_eq!(client_key(ip("::ffff:192.0.2.7")), ip("192.0.2.7"), "a dual-stack socket");
    }

    #[test]
    fn one_64_shares_one_limit() {
        let limits = Limits::new(NonZeroU32::new(4).unwrap(), TrustedProxies::default());
        assert!(limits.throttle(ip("2001:db8::1")).is_ok());
        assert!(limits.throttle(ip("2001:db8::2")).is_err(), "a burst of one, shared");
        assert!(limits.throttle(ip("2001:db8:0:1::1")).is_ok(), "the next /64 is another client");
    }
}
