//! A plain SIP phone over UDP, for calls Bidline makes to itself: the demo's carrier and
//! buyers, and the dashboard's test call. [`call`] places one call and reports how it
//! went; [`Answerer`] answers calls on a socket as a policy says (ring, then pick up,
//! refuse or let ring). No media: the SDP is an offer or answer that names a port nobody
//! sends to.
//!
//! Requests are resent on RFC 3261's timer (T1 doubling, at most T2) until answered, and
//! a 2xx until its ACK, so a datagram lost on a busy machine costs time, not the call.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rsip::Method;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;

use crate::dialog::Dialog;
use crate::digest;
use crate::transaction::{Peer, Transport};
use crate::wire::{self, Fields, Headers, Host, Message, Request, Response, SipUri, Uri, Via};

/// The nonce count of this process's next digest answer.
static NONCE_COUNT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);

const T1: Duration = Duration::from_millis(500);
const T2: Duration = Duration::from_secs(4);
/// A request unanswered after 64·T1 has failed (RFC 3261 §17.1.1.2).
const GIVE_UP: Duration = Duration::from_secs(32);

#[derive(Debug, thiserror::Error)]
pub enum PhoneError {
    #[error("the phone's socket: {0}")]
    Socket(#[from] std::io::Error),
    #[error("{0} was not answered within 32 s")]
    Timeout(&'static str),
    #[error("the answer could not be read: {0}")]
    Garbled(String),
}

/// One call to place.
#[derive(Clone, Debug)]
pub struct Dial {
    /// The SIP edge (or any UA) to send the INVITE to.
    pub to: SocketAddr,
    /// The number dialed (request-URI user part).
    pub number: String,
    /// The caller's number (From user part).
    pub caller: String,
    /// The Call-ID, to find the call by afterwards.
    pub call_id: String,
    /// Username and password to answer a digest challenge with.
    pub credentials: Option<(String, String)>,
    /// Headers added to the INVITE.
    pub headers: Vec<(String, String)>,
    /// How long to let it ring before hanging up (CANCEL).
    pub ring_timeout: Duration,
    /// How long to talk once answered before hanging up (BYE), unless the far end does.
    pub talk: Duration,
}

/// How a placed call went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Answered after `rang`, then ended after `talked` by `ended_by`.
    Answered { rang: Duration, talked: Duration, ended_by: Side },
    /// Refused with a final status (busy, not found, no buyer, …).
    Refused { status: u16, reason: String },
    /// Nobody answered within the ring timeout: we cancelled it.
    NotAnswered,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Caller,
    Callee,
}

/// Places `dial` from a socket of its own on `local_ip` and follows it to its end.
pub async fn call(dial: &Dial, local_ip: std::net::IpAddr) -> Result<Outcome, PhoneError> {
    let socket = Wire::bind(SocketAddr::new(local_ip, 0), dial.to).await?;
    let started = Instant::now();
    let mut invite = socket.invite(dial);
    let mut first = socket.send_until_final(&invite, dial.ring_timeout).await?;
    if matches!(first, Final::Response(ref r) if r.status == 401 || r.status == 407) {
        let Final::Response(challenge) = first else { unreachable!() };
        socket.ack_failure(&invite, &challenge).await?;
        let Some((user, password)) = &dial.credentials else {
            return Ok(refused(&challenge));
        };
        let header =
            if challenge.status == 401 { "WWW-Authenticate" } else { "Proxy-Authenticate" };
        let value = challenge.headers.get(header).unwrap_or_default();
        let uri = invite.uri.to_string();
        // Calls challenged in the same second may share a nonce: each counts on from the
        // last, so that none is taken for a replay.
        let nc = NONCE_COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Some(authorization) = digest::answer_counted(value, "INVITE", &uri, user, password, nc)
        else {
            return Ok(refused(&challenge));
        };
        invite = socket.next_invite(&invite);
        let name = if challenge.status == 401 { "Authorization" } else { "Proxy-Authorization" };
        invite.headers.remove("Authorization");
        invite.headers.push(name, authorization);
        first = socket.send_until_final(&invite, dial.ring_timeout).await?;
    }
    let answer = match first {
        Final::Response(answer) if answer.is_success() => answer,
        Final::Response(failure) => {
            socket.ack_failure(&invite, &failure).await?;
            return Ok(refused(&failure));
        }
        Final::RingTimeout => {
            socket.cancel(&invite).await?;
            return Ok(Outcome::NotAnswered);
        }
    };
    let rang = started.elapsed();
    let peer = Peer { transport: Transport::Udp, addr: dial.to };
    let mut dialog = Dialog::as_caller(&invite, &answer, peer)
        .ok_or_else(|| PhoneError::Garbled("a 2xx without To or Contact".into()))?;
    let cseq = invite.cseq().map_or(1, |c| c.number);
    socket.send(&dialog.ack(cseq, &socket.via(), Vec::new(), None)).await?;
    let answered = Instant::now();
    let ended_by = socket.talk(&mut dialog, dial.talk, cseq, &answer).await?;
    Ok(Outcome::Answered { rang, talked: answered.elapsed(), ended_by })
}

fn refused(response: &Response) -> Outcome {
    Outcome::Refused { status: response.status, reason: response.reason.clone() }
}

/// What an INVITE came to.
enum Final {
    Response(Response),
    RingTimeout,
}

/// A socket talking to one peer, the caller's side.
struct Wire {
    socket: UdpSocket,
    local: SocketAddr,
    peer: SocketAddr,
}

impl Wire {
    async fn bind(local: SocketAddr, peer: SocketAddr) -> Result<Wire, PhoneError> {
        let socket = UdpSocket::bind(local).await?;
        let local = socket.local_addr()?;
        Ok(Wire { socket, local, peer })
    }

