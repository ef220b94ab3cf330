//! The back-to-back user agent: a call is one inbound leg (the carrier's INVITE, answered
//! by us) and outbound legs (our INVITEs to buyers, one at a time), bridged when one
//! answers. Unlike a proxy it owns both dialogs, so it can end a call itself (a lost BYE,
//! a maximum duration), hide each side from the other, and later anchor media.
//!
//! Where a call goes is not decided here: a [`Router`] answers with a [`Decision`], and
//! everything that happens is reported as [`CallEvent`]s.

pub mod call;
mod outbound;

pub use call::Call;

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

use crate::transaction::Peer;
use crate::wire::Uri;

/// The number an INVITE is for: the request-URI's user part, or To's when the URI has
/// none.
pub(crate) fn dialed(invite: &crate::wire::Request) -> String {
    use crate::wire::Fields;
    invite
        .uri
        .user()
        .map(str::to_owned)
        .or_else(|| invite.to().and_then(|to| to.uri.user().map(str::to_owned)))
        .unwrap_or_default()
}

/// What the router is told about a new call.
#[derive(Clone, Debug)]
pub struct IncomingCall {
    /// Our id for the call, also in its events.
    pub id: u64,
    /// The inbound leg's Call-ID.
    pub call_id: String,
    /// The dialed number: the request-URI's user part, or To's when the URI has none.
    pub dialed: String,
    /// The caller: From's user part (ANI), if any.
    pub caller: Option<String>,
    pub request_uri: Uri,
    pub source: Peer,
    /// Who sent it, as the router named it when admitting it.
    pub trunk: Option<String>,
    /// Every header of the INVITE, for routing rules that read them.
    pub headers: Vec<(String, String)>,
}

/// Where a call goes.
#[derive(Clone, Debug)]
pub enum Decision {
    /// Try these in order until one answers.
    Connect(Vec<Destination>),
    /// Refuse the call with this status (403 for an unknown trunk, 404 for an unknown
    /// number, …).
    Reject { status: u16, reason: String },
}

/// One place to ring.
#[derive(Clone, Debug)]
pub struct Destination {
    /// The outbound INVITE's request-URI (and To).
    pub uri: Uri,
    /// Where to send it: the outbound trunk or the URI's host, already resolved.
    pub next_hop: Peer,
    /// How long it may ring before the next destination is tried.
    pub ring_timeout: Duration,
    /// Extra headers for the outbound INVITE.
    pub headers: Vec<(String, String)>,
    /// Answers a 401/407 challenge from the destination, once.
    pub credentials: Option<Credentials>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// Whether a new INVITE may come in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Let it in; `trunk` is handed back in [`IncomingCall::trunk`].
    Accept { trunk: Option<String> },
    /// Let it in once it proves it knows the password (digest, RFC 3261 §22.4). `password`
    /// is the one of the username the INVITE gave, `None` when it gave none or an unknown
    /// one (it is challenged, never told which).
    Digest { realm: String, password: Option<String>, trunk: Option<String> },
    /// Refuse it: 403.
    Deny,
}

impl Destination {
    /// A destination whose URI names an IP address (`sip:buyer@192.0.2.7:5060;transport=tcp`).
    pub fn to_address(uri: Uri, ring_timeout: Duration) -> Option<Destination> {
        let Uri::Sip(sip) = &uri else { return None };
        let crate::wire::Host::Ip(ip) = sip.host else { return None };
        let transport = match sip.transport() {
            Some(name) => crate::transaction::Transport::parse(&name)?,
            None => crate::transaction::Transport::Udp,
        };
        let next_hop = Peer { transport, addr: SocketAddr::new(ip, sip.port.unwrap_or(5060)) };
        Some(Destination { uri, next_hop, ring_timeout, headers: Vec::new(), credentials: None })
    }
}

/// A new INVITE knocking, as admission sees it.
#[derive(Clone, Copy, Debug)]
pub struct Arrival<'a> {
    pub source: SocketAddr,
    /// The number it is for, as [`IncomingCall::dialed`] will say.
    pub dialed: &'a str,
    /// The username of its credentials, if it gave any.
    pub username: Option<&'a str>,
}

/// Decides who may call and where calls go.
pub trait Router: Send + Sync + 'static {
    /// Asked for every new INVITE before anything else. It runs on the call's shard: it
    /// must not wait.
    fn admit(&self, arrival: &Arrival<'_>) -> Admission {
        let _ = arrival;
        Admission::Accept { trunk: None }
    }

    /// Whether `source` is a peer we deal with (a trunk's network), asked before an
    /// answer sent without a call: to anyone else, over UDP, no answer is larger than
    /// what caused it, since the source may be forged. It runs on the shard: no waiting.
    fn knows(&self, source: SocketAddr) -> bool {
        let _ = source;
        true
    }

    /// Whether new calls may come in now. Asked for every new INVITE before [`admit`]
    /// (repeats of calls already in are not asked): `false` answers it 503 with
    /// Retry-After (the router is behind on work it cannot shed, such as writing
    /// records). It runs on the shard: it must not wait.
    ///
    /// [`admit`]: Router::admit
    fn accepting(&self) -> bool {
        true
    }

    /// Called once per admitted call, as a task of its own: a slow router delays that
    /// call only. The task is aborted if the call ends first (the caller cancelled).
    fn route(&self, call: &IncomingCall) -> impl Future<Output = Decision> + Send;
}

