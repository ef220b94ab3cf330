//! The running edge: transports feeding shards, each shard owning its calls.
//!
//! Every Call-ID belongs to one shard ([`shard_of`]), and a shard handles its messages
//! one at a time, in arrival order: a call's messages never race each other, and no lock
//! is shared between calls. The Call-IDs of outbound legs are made to land on the shard
//! of their call. Routing runs as its own task, so a slow router holds up only its call.
//!
//! Each shard's queue is bounded. New INVITEs may fill only three quarters of it: past
//! that they are answered 503 with Retry-After (counted in [`Stats`]), while requests and
//! responses of calls already up still get in; a queue full to the brim drops what
//! arrives (UDP peers repeat it) instead of growing. While the router says it is not
//! accepting calls ([`Router::accepting`]), admission answers new calls 503 with
//! Retry-After too (repeats of calls already in go on).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rsip::Method;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::b2bua::call::Effects;
use crate::b2bua::{
    Admission, Arrival, Call, CallEvent, Decision, EventKind, IncomingCall, Local, Policy, Router,
    new_tag, shard_of,
};
use crate::digest;
use crate::transaction::{Outbox, Peer, Transmit};
use crate::transport::{Sink, TcpLimits, Transports, may_answer};
use crate::wire::{Fields, Host, Message, Request, Response};

/// How long an overloaded edge asks callers to wait before trying again.
const RETRY_AFTER_SECONDS: u32 = 5;

#[derive(Clone, Debug)]
pub struct Config {
    /// Where to listen, UDP and TCP on the same port.
    pub listen: SocketAddr,
    /// The host (and port) to put in Via and Contact, when peers must use another than
    /// the bound address (NAT, a name). Required when listening on an unspecified
    /// address (`0.0.0.0`, `::`), which no peer can reach us at.
    pub advertise: Option<Advertise>,
    /// How many shards handle calls (one per core is right).
    pub shards: usize,
    pub policy: Policy,
    /// Messages that may wait for each shard.
    pub queue: usize,
    pub tcp: TcpLimits,
    /// The UDP socket's receive buffer in bytes (`None`: the system's default).
    pub udp_receive_buffer: Option<usize>,
}

impl Config {
    pub fn new(listen: SocketAddr) -> Config {
        let shards = std::thread::available_parallelism().map_or(1, |n| n.get());
        Config {
            listen,
            advertise: None,
            shards,
            policy: Policy::default(),
            queue: 8192,
            tcp: TcpLimits::default(),
            udp_receive_buffer: None,
        }
    }
}

/// Where peers are told to reach the edge: `HOST[:PORT]`, the host a name, an IPv4
/// address or a bracketed IPv6 one; without a port, the bound one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Advertise {
    pub host: Host,
    pub port: Option<u16>,
}

impl std::str::FromStr for Advertise {
    type Err = String;

    fn from_str(text: &str) -> Result<Advertise, String> {
        let bad = || {
            format!(
                "{text:?} is not HOST[:PORT] (sip.example.com:5060, 203.0.113.5, [2001:db8::5]:5060)"
            )
        };
        let (host, port) = match text.rsplit_once(':') {
            // A colon inside brackets belongs to the IPv6 address.
            Some((host, port)) if !port.contains(']') => {
                (host, Some(port.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(bad)?))
            }
            _ => (text, None),
        };
        let host = Host::parse(host).ok_or_else(bad)?;
        if matches!(host, Host::Ip(ip) if ip.is_unspecified()) {
            return Err(format!("{text:?} is no address a peer can reach"));
        }
        Ok(Advertise { host, port })
    }
}

/// What the edge refused for lack of room, since it started.
#[derive(Debug, Default)]
pub struct Stats {
    /// New INVITEs answered 503 because their shard's queue was three quarters full.
    pub overloaded: AtomicU64,
    /// Other messages dropped because their shard's queue was full.
    pub dropped: AtomicU64,
}

/// A running edge; dropping it stops it.
pub struct Edge {
    udp_addr: SocketAddr,
    tcp_addr: SocketAddr,
    udp_receive_buffer: Option<usize>,
    stats: Arc<Stats>,
    tasks: Vec<JoinHandle<()>>,
}

