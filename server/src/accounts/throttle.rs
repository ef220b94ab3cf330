//! Limits on sign-in and sign-up attempts, kept in memory (GCRA, via `governor`). A
//! node restart forgets them, which costs an attacker nothing worth having: the limits
//! only have to make guessing slow.
//!
//! They must never let someone lock a chosen user out, which a plain per-email limit
//! does: hammer the victim's email from anywhere and the victim waits too. So the
//! limits are three, checked in this order, each only counting attempts the ones before
//! let through:
//!
//! 1. per client (an address, or an IPv6 /64: [`client_key`]) over every email — one
//!    address cannot try many accounts;
//! 2. per email *and* client — one address cannot guess one account quickly, and
//!    exhausting this limit blocks that address only;
//! 3. per email over every address, generous — a guess spread over many addresses is
//!    still slow, and one address (held to limit 2) can never use it up, so the user
//!    signs in from their own address while an attacker hammers from another.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};

use crate::limits::client_key;

/// Attempts one client may make in a burst; one more comes back every 6 s.
const PER_CLIENT_BURST: u32 = 10;
const PER_CLIENT_REFILL: Duration = Duration::from_secs(6);
/// Attempts on one email from one client in a burst; one more comes back every 90 s.
const PER_EMAIL_AND_CLIENT_BURST: u32 = 5;
const PER_EMAIL_AND_CLIENT_REFILL: Duration = Duration::from_secs(90);
/// Attempts on one email from anywhere in a burst; one more comes back every 10 s —
/// nine times what one client may make on it, so it takes many addresses to exhaust.
const PER_EMAIL_BURST: u32 = 50;
const PER_EMAIL_REFILL: Duration = Duration::from_secs(10);

pub struct Throttle {
    by_client: DefaultKeyedRateLimiter<IpAddr>,
    by_email_and_client: DefaultKeyedRateLimiter<(String, Option<IpAddr>)>,
    by_email: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl Default for Throttle {
    fn default() -> Self {
        let quota = |burst: u32, refill: Duration| {
            Quota::with_period(refill)
                .expect("a non-zero period")
                .allow_burst(NonZeroU32::new(burst).expect("a non-zero burst"))
        };
        Self {
            by_client: RateLimiter::keyed(quota(PER_CLIENT_BURST, PER_CLIENT_REFILL)),
            by_email_and_client: RateLimiter::keyed(quota(
                PER_EMAIL_AND_CLIENT_BURST,
                PER_EMAIL_AND_CLIENT_REFILL,
            )),
            by_email: RateLimiter::keyed(quota(PER_EMAIL_BURST, PER_EMAIL_REFILL)),
            clock: DefaultClock::default(),
        }
    }
}

impl Throttle {
    /// Counts one attempt from the client at `ip` (the trusted-proxy-aware address);
    /// `Err` tells how long to wait when over a limit.
    pub fn attempt(&self, ip: Option<IpAddr>, email: Option<&str>) -> Result<(), Duration> {
        let now = self.clock.now();
        let wait = |later: governor::NotUntil<_>| later.wait_time_from(now);
        let client = ip.map(client_key);
        if let Some(client) = client {
            self.by_client.check_key(&client).map_err(wait)?;
        }
        if let Some(email) = email {
            let email = email.trim().to_lowercase();
            self.by_email_and_client.check_key(&(email.clone(), client)).map_err(wait)?;
            self.by_email.check_key(&email).map_err(wait)?;
        }
        Ok(())
    }

    /// Forgets keys whose limits have fully refilled, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.by_client.retain_recent();
        self.by_email_and_client.retain_recent();
        self.by_email.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    #[test]
    fn the_eleventh_attempt_from_one_address_waits() {
        let throttle = Throttle::default();
        for n in 0..PER_CLIENT_BURST {
            assert!(throttle.attempt(ip("192.0.2.7"), Some(&format!("user{n}@x.example"))).is_ok());
        }
        let wait = throttle.attempt(ip("192.0.2.7"), Some("other@x.example")).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= PER_CLIENT_REFILL, "{wait:?}");
        // Another address is not affected.
        assert!(throttle.attempt(ip("192.0.2.8"), None).is_ok());
    }

    #[test]
    fn an_ipv6_client_is_one_client_across_its_64() {
        let throttle = Throttle::default();
        for n in 0..PER_CLIENT_BURST {
            assert!(throttle.attempt(ip(&format!("2001:db8::{n:x}")), None).is_ok());
        }
        assert!(throttle.attempt(ip("2001:db8::ffff"), None).is_err());
        assert!(throttle.attempt(ip("2001:db8:0:1::1"), None).is_ok());
    }

    #[test]
    fn hammering_one_email_from_one_address_blocks_that_address_only() {
        let throttle = Throttle::default();
        let attacker = ip("203.0.113.9");
        for _ in 0..PER_EMAIL_AND_CLIENT_BURST {
            assert!(throttle.attempt(attacker, Some("dana@x.example")).is_ok());
        }
        for _ in 0..100 {
            assert!(throttle.attempt(attacker, Some("Dana@x.example ")).is_err());
        }
        assert!(throttle.attempt(ip("198.51.100.20"), Some("dana@x.example")).is_ok());
    }

    #[test]
    fn one_email_is_limited_across_many_addresses() {
        let throttle = Throttle::default();
        for n in 0..PER_EMAIL_BURST {
            let client = ip(&format!("198.51.{}.{}", n / 200, n % 200));
            assert!(throttle.attempt(client, Some("dana@x.example")).is_ok());
        }
        assert!(throttle.attempt(ip("203.0.113.1"), Some("dana@x.example ")).is_err());
    }
}
