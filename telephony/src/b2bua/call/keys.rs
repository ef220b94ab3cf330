//! What a request must carry to belong to a call: the caller's Call-ID, address and tags,
//! or those of a buyer's dialog (RFC 3261 §12.2.2's matching, plus the sender's address).
//! Someone who knows only a Call-ID is answered as if there were no such call.

use std::net::IpAddr;

use rsip::Method;

use crate::dialog::Dialog;
use crate::transaction::Peer;
use crate::wire::{Fields, NameAddr, Request};

fn tag(header: Option<NameAddr>) -> Option<Box<str>> {
    header.and_then(|header| header.tag().map(Into::into))
}

/// The caller's side of a call.
#[derive(Clone, Debug)]
pub(super) struct Caller {
    pub call_id: Box<str>,
    ip: IpAddr,
    from_tag: Option<Box<str>>,
    /// Our To tag, in every response to the caller.
    pub tag: Box<str>,
    /// The INVITE's branch: its repeats and its CANCEL carry it.
    pub branch: Box<str>,
}

impl Caller {
    /// The caller of `invite`, received from `peer`, to whom we are `tag`.
    pub fn of(invite: &Request, peer: Peer, tag: String) -> Caller {
        Caller {
            call_id: invite.call_id().into(),
            ip: peer.addr.ip(),
            from_tag: self::tag(invite.from()),
            tag: tag.into(),
            branch: invite.branch().into(),
        }
    }

    /// Whether `request` is the caller's INVITE again: its Call-ID and branch.
    pub fn is_own_invite(&self, request: &Request) -> bool {
        request.call_id() == &*self.call_id && request.branch() == *self.branch
    }

    /// Whether `request`, with the caller's Call-ID, was sent by the caller: from its
    /// address, with its From tag and our To tag, or without a To tag only the INVITE's own
    /// transaction (its repeats, its CANCEL).
    pub fn sent(&self, request: &Request, source: Peer) -> bool {
        if source.addr.ip() != self.ip || tag(request.from()) != self.from_tag {
            return false;
        }
        match tag(request.to()) {
            None => {
                matches!(request.method, Method::Invite | Method::Cancel)
                    && request.branch() == *self.branch
            }
            Some(to) => to == self.tag,
        }
    }
}

/// A buyer's side of a call, once the buyer answered: its dialog.
#[derive(Debug)]
pub(super) struct Callee {
    call_id: Box<str>,
    ip: IpAddr,
    /// Our tag in the dialog (its From, as we sent the INVITE).
    local_tag: Box<str>,
    remote_tag: Box<str>,
}

impl Callee {
    pub fn of(dialog: &Dialog) -> Option<Callee> {
        let tag = |value: &str| tag(value.parse().ok());
        Some(Callee {
            call_id: dialog.call_id.as_str().into(),
            ip: dialog.peer.addr.ip(),
            local_tag: tag(&dialog.local)?,
            remote_tag: tag(&dialog.remote)?,
        })
    }

    /// Whether `request` was sent by the buyer inside this dialog: its Call-ID, from its
    /// address, with both tags.
    pub fn sent(&self, request: &Request, source: Peer) -> bool {
        request.call_id() == &*self.call_id
            && source.addr.ip() == self.ip
            && tag(request.from()).is_some_and(|from| from == self.remote_tag)
            && tag(request.to()).is_some_and(|to| to == self.local_tag)
    }
}
