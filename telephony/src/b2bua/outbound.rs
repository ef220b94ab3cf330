//! One outbound leg: our INVITE to one destination, from the first transmission to its
//! end (failed, cancelled, or answered and later hung up).

use std::sync::Arc;
use std::time::Instant;

use rsip::Method;

use super::{Destination, Local, new_tag};
use crate::dialog::Dialog;
use crate::digest;
use crate::transaction::{ClientInvite, Outbox, Timers, Transmit};
use crate::wire::{Fields, Headers, NameAddr, Request, Response, SipUri, Uri};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum LegState {
    /// INVITE sent, nothing or 100 heard.
    Calling,
    /// 180/183 heard.
    Ringing,
    /// It answered: the leg is (or was) bridged.
    Answered,
    /// We gave up on it (ring timeout, caller cancelled); a 2xx that still comes is ACKed
    /// and hung up.
    Abandoned,
    /// It failed, or was hung up after answering.
    Over,
}

#[derive(Debug)]
pub(super) struct Outbound {
    pub call_id: String,
    pub destination: Destination,
    pub ict: ClientInvite,
    /// The INVITE the destination challenged, kept to absorb its repeated 401/407.
    pub challenged: Option<ClientInvite>,
    pub state: LegState,
    pub dialog: Option<Dialog>,
    /// Our ACK of its 2xx, resent for each repeated 2xx.
    pub ack: Option<Arc<[u8]>>,
    /// A CANCEL is owed but may only be sent once a provisional arrived (§9.1).
    pub cancel_owed: bool,
}

impl Outbound {
    /// Sends the INVITE for `destination`, carrying the caller's identity and offer.
    pub fn start(
        caller: &Request,
        destination: Destination,
        local: &Local,
        timers: Timers,
        now: Instant,
        outbox: &mut Outbox,
    ) -> Outbound {
        let transport = destination.next_hop.transport;
        let call_id = local.new_call_id();
        let mut headers = Headers::new();
        headers.push("Via", local.via(transport).to_string());
        headers.push("Max-Forwards", caller.max_forwards().saturating_sub(1).to_string());
        // The caller's number and name go on; its host does not (topology hiding).
        let caller_from = caller.from();
        let mut from = NameAddr::new(Uri::Sip(SipUri::new(
            caller_from.as_ref().and_then(|f| f.uri.user()),
            local.host.clone(),
            None,
        )));
        from.display = caller_from.and_then(|f| f.display);
        from.params.set("tag", Some(&new_tag()));
        headers.push("From", from.to_string());
        headers.push("To", NameAddr::new(destination.uri.clone()).to_string());
        headers.push("Call-ID", call_id.as_str());
        headers.push("CSeq", "1 INVITE");
        headers.push("Contact", local.contact(transport));
        headers.push("Allow", crate::wire::message::allow());
        // The caller's session timer goes on, so its refreshes keep this leg alive too.
        if let Some(session_expires) = caller.headers.get("Session-Expires") {
            headers.push("Session-Expires", session_expires);
            headers.push("Supported", "timer");
            if let Some(min_se) = caller.headers.get("Min-SE") {
                headers.push("Min-SE", min_se);
            }
        }
        for name in ["Content-Type", "Content-Disposition"] {
            if let Some(value) = caller.headers.get(name) {
                headers.push(name, value);
            }
        }
        for (name, value) in &destination.headers {
            headers.push(name.as_str(), value.as_str());
        }
        let invite = Request {
            method: Method::Invite,
            uri: destination.uri.clone(),
            headers,
            body: caller.body.clone(),
        };
        let ict = ClientInvite::start(invite, destination.next_hop, timers, now, outbox);
        Outbound {
            call_id,
            destination,
            ict,
            challenged: None,
            state: LegState::Calling,
            dialog: None,
            ack: None,
            cancel_owed: false,
        }
    }

    /// Answers a 401/407 with the destination's credentials: the INVITE again, with
    /// Authorization, CSeq 2 and a new branch. Only once; `false` when it cannot.
    pub fn retry_with_credentials(
        &mut self,
        challenge: &Response,
        local: &Local,
        timers: Timers,
        now: Instant,
        outbox: &mut Outbox,
    ) -> bool {
        let Some(credentials) = &self.destination.credentials else { return false };
        if self.challenged.is_some() {
            return false;
        }
        let (asks, answers) = match challenge.status {
            407 => ("Proxy-Authenticate", "Proxy-Authorization"),
            _ => ("WWW-Authenticate", "Authorization"),
        };
        let Some(asked) = challenge.headers.get(asks) else { return false };
        let mut invite = self.ict.request().clone();
        let uri = invite.uri.to_string();
        let Some(authorization) =
            digest::answer(asked, "INVITE", &uri, &credentials.username, &credentials.password)
        else {
            return false;
        };
        let next_hop = self.destination.next_hop;
        invite.headers.set("Via", local.via(next_hop.transport).to_string());
        invite.headers.set("CSeq", "2 INVITE");
        invite.headers.push(answers, authorization);
        let ict = ClientInvite::start(invite, next_hop, timers, now, outbox);
        self.challenged = Some(std::mem::replace(&mut self.ict, ict));
        true
    }

    /// Whether `branch` is the challenged INVITE's (a repeat of its 401/407).
    pub fn is_challenged_branch(&self, branch: &str) -> bool {
        self.challenged.as_ref().is_some_and(|ict| ict.request().branch() == branch)
    }

    pub fn pending(&self) -> bool {
        matches!(self.state, LegState::Calling | LegState::Ringing)
    }

    /// The CANCEL of our INVITE (§9.1): its Via, URI, From, To, Call-ID and CSeq number.
    pub fn cancel(&self) -> Request {
        let invite = self.ict.request();
        let mut headers = Headers::new();
        for name in ["Via", "Route", "From", "To", "Call-ID"] {
            for value in invite.headers.lines(name) {
                headers.push(name, value);
            }
        }
        headers.push("Max-Forwards", "70");
        let number = invite.cseq().map_or(1, |c| c.number);
        headers.push("CSeq", format!("{number} CANCEL"));
        Request { method: Method::Cancel, uri: invite.uri.clone(), headers, body: Vec::new() }
    }

    /// ACKs its 2xx (the dialog is made), or resends the ACK for a repeated 2xx.
    pub fn send_ack(
        &mut self,
        body: Vec<u8>,
        content_type: Option<&str>,
        local: &Local,
        outbox: &mut Outbox,
    ) {
        let peer = self.destination.next_hop;
        if let Some(ack) = &self.ack {
            outbox.push(Transmit { to: peer, bytes: ack.clone() });
            return;
        }
        let Some(dialog) = &self.dialog else { return };
        let number = self.ict.request().cseq().map_or(1, |c| c.number);
        let ack = dialog.ack(number, &local.via(peer.transport), body, content_type);
        let bytes: Arc<[u8]> = ack.to_bytes().into();
        outbox.push(Transmit { to: peer, bytes: bytes.clone() });
        self.ack = Some(bytes);
    }
}