impl Edge {
    /// Binds the transports and starts the shards. Call events arrive on the receiver.
    pub async fn start<R: Router>(
        config: Config,
        router: R,
    ) -> io::Result<(Edge, mpsc::UnboundedReceiver<CallEvent>)> {
        if config.listen.ip().is_unspecified() && config.advertise.is_none() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "listening on {} needs an address to advertise: peers cannot reach an unspecified address",
                    config.listen
                ),
            ));
        }
        let (transports, listener) =
            Transports::bind(config.listen, config.tcp, config.udp_receive_buffer).await?;
        let (host, udp_port, tcp_port) = match &config.advertise {
            Some(Advertise { host, port }) => (
                host.clone(),
                port.unwrap_or(transports.udp_addr().port()),
                port.unwrap_or(transports.tcp_addr().port()),
            ),
            None => (
                Host::Ip(transports.udp_addr().ip()),
                transports.udp_addr().port(),
                transports.tcp_addr().port(),
            ),
        };
        let (events, receiver) = mpsc::unbounded_channel();
        let router = Arc::new(router);
        let marker: Arc<str> = format!("bl{:08x}.", rand::random::<u32>()).into();
        let digest = digest::Server::new(rand::random());
        let shards = config.shards.max(1);
        let capacity = config.queue.max(4);
        let stats = Arc::new(Stats::default());
        let mut inputs = Vec::with_capacity(shards);
        let mut tasks = Vec::new();
        for index in 0..shards {
            let (input, queue) = mpsc::channel(capacity);
            let local = Local {
                host: host.clone(),
                udp_port,
                tcp_port,
                marker: marker.clone(),
                shard: index,
            };
            let shard = Shard {
                index,
                shards,
                local,
                policy: config.policy.clone(),
                router: router.clone(),
                transports: transports.clone(),
                events: events.clone(),
                input: input.clone(),
                calls: HashMap::new(),
                by_call_id: HashMap::new(),
                timers: BinaryHeap::new(),
                scheduled: HashMap::new(),
                routing: HashMap::new(),
                next_id: 0,
                digest: digest.clone(),
                denied: Throttled::default(),
            };
            inputs.push(input);
            tasks.push(tokio::spawn(shard.run(queue)));
        }
        let dispatch = Dispatch {
            router: Arc::downgrade(&router),
            inputs,
            invite_room: capacity / 4,
            stats: stats.clone(),
        };
        tasks.extend(transports.spawn(listener, Arc::new(dispatch)));
        let edge = Edge {
            udp_addr: transports.udp_addr(),
            tcp_addr: transports.tcp_addr(),
            udp_receive_buffer: transports.udp_receive_buffer(),
            stats,
            tasks,
        };
        Ok((edge, receiver))
    }

    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    pub fn udp_addr(&self) -> SocketAddr {
        self.udp_addr
    }

    pub fn tcp_addr(&self) -> SocketAddr {
        self.tcp_addr
    }

    /// The UDP socket's receive buffer as the kernel granted it, when one was asked for.
    pub fn udp_receive_buffer(&self) -> Option<usize> {
        self.udp_receive_buffer
    }
}

impl Drop for Edge {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

enum Input {
    /// A message, with the bytes it took on the wire.
    Message(Message, Peer, usize),
    Routed(u64, Decision),
}

/// Whether `request` would start a call: an INVITE outside any dialog.
fn is_new_invite(request: &Request) -> bool {
    request.method == Method::Invite && request.to().is_some_and(|to| to.tag().is_none())
}

/// Hands each message to the shard of its Call-ID.
struct Dispatch<R> {
    /// Weak: the transports' tasks hold the dispatch, and must not keep the router
    /// (and what it holds) alive once the edge is dropped.
    router: std::sync::Weak<R>,
    inputs: Vec<mpsc::Sender<Input>>,
    /// Room a shard's queue must have left for a new INVITE to join it.
    invite_room: usize,
    stats: Arc<Stats>,
}

impl<R: Router> Sink for Dispatch<R> {
    fn knows(&self, source: SocketAddr) -> bool {
        self.router.upgrade().is_some_and(|router| router.knows(source))
    }