    fn via(&self) -> Via {
        Via::new("UDP", Host::Ip(self.local.ip()), self.local.port(), &branch())
    }

    fn invite(&self, dial: &Dial) -> Request {
        let host = Host::Ip(dial.to.ip());
        let uri = Uri::Sip(SipUri::new(Some(&dial.number), host.clone(), Some(dial.to.port())));
        let me = Uri::Sip(SipUri::new(
            Some(&dial.caller),
            Host::Ip(self.local.ip()),
            Some(self.local.port()),
        ));
        let mut headers = Headers::new();
        headers.push("Via", self.via().to_string());
        headers.push("Max-Forwards", "70");
        headers.push("From", format!("<sip:{}@{}>;tag={}", dial.caller, host, token()));
        headers.push("To", format!("<{uri}>"));
        headers.push("Call-ID", dial.call_id.as_str());
        headers.push("CSeq", "1 INVITE");
        headers.push("Contact", format!("<{me}>"));
        headers.push("Content-Type", "application/sdp");
        if let Some((user, _)) = &dial.credentials {
            // Credentials without a nonce (RFC 3261 §22.4 allows them in a first request):
            // they name the username, so that the edge knows which password to challenge for.
            headers.push(
                "Authorization",
                format!("Digest username=\"{user}\", realm=\"\", nonce=\"\", uri=\"{uri}\", response=\"\""),
            );
        }
        for (name, value) in &dial.headers {
            headers.push(name.as_str(), value.as_str());
        }
        Request { method: Method::Invite, uri, headers, body: sdp(self.local.ip()) }
    }

    /// The same INVITE again with the next CSeq and a new branch (after a challenge).
    fn next_invite(&self, invite: &Request) -> Request {
        let mut next = invite.clone();
        let number = invite.cseq().map_or(1, |c| c.number) + 1;
        next.headers.set("CSeq", format!("{number} INVITE"));
        next.headers.set("Via", self.via().to_string());
        next
    }

    async fn send(&self, message: &impl ToBytes) -> Result<(), PhoneError> {
        self.socket.send_to(&message.bytes(), self.peer).await?;
        Ok(())
    }

    /// Sends the INVITE until a response stops the resending, then waits for its final
    /// response until `ring_timeout`.
    async fn send_until_final(
        &self,
        invite: &Request,
        ring_timeout: Duration,
    ) -> Result<Final, PhoneError> {
        let bytes = invite.to_bytes();
        let deadline = tokio::time::Instant::now() + ring_timeout;
        let mut interval = T1;
        let mut resend = Some(tokio::time::Instant::now() + interval);
        let branch = invite.branch();
        self.socket.send_to(&bytes, self.peer).await?;
        loop {
            let wake = resend.map_or(deadline, |at| at.min(deadline));
            match tokio::time::timeout_at(wake, self.receive()).await {
                Err(_) if tokio::time::Instant::now() >= deadline => return Ok(Final::RingTimeout),
                Err(_) => {
                    self.socket.send_to(&bytes, self.peer).await?;
                    interval = (interval * 2).min(T2);
                    resend = Some(tokio::time::Instant::now() + interval);
                }
                Ok(message) => match message? {
                    Message::Response(response) if response.branch() == branch => {
                        if response.is_provisional() {
                            resend = None;
                        } else {
                            return Ok(Final::Response(response));
                        }
                    }
                    _ => {}
                },
            }
        }
    }