/// The side of a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// The carrier's leg.
    Caller,
    /// The buyer's leg.
    Callee,
}

/// When something happened: monotonic for durations, wall-clock for records.
#[derive(Clone, Copy, Debug)]
pub struct Stamp {
    pub monotonic: Instant,
    pub wall: SystemTime,
}

impl Stamp {
    pub fn now() -> Stamp {
        Stamp { monotonic: Instant::now(), wall: SystemTime::now() }
    }
}

/// Why a call ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EndCause {
    /// The router refused it.
    Rejected { status: u16 },
    /// Every destination failed; the caller got this status.
    Unanswered { status: u16 },
    /// The caller cancelled before an answer.
    Cancelled,
    /// A side sent BYE.
    HungUp(Side),
    /// The caller never ACKed our 2xx.
    NoAck,
    /// The call reached the maximum duration.
    MaxDuration,
    /// No session refresh came in time (RFC 4028).
    SessionExpired,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EventKind {
    Initiated {
        dialed: String,
        caller: Option<String>,
        source: SocketAddr,
    },
    Routed {
        destinations: usize,
    },
    LegTrying {
        leg: usize,
        uri: String,
    },
    LegRinging {
        leg: usize,
        status: u16,
    },
    LegAnswered {
        leg: usize,
    },
    /// A destination did not answer: its final status, 408 for no answer in time.
    LegFailed {
        leg: usize,
        status: u16,
        reason: String,
    },
    Bridged {
        leg: usize,
    },
    Ended {
        cause: EndCause,
    },
}

#[derive(Clone, Debug)]
pub struct CallEvent {
    pub call: u64,
    pub at: Stamp,
    pub kind: EventKind,
}

/// How the B2BUA behaves, whatever the router says.
#[derive(Clone, Debug)]
pub struct Policy {
    /// A call is ended by us after this long, BYE or not: a lost BYE never bills forever.
    pub max_duration: Duration,
    /// The shortest session interval (RFC 4028 Min-SE) a caller may ask for; shorter
    /// gets 422. The RFC's floor is 90 s.
    pub min_session_expires: Duration,
    pub timers: crate::transaction::Timers,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            max_duration: Duration::from_secs(4 * 3600),
            min_session_expires: Duration::from_secs(90),
            timers: Default::default(),
        }
    }
}

/// Who we are on the wire, as seen by one shard of the edge.
#[derive(Clone, Debug)]
pub struct Local {
    /// The host peers reach us at (advertised, not necessarily bound): an address or a
    /// name, written into Via, Contact and our legs' From.
    pub host: crate::wire::Host,
    /// The port peers reach us at, per transport.
    pub udp_port: u16,
    pub tcp_port: u16,
    /// Part of every branch we create, so an INVITE of ours that comes back to us is
    /// recognised as a loop (482).
    pub marker: std::sync::Arc<str>,
    /// The shard whose calls this is; it is written into the Call-IDs we create so their
    /// responses reach the same shard.
    pub shard: usize,
}

impl Local {
    pub fn port(&self, transport: crate::transaction::Transport) -> u16 {
        match transport {
            crate::transaction::Transport::Udp => self.udp_port,
            crate::transaction::Transport::Tcp => self.tcp_port,
        }
    }

    pub fn via(&self, transport: crate::transaction::Transport) -> crate::wire::Via {
        let branch = format!(
            "{}{}{:016x}",
            crate::wire::via::MAGIC_COOKIE,
            self.marker,
            rand::random::<u64>()
        );
        crate::wire::Via::new(transport.as_str(), self.host.clone(), self.port(transport), &branch)
    }

    pub fn contact(&self, transport: crate::transaction::Transport) -> String {
        let mut uri = crate::wire::SipUri::new(
            Some("bidline"),
            self.host.clone(),
            Some(self.port(transport)),
        );
        if transport == crate::transaction::Transport::Tcp {
            uri.params.set("transport", Some("tcp"));
        }
        format!("<{uri}>")
    }

    pub fn new_call_id(&self) -> String {
        format!("BL{:x}-{:016x}{:08x}", self.shard, rand::random::<u64>(), rand::random::<u32>())
    }
}

/// A new tag for a From or To header (RFC 3261 §19.3): random, so no one can guess it.
pub fn new_tag() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// The shard (of `shards`) that handles `call_id`: the one written into our own
/// Call-IDs ([`Local::new_call_id`]), otherwise a hash.
pub fn shard_of(call_id: &str, shards: usize) -> usize {
    if let Some(rest) = call_id.strip_prefix("BL")
        && let Some((shard, _)) = rest.split_once('-')
        && let Ok(shard) = usize::from_str_radix(shard, 16)
    {
        return shard % shards;
    }
    use std::hash::{BuildHasher, Hasher};
    let mut hasher =
        std::hash::BuildHasherDefault::<std::collections::hash_map::DefaultHasher>::default()
            .build_hasher();
    hasher.write(call_id.as_bytes());
    (hasher.finish() % shards as u64) as usize
}