    fn deliver(&self, message: Message, from: Peer, size: usize) -> Option<Response> {
        let call_id = match &message {
            Message::Request(request) => request.call_id(),
            Message::Response(response) => response.call_id(),
        };
        let input = &self.inputs[shard_of(call_id, self.inputs.len())];
        if let Message::Request(request) = &message
            && is_new_invite(request)
            && input.capacity() < self.invite_room
        {
            self.stats.overloaded.fetch_add(1, Ordering::Relaxed);
            let mut busy = request.response(503, Some(&new_tag()));
            busy.headers.push("Retry-After", RETRY_AFTER_SECONDS.to_string());
            return Some(busy);
        }
        if input.try_send(Input::Message(message, from, size)).is_err() {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
        }
        None
    }
}

/// A response sent without a transaction (a repeated request is answered again); to a
/// peer not `known`, over UDP, only if it is no larger than the request: see
/// [`may_answer`].
fn send_stateless(
    transports: &Transports,
    response: &Response,
    to: Peer,
    request_size: usize,
    known: bool,
) {
    let bytes = response.to_bytes();
    if known || may_answer(to, request_size, bytes.len()) {
        transports.send(Transmit { to, bytes: bytes.into() });
    }
}

struct Shard<R> {
    index: usize,
    shards: usize,
    local: Local,
    policy: Policy,
    router: Arc<R>,
    transports: Transports,
    events: mpsc::UnboundedSender<CallEvent>,
    input: mpsc::Sender<Input>,
    calls: HashMap<u64, Call>,
    by_call_id: HashMap<String, u64>,
    /// When calls next need the time; an entry counts only while it is the one in
    /// `scheduled`, so each call has at most one live entry.
    timers: BinaryHeap<Reverse<(Instant, u64)>>,
    scheduled: HashMap<u64, Instant>,
    /// Router tasks of calls still being routed: a call that ends first (the caller
    /// cancelled) stops its routing, buyer pings and all.
    routing: HashMap<u64, tokio::task::AbortHandle>,
    next_id: u64,
    digest: digest::Server,
    denied: Throttled,
}

/// Refused INVITEs are logged at most once a second per shard: a scanner must not be
/// able to fill the log.
#[derive(Default)]
struct Throttled {
    last: Option<Instant>,
    suppressed: u64,
}

impl Throttled {
    fn note(&mut self, source: SocketAddr) {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < std::time::Duration::from_secs(1))
        {
            self.suppressed += 1;
            return;
        }
        tracing::warn!(%source, also_refused = self.suppressed, "refused an INVITE from a source no trunk admits");
        self.last = Some(now);
        self.suppressed = 0;
    }
}

/// What one step of a call produced.
#[derive(Default)]
struct Produced {
    outbox: Outbox,
    events: Vec<CallEvent>,
    route: Option<IncomingCall>,
    new_call_ids: Vec<String>,
}

impl Produced {
    fn effects(&mut self, now: Instant) -> Effects<'_> {
        Effects {
            now,
            outbox: &mut self.outbox,
            events: &mut self.events,
            route: &mut self.route,
            new_call_ids: &mut self.new_call_ids,
        }
    }
}

impl<R: Router> Shard<R> {
    async fn run(mut self, mut queue: mpsc::Receiver<Input>) {
        loop {
            let next = self.timers.peek().map(|Reverse((at, _))| *at);
            let input = match next {
                Some(at) => tokio::select! {
                    input = queue.recv() => input,
                    () = tokio::time::sleep_until(at.into()) => {
                        self.fire_timers();
                        continue;
                    }
                },
                None => queue.recv().await,
            };
            let Some(input) = input else { return };
            self.handle(input);
            // Take whatever else is already queued before looking at timers again.
            while let Ok(input) = queue.try_recv() {
                self.handle(input);
            }
        }
    }