    /// The ACK of a final failure, sent on the INVITE's own transaction (§17.1.1.3).
    async fn ack_failure(&self, invite: &Request, failure: &Response) -> Result<(), PhoneError> {
        let mut headers = Headers::new();
        for name in ["Via", "Max-Forwards", "From", "Call-ID"] {
            if let Some(value) = invite.headers.get(name) {
                headers.push(name, value);
            }
        }
        headers.push("To", failure.headers.get("To").unwrap_or_default());
        headers.push("CSeq", format!("{} ACK", invite.cseq().map_or(1, |c| c.number)));
        let ack =
            Request { method: Method::Ack, uri: invite.uri.clone(), headers, body: Vec::new() };
        self.send(&ack).await
    }

    /// Cancels a ringing INVITE and acknowledges the 487 (or the answer that crossed it,
    /// which is then hung up at once).
    async fn cancel(&self, invite: &Request) -> Result<(), PhoneError> {
        let mut headers = Headers::new();
        for name in ["Via", "Max-Forwards", "From", "To", "Call-ID"] {
            if let Some(value) = invite.headers.get(name) {
                headers.push(name, value);
            }
        }
        headers.push("CSeq", format!("{} CANCEL", invite.cseq().map_or(1, |c| c.number)));
        let cancel =
            Request { method: Method::Cancel, uri: invite.uri.clone(), headers, body: Vec::new() };
        let bytes = cancel.to_bytes();
        let give_up = tokio::time::Instant::now() + GIVE_UP;
        let mut interval = T1;
        self.socket.send_to(&bytes, self.peer).await?;
        let branch = invite.branch();
        loop {
            let wake = (tokio::time::Instant::now() + interval).min(give_up);
            match tokio::time::timeout_at(wake, self.receive()).await {
                Err(_) if tokio::time::Instant::now() >= give_up => {
                    return Err(PhoneError::Timeout("CANCEL"));
                }
                Err(_) => {
                    self.socket.send_to(&bytes, self.peer).await?;
                    interval = (interval * 2).min(T2);
                }
                Ok(message) => match message? {
                    Message::Response(r)
                        if r.branch() == branch
                            && r.cseq().map(|c| c.method) == Some(Method::Invite) =>
                    {
                        if r.is_success() {
                            let peer = Peer { transport: Transport::Udp, addr: self.peer };
                            let mut dialog = Dialog::as_caller(invite, &r, peer)
                                .ok_or_else(|| PhoneError::Garbled("a 2xx without To".into()))?;
                            let cseq = invite.cseq().map_or(1, |c| c.number);
                            self.send(&dialog.ack(cseq, &self.via(), Vec::new(), None)).await?;
                            self.bye(&mut dialog).await?;
                            return Ok(());
                        }
                        if !r.is_provisional() {
                            return self.ack_failure(invite, &r).await;
                        }
                    }
                    _ => {}
                },
            }
        }
    }

    /// Holds the call for `talk` or until the far end hangs up; says who hung up.
    async fn talk(
        &self,
        dialog: &mut Dialog,
        talk: Duration,
        invite_cseq: u32,
        answer: &Response,
    ) -> Result<Side, PhoneError> {
        let until = tokio::time::Instant::now() + talk;
        loop {
            match tokio::time::timeout_at(until, self.receive()).await {
                Err(_) => {
                    self.bye(dialog).await?;
                    return Ok(Side::Caller);
                }
                Ok(message) => match message? {
                    Message::Request(request) if request.method == Method::Bye => {
                        self.send(&request.response(200, None)).await?;
                        return Ok(Side::Callee);
                    }
                    Message::Request(request) if request.method != Method::Ack => {
                        // Session refreshes and the like: agreed to, with our SDP again.
                        let mut ok = request.response(200, None);
                        if request.method == Method::Invite {
                            ok.headers.push("Content-Type", "application/sdp");
                            ok.body = sdp(self.local.ip());
                        }
                        self.send(&ok).await?;
                    }
                    // The 2xx again: our ACK was lost.
                    Message::Response(response)
                        if response.is_success() && response.call_id() == answer.call_id() =>
                    {
                        self.send(&dialog.ack(invite_cseq, &self.via(), Vec::new(), None)).await?;
                    }
                    _ => {}
                },
            }
        }
    }

