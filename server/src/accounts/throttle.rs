//! Limits on sign-in and sign-up attempts, per client address and per email, kept in
//! memory (GCRA, via `governor`). A node restart forgets them, which costs an attacker
//! nothing worth having: the limits only have to make guessing slow.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock, DefaultClock},
};

/// Attempts one address may make in a burst; one more comes back every 6 s.
const PER_IP_BURST: u32 = 10;
const PER_IP_REFILL: Duration = Duration::from_secs(6);
/// Attempts on one email in a burst; one more comes back every 90 s.
const PER_EMAIL_BURST: u32 = 10;
const PER_EMAIL_REFILL: Duration = Duration::from_secs(90);

pub struct Throttle {
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
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
            by_ip: RateLimiter::keyed(quota(PER_IP_BURST, PER_IP_REFILL)),
            by_email: RateLimiter::keyed(quota(PER_EMAIL_BURST, PER_EMAIL_REFILL)),
            clock: DefaultClock::default(),
        }
    }
}

impl Throttle {
    /// Counts one attempt; `Err` tells how long to wait when over either limit.
    pub fn attempt(&self, ip: Option<IpAddr>, email: Option<&str>) -> Result<(), Duration> {
        let now = self.clock.now();
        if let Some(ip) = ip {
            self.by_ip.check_key(&ip).map_err(|later| later.wait_time_from(now))?;
        }
        if let Some(email) = email {
            let email = email.trim().to_lowercase();
            self.by_email.check_key(&email).map_err(|later| later.wait_time_from(now))?;
        }
        Ok(())
    }

    /// Forgets keys whose limits have fully refilled, so memory stays bounded.
    pub fn forget_idle(&self) {
        self.by_ip.retain_recent();
        self.by_email.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_attempt_from_one_address_waits() {
        let throttle = Throttle::default();
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        for n in 0..PER_IP_BURST {
            assert!(throttle.attempt(Some(ip), Some(&format!("user{n}@x.example"))).is_ok());
        }
        let wait = throttle.attempt(Some(ip), Some("other@x.example")).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= PER_IP_REFILL, "{wait:?}");
        // Another address is not affected.
        assert!(throttle.attempt(Some("192.0.2.8".parse().unwrap()), None).is_ok());
    }

    #[test]
    fn one_email_is_limited_across_addresses() {
        let throttle = Throttle::default();
        for n in 0..PER_EMAIL_BURST {
            let ip: IpAddr = format!("198.51.100.{n}").parse().unwrap();
            assert!(throttle.attempt(Some(ip), Some("Dana@x.example")).is_ok());
        }
        assert!(
            throttle
                .attempt(Some("203.0.113.1".parse().unwrap()), Some("dana@x.example "))
                .is_err()
        );
    }
}