    fn handle(&mut self, input: Input) {
        match input {
            Input::Message(Message::Request(request), from, size) => {
                self.on_request(request, from, size)
            }
            Input::Message(Message::Response(response), ..) => {
                let Some(&id) = self.by_call_id.get(response.call_id()) else { return };
                self.step(id, |call, fx| call.on_response(response, fx));
            }
            Input::Routed(id, decision) => {
                self.routing.remove(&id);
                self.step(id, |call, fx| call.on_decision(decision, fx));
            }
        }
    }

    fn on_request(&mut self, request: Request, from: Peer, size: usize) {
        if request.method == Method::Options {
            // Carriers probe trunks with OPTIONS, in and out of dialogs, at any
            // Max-Forwards: they want to know we are up and what we take.
            let mut ok = request.response(200, Some(&new_tag()));
            ok.headers.push("Allow", crate::wire::message::allow());
            ok.headers.push("Accept", "application/sdp");
            ok.headers.push("Supported", "timer");
            self.send_response(&ok, from, size);
            return;
        }
        let new_invite = is_new_invite(&request);
        // An INVITE of ours that came back: a loop (RFC 3261 §8.2.2.2). It may even carry
        // the Call-ID of one of our own legs, so this is checked first.
        if new_invite && request.headers.all("Via").any(|via| via.contains(&*self.local.marker)) {
            let response = request.response(482, Some(&new_tag()));
            self.send_response(&response, from, size);
            return;
        }
        let known = self.by_call_id.get(request.call_id()).copied();
        // A known Call-ID on an INVITE without a To tag is that call's INVITE repeated,
        // or else a new call: whoever sends it goes through admission like any caller.
        let repeated = known.is_some_and(|id| {
            !new_invite || self.calls.get(&id).is_some_and(|call| call.is_own_invite(&request))
        });
        if let (Some(id), true) = (known, repeated) {
            self.step(id, |call, fx| call.on_request(request, from, fx));
            return;
        }
        if new_invite {
            if let Some(trunk) = self.admit(&request, from, size) {
                if known.is_some() {
                    // Admitted, but its Call-ID is a call's already: a merged request.
                    let response = request.response(482, Some(&new_tag()));
                    self.send_response(&response, from, size);
                } else {
                    self.start_call(request, from, trunk);
                }
            }
        } else if request.method != Method::Ack {
            // A request for a dialog or transaction we do not have (§12.2.2).
            let response = request.response(481, Some(&new_tag()));
            self.send_response(&response, from, size);
        }
    }

    /// Asks the router whether a new INVITE may come in (not at all while it is not
    /// accepting calls: 503), checking its credentials when the router wants them;
    /// refusals and challenges are sent statelessly (a repeated INVITE is simply refused
    /// again). `Some(trunk)` when it is in.
    ///
    /// Without credentials it is challenged (401); with credentials on a nonce we gave
    /// its address that are wrong in any way (password, username, request, a replayed
    /// count) it is refused (403); an old nonce is challenged again as stale.
    fn admit(&mut self, request: &Request, from: Peer, size: usize) -> Option<Option<String>> {
        let authorization = request
            .headers
            .get("Authorization")
            .or_else(|| request.headers.get("Proxy-Authorization"));
        let username = authorization.and_then(digest::Server::username);
        let dialed = crate::b2bua::dialed(request);
        let arrival = Arrival { source: from.addr, dialed: &dialed, username: username.as_deref() };
        let refusal = if !self.router.accepting() {
            let mut busy = request.response(503, Some(&new_tag()));
            busy.headers.push("Retry-After", RETRY_AFTER_SECONDS.to_string());
            busy
        } else {
            match self.router.admit(&arrival) {
                Admission::Accept { trunk } => return Some(trunk),
                Admission::Deny => {
                    self.denied.note(from.addr);
                    request.response(403, Some(&new_tag()))
                }
                Admission::Digest { realm, password, trunk } => {
                    let verdict = match (authorization, &username) {
                        (Some(authorization), Some(username)) => {
                            self.digest.verify(&digest::Attempt {
                                authorization,
                                method: "INVITE",
                                request_uri: &request.uri,
                                realm: &realm,
                                username,
                                password: password.as_deref(),
                                source: from.addr.ip(),
                            })
                        }
                        _ => Err(digest::Refusal::Unknown),
                    };
                    match verdict {
                        Ok(()) => return Some(trunk),
                        Err(digest::Refusal::Wrong) => {
                            self.denied.note(from.addr);
                            request.response(403, Some(&new_tag()))
                        }
                        Err(refusal) => {
                            let stale = refusal == digest::Refusal::Stale;
                            let mut challenge = request.response(401, Some(&new_tag()));
                            let value = self.digest.challenge(&realm, from.addr.ip(), stale);
                            challenge.headers.push("WWW-Authenticate", value);
                            challenge
                        }
                    }
                }
            }
        };
        self.send_response(&refusal, from, size);
        None
    }

