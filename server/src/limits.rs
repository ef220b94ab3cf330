//! Rate limits of the public endpoints (DNI, buyer postbacks): per client address, which
//! behind trusted proxies is the last address their `X-Forwarded-For` names that is not
//! itself a trusted proxy.

use std::{
    net::{IpAddr, SocketAddr},
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

/// Who clients are and how often they may ask.
#[derive(Clone)]
pub struct Limits {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    trusted_proxies: Arc<Vec<IpNet>>,
}

impl Limits {
    /// `per_minute` requests per client address, in bursts of up to a quarter of it.
    pub fn new(per_minute: NonZeroU32, trusted_proxies: Vec<IpNet>) -> Limits {
        let burst = NonZeroU32::new(per_minute.get().div_ceil(4)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        Limits {
            limiter: Arc::new(RateLimiter::keyed(quota)),
            trusted_proxies: Arc::new(trusted_proxies),
        }
    }

    /// Whether `ip` is a proxy whose `X-Forwarded-For` is believed.
    fn trusts(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
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

    /// Counts one request from `ip`; `Err` tells how long to wait.
    pub fn throttle(&self, ip: IpAddr) -> Result<(), Duration> {
        self.limiter
            .check_key(&ip)
            .map_err(|later| later.wait_time_from(DefaultClock::default().now()))
    }

    /// Forgets addresses whose limits have refilled, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.limiter.retain_recent();
    }
}
