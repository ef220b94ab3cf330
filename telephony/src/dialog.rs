//! Dialogs (RFC 3261 §12): the state two user agents share after an INVITE is answered,
//! enough to send requests inside it (BYE, ACK for the 2xx), and the 2xx resent until
//! its ACK arrives (§13.3.1.4), which RFC 6026 leaves to the transaction user.

use std::sync::Arc;
use std::time::Instant;

use rsip::Method;

use crate::transaction::{Outbox, Peer, Timers, Transmit};
use crate::wire::{Headers, NameAddr, Request, Response, Uri, Via};

/// One side's view of a dialog.
#[derive(Clone, Debug)]
pub struct Dialog {
    pub call_id: String,
    /// Our From (when we sent the INVITE) or To (when we received it), with our tag.
    pub local: String,
    /// The other side's, with its tag.
    pub remote: String,
    /// Where requests inside the dialog are addressed: the peer's Contact.
    pub remote_target: Uri,
    /// Route headers for requests inside the dialog (§12.1.1, §12.1.2).
    pub route_set: Vec<String>,
    /// Where requests inside the dialog are sent: the flow the dialog was made on, which
    /// is what reaches a carrier behind NAT whatever its Contact says.
    pub peer: Peer,
    local_cseq: u32,
}

impl Dialog {
    /// The dialog of an INVITE we received and answered with `to_tag`.
    pub fn as_callee(invite: &Request, to_tag: &str, peer: Peer) -> Option<Dialog> {
        use crate::wire::Fields;
        let contact = invite.contact()?;
        let mut local: NameAddr = invite.to()?;
        local.params.set("tag", Some(to_tag));
        Some(Dialog {
            call_id: invite.call_id().to_owned(),
            local: local.to_string(),
            remote: invite.headers.get("From")?.to_owned(),
            remote_target: contact.uri,
            route_set: invite.headers.all("Record-Route").map(str::to_owned).collect(),
            peer,
            local_cseq: 0,
        })
    }

    /// The dialog an answer (`response`) to our `invite` creates.
    pub fn as_caller(invite: &Request, response: &Response, peer: Peer) -> Option<Dialog> {
        use crate::wire::Fields;
        let mut route_set: Vec<String> =
            response.headers.all("Record-Route").map(str::to_owned).collect();
        route_set.reverse();
        Some(Dialog {
            call_id: invite.call_id().to_owned(),
            local: invite.headers.get("From")?.to_owned(),
            remote: response.headers.get("To")?.to_owned(),
            remote_target: response.contact().map_or_else(|| invite.uri.clone(), |c| c.uri),
            route_set,
            peer,
            local_cseq: invite.cseq()?.number,
        })
    }

    /// A new request inside the dialog, with the next CSeq and a Via at `via_addr`.
    pub fn request(&mut self, method: Method, via: &Via) -> Request {
        self.local_cseq += 1;
        let number = self.local_cseq;
        self.build(method, number, via)
    }

    /// The ACK of our INVITE's 2xx: same CSeq number, its own branch (§13.2.2.4); with a
    /// late offer it carries the answer (`body`, of `content_type`).
    pub fn ack(
        &self,
        invite_cseq: u32,
        via: &Via,
        body: Vec<u8>,
        content_type: Option<&str>,
    ) -> Request {
        let mut ack = self.build(Method::Ack, invite_cseq, via);
        if !body.is_empty() {
            if let Some(content_type) = content_type {
                ack.headers.push("Content-Type", content_type);
            }
            ack.body = body;
        }
        ack
    }

    fn build(&self, method: Method, number: u32, via: &Via) -> Request {
        let mut headers = Headers::new();
        headers.push("Via", via.to_string());
        headers.push("Max-Forwards", "70");
        for route in &self.route_set {
            headers.push("Route", route.as_str());
        }
        headers.push("From", self.local.as_str());
        headers.push("To", self.remote.as_str());
        headers.push("Call-ID", self.call_id.as_str());
        headers.push("CSeq", format!("{number} {method}"));
        Request { method, uri: self.remote_target.clone(), headers, body: Vec::new() }
    }
}

/// Our 2xx to an INVITE, resent on T1, 2·T1, … up to T2 until the ACK; after 64·T1
/// without one the call must be torn down.
#[derive(Debug)]
pub struct Answer {
    bytes: Arc<[u8]>,
    peer: Peer,
    timers: Timers,
    next: Instant,
    interval: std::time::Duration,
    give_up: Instant,
}

impl Answer {
    /// Starts resending `response`, which the server transaction has just sent once.
    pub fn new(response: &Response, peer: Peer, timers: Timers, now: Instant) -> Answer {
        let bytes: Arc<[u8]> = response.to_bytes().into();
        Answer {
            bytes,
            peer,
            timers,
            next: now + timers.t1,
            interval: timers.t1,
            give_up: now + timers.timeout(),
        }
    }

    pub fn deadline(&self) -> Instant {
        if self.peer.transport.reliable() { self.give_up } else { self.next.min(self.give_up) }
    }

    /// Resends when due; `true` when it is time to give up.
    pub fn on_timer(&mut self, now: Instant, outbox: &mut Outbox) -> bool {
        if now >= self.give_up {
            return true;
        }
        if !self.peer.transport.reliable() && now >= self.next {
            outbox.push(Transmit { to: self.peer, bytes: self.bytes.clone() });
            self.interval = (self.interval * 2).min(self.timers.t2);
            self.next = now + self.interval;
        }
        false
    }

    /// The INVITE came again (our 2xx was lost): resend at once.
    pub fn resend(&self, outbox: &mut Outbox) {
        outbox.push(Transmit { to: self.peer, bytes: self.bytes.clone() });
    }
}
