//! Dynamic number insertion: website visitors lease tracking numbers from their
//! campaign's pools ([`book`]), the leases are kept ([`store`]) and a call to a leased
//! number takes its visit's tags ([`tags`]). The HTTP side is `http::dni`.

pub mod book;
pub mod geo;
pub mod share;
pub mod store;
pub mod tags;

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};
use ipnet::IpNet;

use self::{book::Book, geo::Geo};

/// The DNI service as the HTTP handlers reach it.
#[derive(Clone)]
pub struct Dni {
    pub book: Arc<Book>,
    pub limits: Limits,
    /// Visitors' places, when the operator gives a GeoIP database.
    pub geo: Option<Arc<Geo>>,
    /// Keep visitors' addresses with their leases (off by default: geo is kept instead).
    pub keep_ip: bool,
}

impl Dni {
    /// `per_minute` requests per visitor address, in bursts of up to a quarter of it.
    pub fn new(
        book: Arc<Book>,
        per_minute: NonZeroU32,
        trusted_proxies: Vec<IpNet>,
        keep_ip: bool,
        geo: Option<Geo>,
    ) -> Self {
        let burst = NonZeroU32::new(per_minute.get().div_ceil(4)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(per_minute).allow_burst(burst);
        let limits = Limits {
            limiter: Arc::new(RateLimiter::keyed(quota)),
            trusted_proxies: Arc::new(trusted_proxies),
        };
        Self { book, limits, geo: geo.map(Arc::new), keep_ip }
    }
}

/// Who visitors are (behind trusted proxies) and how often they may ask.
#[derive(Clone)]
pub struct Limits {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    trusted_proxies: Arc<Vec<IpNet>>,
}

impl Limits {
    /// Whether `ip` is a proxy whose `X-Forwarded-For` is believed.
    pub fn trusts(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(&ip))
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