    fn start_call(&mut self, request: Request, from: Peer, trunk: Option<String>) {
        let id = self.next_id * self.shards as u64 + self.index as u64;
        self.next_id += 1;
        let mut produced = Produced::default();
        let now = Instant::now();
        let call = Call::start(
            id,
            request,
            from,
            trunk,
            self.local.clone(),
            self.policy.clone(),
            produced.effects(now),
        );
        for call_id in call.call_ids() {
            self.by_call_id.insert(call_id.to_owned(), id);
        }
        self.calls.insert(id, call);
        self.apply(id, produced);
    }

    fn send_response(&self, response: &Response, to: Peer, request_size: usize) {
        let known = self.router.knows(to.addr);
        send_stateless(&self.transports, response, to, request_size, known);
    }

    /// Runs one step of call `id` and carries out what it produced.
    fn step(&mut self, id: u64, f: impl FnOnce(&mut Call, Effects<'_>)) {
        let Some(call) = self.calls.get_mut(&id) else { return };
        let mut produced = Produced::default();
        f(call, produced.effects(Instant::now()));
        self.apply(id, produced);
    }

    fn apply(&mut self, id: u64, produced: Produced) {
        for transmit in produced.outbox {
            self.transports.send(transmit);
        }
        for event in produced.events {
            if matches!(event.kind, EventKind::Ended { .. })
                && let Some(routing) = self.routing.remove(&id)
            {
                routing.abort();
            }
            let _ = self.events.send(event);
        }
        for call_id in produced.new_call_ids {
            self.by_call_id.insert(call_id, id);
        }
        if let Some(incoming) = produced.route {
            let router = self.router.clone();
            let input = self.input.clone();
            let id = incoming.id;
            let task = tokio::spawn(async move {
                let decision = router.route(&incoming).await;
                // Waits for room rather than losing the decision: the call needs it.
                let _ = input.send(Input::Routed(incoming.id, decision)).await;
            });
            self.routing.insert(id, task.abort_handle());
        }
        let Some(call) = self.calls.get(&id) else { return };
        if call.finished() {
            for call_id in call.call_ids() {
                self.by_call_id.remove(call_id);
            }
            self.calls.remove(&id);
            self.scheduled.remove(&id);
        } else if let Some(at) = call.deadline() {
            // A deadline already past (a timer the call did not clear) must not make the
            // shard spin: it is looked at again a moment later.
            let soonest = Instant::now() + std::time::Duration::from_millis(1);
            self.schedule(id, at.max(soonest));
        }
    }

    fn schedule(&mut self, id: u64, at: Instant) {
        // A later deadline keeps the earlier entry, which re-schedules when it fires.
        if self.scheduled.get(&id).is_none_or(|scheduled| at < *scheduled) {
            self.scheduled.insert(id, at);
            self.timers.push(Reverse((at, id)));
        }
    }

    fn fire_timers(&mut self) {
        let now = Instant::now();
        while let Some(Reverse((at, id))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            if self.scheduled.get(&id) != Some(&at) {
                continue;
            }
            self.scheduled.remove(&id);
            match self.calls.get(&id).and_then(Call::deadline) {
                Some(deadline) if deadline <= now => self.step(id, |call, fx| call.on_timer(fx)),
                Some(deadline) => self.schedule(id, deadline),
                None => {}
            }
        }
    }
}
