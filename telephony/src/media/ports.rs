//! The ports relayed calls use (`--rtp-ports`): RTP on an even port, RTCP on the odd
//! one above it (RFC 3550 §11), both bound before a pair is handed out, so a port
//! another program holds is skipped rather than discovered mid-call. A released pair
//! goes to the back of the queue: late packets of an ended call find no new call there.

use std::{
    collections::VecDeque,
    fmt,
    net::{IpAddr, SocketAddr, UdpSocket},
    str::FromStr,
    sync::{Arc, Mutex, PoisonError},
};

use thiserror::Error;

/// The ports relayed calls may use, first and last included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    first: u16,
    last: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PortRangeError {
    #[error("expected FIRST-LAST, e.g. 20000-29999, not {0:?}")]
    Syntax(String),
    #[error("{0}-{1} holds no even port with the odd one above it")]
    NoPair(u16, u16),
}

impl PortRange {
    pub fn new(first: u16, last: u16) -> Result<Self, PortRangeError> {
        match first.max(2).checked_next_multiple_of(2) {
            Some(even) if even < last => Ok(Self { first: even, last }),
            _ => Err(PortRangeError::NoPair(first, last)),
        }
    }

    /// How many calls' worth of pairs the range holds.
    pub fn pairs(self) -> usize {
        self.rtp_ports().count()
    }

    fn rtp_ports(self) -> impl Iterator<Item = u16> {
        (self.first..self.last).step_by(2)
    }
}

impl FromStr for PortRange {
    type Err = PortRangeError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let syntax = || PortRangeError::Syntax(text.to_owned());
        let (first, last) = text.trim().split_once('-').ok_or_else(syntax)?;
        let port = |part: &str| part.trim().parse::<u16>().map_err(|_| syntax());
        Self::new(port(first)?, port(last)?)
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("every RTP port pair in {0} is in use")]
pub struct PortsExhausted(pub PortRange);

/// The free pairs of a range on one address, shared by every relayed call.
pub struct PortPool {
    ip: IpAddr,
    range: PortRange,
    free: Mutex<VecDeque<u16>>,
}

impl PortPool {
    pub fn new(ip: IpAddr, range: PortRange) -> Arc<Self> {
        Arc::new(Self { ip, range, free: Mutex::new(range.rtp_ports().collect()) })
    }

    /// Binds the next free pair. Ports that cannot be bound (another program holds one)
    /// go to the back of the queue and the next pair is tried, each at most once.
    pub fn allocate(self: &Arc<Self>) -> Result<PortPair, PortsExhausted> {
        let mut free = self.free.lock().unwrap_or_else(PoisonError::into_inner);
        for _ in 0..free.len() {
            let Some(port) = free.pop_front() else { break };
            let bind = |port| UdpSocket::bind(SocketAddr::new(self.ip, port));
            match (bind(port), bind(port + 1)) {
                (Ok(rtp), Ok(rtcp)) => {
                    return Ok(PortPair { rtp, rtcp, port, pool: Arc::clone(self) });
                }
                _ => free.push_back(port),
            }
        }
        Err(PortsExhausted(self.range))
    }

    /// Pairs not handed out (some may be held by other programs).
    pub fn free_pairs(&self) -> usize {
        self.free.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// One call leg's bound RTP and RTCP sockets; dropping it returns the pair to its pool.
pub struct PortPair {
    pub rtp: UdpSocket,
    pub rtcp: UdpSocket,
    port: u16,
    pool: Arc<PortPool>,
}

impl PortPair {
    /// The RTP port (RTCP's is one above).
    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for PortPair {
    fn drop(&mut self) {
        self.pool.free.lock().unwrap_or_else(PoisonError::into_inner).push_back(self.port);
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    /// A loopback address of these tests' own, so other tests' sockets do not collide.
    const HERE: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 7));

    #[test]
    fn a_range_starts_on_an_even_port_and_counts_whole_pairs() {
        let range: PortRange = "20000-29999".parse().unwrap();
        assert_eq!((range.to_string(), range.pairs()), ("20000-29999".to_owned(), 5000));
        let odd: PortRange = "20001-20004".parse().unwrap();
        assert_eq!((odd.to_string(), odd.pairs()), ("20002-20004".to_owned(), 1));
        assert_eq!("0-3".parse::<PortRange>().unwrap().to_string(), "2-3");
        assert_eq!("20000-20000".parse::<PortRange>(), Err(PortRangeError::NoPair(20000, 20000)));
        assert_eq!("30000-20000".parse::<PortRange>(), Err(PortRangeError::NoPair(30000, 20000)));
        assert_eq!("65535-65535".parse::<PortRange>(), Err(PortRangeError::NoPair(65535, 65535)));
        assert_eq!("65534-65535".parse::<PortRange>().unwrap().pairs(), 1);
        for bad in ["20000", "a-b", "20000-70000", "-5"] {
            assert_eq!(bad.parse::<PortRange>(), Err(PortRangeError::Syntax(bad.to_owned())));
        }
    }

    #[test]
    fn a_pair_is_rtp_on_the_even_port_and_rtcp_above_it() {
        let pool = PortPool::new(HERE, PortRange::new(24000, 24001).unwrap());
        let pair = pool.allocate().unwrap();
        assert_eq!(pair.port(), 24000);
        assert_eq!(pair.rtp.local_addr().unwrap(), SocketAddr::new(HERE, 24000));
        assert_eq!(pair.rtcp.local_addr().unwrap(), SocketAddr::new(HERE, 24001));
    }

    #[test]
    fn an_exhausted_pool_says_so_and_a_released_pair_is_reused_last() {
        let pool = PortPool::new(HERE, PortRange::new(24010, 24013).unwrap());
        let first = pool.allocate().unwrap();
        let second = pool.allocate().unwrap();
        assert_eq!((first.port(), second.port()), (24010, 24012));
        assert!(matches!(pool.allocate(), Err(PortsExhausted(_))));
        drop(first);
        assert_eq!(pool.free_pairs(), 1);
        assert_eq!(pool.allocate().unwrap().port(), 24010);
    }

    #[test]
    fn a_port_another_socket_holds_is_skipped() {
        let blocker = UdpSocket::bind(SocketAddr::new(HERE, 24021)).unwrap();
        let pool = PortPool::new(HERE, PortRange::new(24020, 24023).unwrap());
        let pair = pool.allocate().unwrap();
        assert_eq!(pair.port(), 24022);
        assert!(pool.allocate().is_err(), "24021 is held, so 24020 is not a pair");
        drop(blocker);
        assert_eq!(pool.allocate().unwrap().port(), 24020);
    }
}