    async fn bye(&self, dialog: &mut Dialog) -> Result<(), PhoneError> {
        let bye = dialog.request(Method::Bye, &self.via());
        self.request_until_final(&bye).await.map(drop)
    }

    /// Sends a non-INVITE request until its final response (§17.1.2).
    async fn request_until_final(&self, request: &Request) -> Result<Response, PhoneError> {
        let bytes = request.to_bytes();
        let branch = request.branch();
        let give_up = tokio::time::Instant::now() + GIVE_UP;
        let mut interval = T1;
        self.socket.send_to(&bytes, self.peer).await?;
        loop {
            let wake = (tokio::time::Instant::now() + interval).min(give_up);
            match tokio::time::timeout_at(wake, self.receive()).await {
                Err(_) if tokio::time::Instant::now() >= give_up => {
                    return Err(PhoneError::Timeout("BYE"));
                }
                Err(_) => {
                    self.socket.send_to(&bytes, self.peer).await?;
                    interval = (interval * 2).min(T2);
                }
                Ok(message) => match message? {
                    Message::Response(r) if r.branch() == branch && !r.is_provisional() => {
                        return Ok(r);
                    }
                    Message::Request(r) if r.method == Method::Bye => {
                        // Both hung up at once.
                        self.send(&r.response(200, None)).await?;
                    }
                    _ => {}
                },
            }
        }
    }

    /// The next message from the peer (others are ignored).
    async fn receive(&self) -> Result<Message, PhoneError> {
        let mut buffer = vec![0; 65_535];
        loop {
            let (n, from) = self.socket.recv_from(&mut buffer).await?;
            if from != self.peer {
                continue;
            }
            match wire::parse(&buffer[..n]) {
                Ok(message) => return Ok(message),
                Err(rejection) => tracing::debug!(?rejection, "phone: unreadable datagram"),
            }
        }
    }
}

trait ToBytes {
    fn bytes(&self) -> Vec<u8>;
}

impl ToBytes for Request {
    fn bytes(&self) -> Vec<u8> {
        self.to_bytes()
    }
}

impl ToBytes for Response {
    fn bytes(&self) -> Vec<u8> {
        self.to_bytes()
    }
}

/// How the answerer treats one INVITE.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pickup {
    /// How long it rings (180) before the decision.
    pub ring: Duration,
    pub then: Then,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Then {
    /// Answer, and hang up after this long unless the caller does first.
    Answer { hang_up_after: Duration },
    /// Refuse with this status (486 busy, 480 unavailable, …).
    Refuse(u16),
    /// Keep ringing until the caller gives up.
    KeepRinging,
}

/// Answers every INVITE arriving on a socket as `policy` says, each call on a task of its
/// own, until dropped.
pub struct Answerer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Answerer {
    pub async fn start(
        bind: SocketAddr,
        policy: impl Fn(&Request) -> Pickup + Send + Sync + 'static,
    ) -> Result<Answerer, PhoneError> {
        let socket = Arc::new(UdpSocket::bind(bind).await?);
        let addr = socket.local_addr()?;
        let task = tokio::spawn(serve(socket, Arc::new(policy)));
        Ok(Answerer { addr, task })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for Answerer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

type Policy = Arc<dyn Fn(&Request) -> Pickup + Send + Sync>;

/// Hands each datagram to the task of its call (by Call-ID), starting one for each new
/// INVITE; a call's task ends, and is forgotten, when its call has.
async fn serve(socket: Arc<UdpSocket>, policy: Policy) {
    let mut calls: HashMap<String, mpsc::Sender<(Message, SocketAddr)>> = HashMap::new();
    let (ended_tx, mut ended) = mpsc::unbounded_channel::<String>();
    let mut buffer = vec![0; 65_535];
    loop {
        tokio::select! {
            Some(call_id) = ended.recv() => { calls.remove(&call_id); }
            received = socket.recv_from(&mut buffer) => {
                let Ok((n, from)) = received else { continue };
                let Ok(message) = wire::parse(&buffer[..n]) else { continue };
                let call_id = match &message { Message::Request(r) => r.call_id(), Message::Response(r) => r.call_id() }.to_owned();
                if let Some(call) = calls.get(&call_id) {
                    // A call's queue is small; a peer flooding one call loses its extra datagrams.
                    let _ = call.try_send((message, from));
                    continue;
                }
                let Message::Request(invite) = message else { continue };
                if invite.method != Method::Invite {
                    if invite.method != Method::Ack {
                        let _ = socket.send_to(&invite.response(481, None).to_bytes(), from).await;
                    }
                    continue;
                }
                let (tx, rx) = mpsc::channel(16);
                calls.insert(call_id.clone(), tx);
                let pickup = policy(&invite);
                let (socket, ended_tx) = (socket.clone(), ended_tx.clone());
                tokio::spawn(async move {
                    let _ = answer(&socket, invite, from, pickup, rx).await;
                    let _ = ended_tx.send(call_id);
                });
            }
        }
    }
}

/// One call on the answering side, from its INVITE to its end.
async fn answer(
    socket: &UdpSocket,
    invite: Request,
    from: SocketAddr,
    pickup: Pickup,
    mut inbox: mpsc::Receiver<(Message, SocketAddr)>,
) -> Result<(), PhoneError> {
    let tag = token();
    let local = socket.local_addr()?;
    let send = |message: Vec<u8>| async move { socket.send_to(&message, from).await.map(drop) };
    let mut last = invite.response(180, Some(&tag));
    send(last.to_bytes()).await?;
    let decide = tokio::time::Instant::now() + pickup.ring;
    let mut decided = false;
    // Ringing: a repeat INVITE is answered with the last response; CANCEL ends it.
    loop {
        let wake = if decided { tokio::time::Instant::now() + GIVE_UP } else { decide };
        match tokio::time::timeout_at(wake, inbox.recv()).await {
            Err(_) => {
                decided = true;
                match pickup.then {
                    Then::KeepRinging => {}
                    Then::Refuse(status) => {
                        last = invite.response(status, Some(&tag));
                        return finish_failure(socket, &invite, last, from, &mut inbox).await;
                    }
                    Then::Answer { hang_up_after } => {
                        let mut ok = invite.response(200, Some(&tag));
                        let me = SipUri::new(None, Host::Ip(local.ip()), Some(local.port()));
                        ok.headers.push("Contact", format!("<{me}>"));
                        ok.headers.push("Content-Type", "application/sdp");
                        ok.body = sdp(local.ip());
                        return connected(socket, &invite, ok, from, hang_up_after, &mut inbox)
                            .await;
                    }
                }
            }
            Ok(None) => return Ok(()),
            Ok(Some((Message::Request(request), source))) => match request.method {
                Method::Invite => send(last.to_bytes()).await?,
                Method::Cancel => {
                    socket.send_to(&request.response(200, Some(&tag)).to_bytes(), source).await?;
                    last = invite.response(487, Some(&tag));
                    return finish_failure(socket, &invite, last, from, &mut inbox).await;
                }
                _ => {}
            },
            Ok(Some(_)) => {}
        }
    }
}

/// Sends a final failure until its ACK (§17.2.1).
async fn finish_failure(
    socket: &UdpSocket,
    invite: &Request,
    failure: Response,
    to: SocketAddr,
    inbox: &mut mpsc::Receiver<(Message, SocketAddr)>,
) -> Result<(), PhoneError> {
    let bytes = failure.to_bytes();
    resend_until(
        socket,
        &bytes,
        to,
        inbox,
        |m| matches!(m, Message::Request(r) if r.method == Method::Ack),
        invite,
    )
    .await
    .map(drop)
}

/// Answered: the 2xx until its ACK, then the call until either side hangs up.
async fn connected(
    socket: &UdpSocket,
    invite: &Request,
    ok: Response,
    to: SocketAddr,
    hang_up_after: Duration,
    inbox: &mut mpsc::Receiver<(Message, SocketAddr)>,
) -> Result<(), PhoneError> {
    let bytes = ok.to_bytes();
    let early_bye = resend_until(
        socket,
        &bytes,
        to,
        inbox,
        |m| matches!(m, Message::Request(r) if r.method == Method::Ack || r.method == Method::Bye),
        invite,
    )
    .await?;
    if let Some(Message::Request(bye)) =
        early_bye.filter(|m| matches!(m, Message::Request(r) if r.method == Method::Bye))
    {
        socket.send_to(&bye.response(200, None).to_bytes(), to).await?;
        return Ok(());
    }
    let local = socket.local_addr()?;
    let peer = Peer { transport: Transport::Udp, addr: to };
    let tag = ok.to().and_then(|to| to.tag().map(str::to_owned)).unwrap_or_default();
    let mut dialog = Dialog::as_callee(invite, &tag, peer)
        .ok_or_else(|| PhoneError::Garbled("an INVITE without Contact".into()))?;
    let until = tokio::time::Instant::now() + hang_up_after;
    loop {
        match tokio::time::timeout_at(until, inbox.recv()).await {
            Err(_) => {
                let via = Via::new("UDP", Host::Ip(local.ip()), local.port(), &branch());
                let bye = dialog.request(Method::Bye, &via);
                let is_answer =
                    |m: &Message| matches!(m, Message::Response(r) if !r.is_provisional());
                return resend_until(socket, &bye.to_bytes(), to, inbox, is_answer, &bye)
                    .await
                    .map(drop);
            }
            Ok(None) => return Ok(()),
            Ok(Some((Message::Request(request), source))) => {
                if request.method == Method::Ack {
                    continue;
                }
                if request.method == Method::Invite && request.cseq() == invite.cseq() {
                    // The INVITE again: our 2xx was lost.
                    socket.send_to(&bytes, source).await?;
                    continue;
                }
                let mut answer = request.response(200, None);
                if request.method == Method::Invite {
                    answer.headers.push("Content-Type", "application/sdp");
                    answer.body = sdp(local.ip());
                }
                socket.send_to(&answer.to_bytes(), source).await?;
                if request.method == Method::Bye {
                    return Ok(());
                }
            }
            Ok(Some(_)) => {}
        }
    }
}

/// Sends `bytes` on the retransmission timer until a message `done` accepts arrives
/// (returned), the call's queue closes (`None`), or 64·T1 pass.
async fn resend_until(
    socket: &UdpSocket,
    bytes: &[u8],
    to: SocketAddr,
    inbox: &mut mpsc::Receiver<(Message, SocketAddr)>,
    done: impl Fn(&Message) -> bool,
    request: &Request,
) -> Result<Option<Message>, PhoneError> {
    let give_up = tokio::time::Instant::now() + GIVE_UP;
    let mut interval = T1;
    socket.send_to(bytes, to).await?;
    loop {
        let wake = (tokio::time::Instant::now() + interval).min(give_up);
        match tokio::time::timeout_at(wake, inbox.recv()).await {
            Err(_) if tokio::time::Instant::now() >= give_up => {
                return Err(PhoneError::Timeout(method_name(&request.method)));
            }
            Err(_) => {
                socket.send_to(bytes, to).await?;
                interval = (interval * 2).min(T2);
            }
            Ok(None) => return Ok(None),
            Ok(Some((message, _))) if done(&message) => return Ok(Some(message)),
            Ok(Some((Message::Request(repeat), source)))
                if repeat.method == Method::Invite && request.method == Method::Invite =>
            {
                socket.send_to(bytes, source).await?;
            }
            Ok(Some(_)) => {}
        }
    }
}

fn method_name(method: &Method) -> &'static str {
    match method {
        Method::Invite => "INVITE",
        Method::Bye => "BYE",
        _ => "the request",
    }
}

/// An SDP naming a G.711 µ-law stream at a port nobody sends to (no media is exchanged).
fn sdp(ip: std::net::IpAddr) -> Vec<u8> {
    let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
    format!(
        "v=0\r\no=- 1 1 IN {family} {ip}\r\ns=-\r\nc=IN {family} {ip}\r\nt=0 0\r\n\
         m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n"
    )
    .into_bytes()
}

fn branch() -> String {
    format!("{}{}", crate::wire::via::MAGIC_COOKIE, token())
}

fn token() -> String {
    format!("{:016x}", rand::random::<u64>())
}

#[cfg(test)]
mod tests;
