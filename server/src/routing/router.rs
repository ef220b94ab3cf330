//! The server's router: what the SIP edge asks for every call. It reads the routing
//! snapshot and in-memory state (recent callers, one node's counts), never the
//! configuration in the database; it waits only on buyers' pings, name resolution of
//! destinations and — when nodes share PostgreSQL — the shared counts of caps and
//! concurrency, all bounded.
//!
//! For one call: the dialed number gives the organization (only its inbound trunks may
//! admit the call), campaign and publisher; the caller is identified and screened
//! (blocked, withheld, duplicate); the auction ([`super::auction`]) checks each ring-tree
//! entry and collects the offers; the candidates are ranked, claimed and turned into the
//! edge's ordered destinations. Everything decided goes to the call's record.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bidline_telephony::b2bua::{Admission, Arrival, Decision, Destination, IncomingCall, Router};
use chrono::{DateTime, Utc};
use serde_json::json;
use uuid::Uuid;

use super::{
    auction::{self, Auction, Eligible},
    dial, loopback,
    rank::{self, Candidate},
    shield::Shield,
    snapshot::{Owned, Routing, Snapshot},
};
use crate::{
    caller::{self, Caller},
    calls::{
        BidRow, CallRow, Event, Outcome, Status,
        counters::Counters,
        recent::Recent,
        recorder::{Decided, Leg, Opened, PayoutRule, Recorder},
        writer::Headroom,
    },
    dni::{self, book::Book},
    e164::E164,
    network::{
        Status as Active, campaigns::Campaign, destination::Destination as TargetDestination,
        numbers::Number, publishers::Publisher, targets::Target,
    },
    ping::{self, Pinger},
};

/// The longest an auction waits for buyers, whatever their own timeouts say.
pub const TREE_TIMEOUT: Duration = Duration::from_millis(3_000);

#[derive(Clone)]
pub struct CallRouter {
    pub routing: Routing,
    pub pinger: Pinger,
    pub counters: Arc<Counters>,
    pub recent: Arc<Recent>,
    pub shield: Arc<Shield>,
    pub recorder: Recorder,
    pub node_id: Uuid,
    pub tree_timeout: Duration,
    /// Who holds each DNI pool number: a call to one takes its visit's tags.
    pub leases: Arc<Book>,
    /// Organizations whose calls are turned away for an unpaid bill.
    pub billing: Arc<crate::billing::Gate>,
    /// `--allow-private-targets`: legs may go to private and loopback addresses.
    pub allow_private: bool,
    /// Room left in the call records' backlog: none, and new calls are turned away.
    pub headroom: Headroom,
    /// The password of the loopback line ([`super::loopback`]).
    pub loopback_password: Arc<str>,
}

/// New INVITEs answered 503 because call records were too far behind.
pub const REFUSED_RECORDS_BEHIND: &str = "bidline_sip_invites_refused_records_behind_total";

/// The realm of the digest challenges sent to carriers.
const REALM: &str = "bidline";

impl CallRouter {
    fn auctioneer(&self) -> auction::Auctioneer<'_> {
        auction::Auctioneer {
            counters: &self.counters,
            shield: &self.shield,
            pinger: &self.pinger,
            timeout: self.tree_timeout,
        }
    }
}

impl Router for CallRouter {
    /// The dialed number names the organization; only that organization's inbound trunks
    /// whose networks hold the source may admit the call. A trunk without credentials
    /// admits it outright; with credentials, the INVITE must prove the password of the
    /// username it gives (digest). A number no one holds is answered 404 to a source some
    /// trunk admits (a carrier sending to a number not here), 403 to anyone else.
    fn admit(&self, arrival: &Arrival<'_>) -> Admission {
        let ip = arrival.source.ip();
        if loopback::is_line(ip, arrival.username) {
            return Admission::Digest {
                realm: REALM.to_owned(),
                password: Some(self.loopback_password.to_string()),
                trunk: Some(loopback::TRUNK.to_owned()),
            };
        }
        let snapshot = self.routing.current();
        let number = E164::parse(arrival.dialed).ok();
        let Some(number) = number.as_ref().and_then(|number| snapshot.number(number)) else {
            return if snapshot.inbound_trunks(ip).next().is_some() {
                Admission::Accept { trunk: None }
            } else {
                Admission::Deny
            };
        };
        let mut challenged = None;
        for entry in snapshot.inbound_trunks_of(number.org, ip) {
            let trunk = &entry.trunk;
            if trunk.username.is_none() {
                return Admission::Accept { trunk: Some(trunk.id.to_string()) };
            }
            // Among trunks with credentials, the one whose username the INVITE gives.
            if challenged.is_none() || trunk.username.as_deref() == arrival.username {
                let password = (trunk.username.as_deref() == arrival.username)
                    .then(|| entry.password.clone())
                    .flatten();
                challenged = Some((trunk.id, password));
            }
        }
        match challenged {
            Some((trunk, password)) => Admission::Digest {
                realm: REALM.to_owned(),
                password,
                trunk: Some(trunk.to_string()),
            },
            None => Admission::Deny,
        }
    }

    /// Not while call records are too far behind: a call taken now could not be
    /// recorded in time, and its changes would queue without bound.
    fn accepting(&self) -> bool {
        let left = self.headroom.left();
        if !left {
            metrics::counter!(REFUSED_RECORDS_BEHIND).increment(1);
        }
        left
    }

    fn knows(&self, source: std::net::SocketAddr) -> bool {
        self.routing.current().inbound_trunks(source.ip()).next().is_some()
    }

    async fn route(&self, call: &IncomingCall) -> Decision {
        let snapshot = self.routing.current();
        let Some((number, trunk_id)) = admitted_number(&snapshot, call) else {
            tracing::info!(dialed = %call.dialed, source = %call.source.addr, "a call to a number not held here");
            return Decision::Reject { status: 404, reason: "Not Found".into() };
        };
        Routing1 { router: self, snapshot: &snapshot, call, number, trunk_id }.route().await
    }
}

/// The number dialed and the trunk of its organization that admitted the call (the
/// snapshot may have changed since: both must still be there and agree); no trunk for
/// the loopback line.
fn admitted_number<'s>(
    snapshot: &'s Snapshot,
    call: &IncomingCall,
) -> Option<(&'s Owned<Number>, Option<Uuid>)> {
    let number = snapshot.number(&E164::parse(&call.dialed).ok()?)?;
    let trunk = call.trunk.as_deref()?;
    if trunk == loopback::TRUNK {
        return Some((number, None));
    }
    let trunk_id: Uuid = trunk.parse().ok()?;
    let trunk = snapshot.trunks.get(&trunk_id)?;
    (trunk.org == number.org).then_some((number, Some(trunk_id)))
}

/// One call being routed.
struct Routing1<'a> {
    router: &'a CallRouter,
    snapshot: &'a Snapshot,
    call: &'a IncomingCall,
    number: &'a Owned<Number>,
    trunk_id: Option<Uuid>,
}

impl Routing1<'_> {
    /// Screening → the auction → ranking → dialling: each step may end the call, and
    /// what it decided goes to the call's record.
    async fn route(self) -> Decision {
        let now = Utc::now();
        let number = &self.number.object;
        let campaign = self.snapshot.campaigns.get(&number.campaign_id).map(|c| &c.object);
        let Some(campaign) = campaign else {
            return Decision::Reject { status: 404, reason: "Not Found".into() };
        };
        let publisher =
            number.publisher_id.and_then(|id| self.snapshot.publishers.get(&id)).map(|p| &p.object);
        let caller = caller::identify(self.call.caller.as_deref(), header(self.call, "Privacy"));
        let (mut row, attributes) = self.open(campaign, publisher, &caller, now);
        let mut decided = Decided {
            edge_call: self.call.id,
            call: row.id,
            refused: None,
            duplicate: false,
            bids: Vec::new(),
            events: Vec::new(),
            legs: Vec::new(),
        };
        let previous_target = match self.screen(campaign, &caller, &mut row, &mut decided, now) {
            Ok(previous_target) => previous_target,
            Err(refusal) => return self.refuse(decided, row.duplicate, refusal),
        };

        let started = Instant::now();
        let tree = self.snapshot.ring_trees.get(&campaign.id).map_or(&[][..], Vec::as_slice);
        let auctioneer = self.router.auctioneer();
        let Auction { mut bids, eligible, pinged } =
            auction::run(&auctioneer, self.snapshot, tree, &attributes, now).await;
        let auction_ms = started.elapsed().as_secs_f64() * 1000.0;
        let ranked = ranked(campaign, eligible, &mut bids, previous_target);
        let destinations = self.dial(ranked, &mut bids, &mut decided, now).await;
        decided.events.push(Event::now(
            "auction",
            json!({
                "ring_tree": tree.len(),
                "pinged": pinged,
                "candidates": destinations.len(),
                "ms": (auction_ms * 1000.0).round() / 1000.0,
            }),
        ));
        decided.bids = bids;
        if destinations.is_empty() {
            return self.refuse(decided, row.duplicate, Refusal::NoBuyer);
        }
        decided.duplicate = row.duplicate;
        self.router.recorder.decided(decided);
        Decision::Connect(destinations)
    }

    /// Puts the call on record (and in the live view) before anything can hold it up:
    /// its row, and its attributes as pings, templates and conditions read them.
    fn open(
        &self,
        campaign: &Campaign,
        publisher: Option<&Publisher>,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> (CallRow, ping::Call) {
        let number = &self.number.object;
        let id = Uuid::now_v7();
        let mut attributes = attributes(id, caller, number, publisher.map(|p| p.id));
        if number.pool_id.is_some()
            && let Some(lease) = self.router.leases.attribution(number.id, now)
        {
            attributes.tags = dni::tags::of_call(&lease);
        }
        let row = CallRow {
            id,
            org: self.number.org,
            node_id: self.router.node_id,
            campaign_id: campaign.id,
            publisher_id: publisher.map(|p| p.id),
            number_id: Some(number.id),
            inbound_trunk_id: self.trunk_id,
            buyer_id: None,
            target_id: None,
            caller: caller.number.as_ref().map(|n| n.as_str().to_owned()),
            caller_anonymous: caller.anonymous,
            dialed: number.number.as_str().to_owned(),
            sip_call_id: self.call.call_id.clone(),
            status: Status::Ringing,
            end_reason: None,
            sip_status: None,
            started_at: now,
            answered_at: None,
            ended_at: None,
            ring_ms: None,
            talk_ms: None,
            duplicate: false,
            bid_cents: None,
            buffer_seconds: None,
            converted: false,
            revenue_cents: 0,
            payout_cents: 0,
            tags: tags(&attributes, caller),
        };
        self.router.recorder.opened(Opened {
            edge_call: self.call.id,
            row: row.clone(),
            payout: PayoutRule {
                payout: publisher.map(|p| p.payout),
                buffer_seconds: publisher
                    .and_then(|p| p.conversion_buffer_seconds)
                    .unwrap_or(campaign.conversion_buffer_seconds),
                pays_duplicates: publisher.is_some_and(|p| p.pay_duplicates),
            },
            webhook_events: self.snapshot.webhook_events(self.number.org),
        });
        (row, attributes)
    }

    /// Whether the call may be sold at all: campaign and number live, the bill paid, the
    /// caller neither blocked nor withheld (when the campaign minds), nor a duplicate
    /// the campaign refuses. `Ok` gives the target a repeat caller reached last time.
    fn screen(
        &self,
        campaign: &Campaign,
        caller: &Caller,
        row: &mut CallRow,
        decided: &mut Decided,
        now: DateTime<Utc>,
    ) -> Result<Option<Uuid>, Refusal> {
        let org = self.number.org;
        if campaign.status != Active::Active || self.number.object.status != Active::Active {
            return Err(Refusal::Paused);
        }
        if self.router.billing.blocks(org, now).is_some() {
            return Err(Refusal::PastDue);
        }
        if let Some(number) = &row.caller
            && self.snapshot.blocked.get(&(org, number.clone())) == Some(&Active::Active)
        {
            return Err(Refusal::Blocked);
        }
        if caller.anonymous && campaign.reject_anonymous {
            return Err(Refusal::Withheld);
        }
        let mut previous_target = None;
        if let Some(number) = &row.caller {
            let window = chrono::Duration::hours(campaign.duplicate_window_hours);
            let (duplicate, previous) = self.router.recent.note(campaign.id, number, now, window);
            row.duplicate = duplicate;
            previous_target = previous;
        }
        decided.events.push(Event::now(
            "screened",
            json!({"caller": row.caller, "anonymous": caller.anonymous, "duplicate": row.duplicate}),
        ));
        if row.duplicate && campaign.reject_duplicates {
            return Err(Refusal::Duplicate);
        }
        Ok(previous_target)
    }

    /// Ends the call with `refusal`, on its record and to the caller.
    fn refuse(&self, mut decided: Decided, duplicate: bool, refusal: Refusal) -> Decision {
        let (sip, why) = (refusal.sip_status(), refusal.reason());
        decided.events.push(Event::now("refused", json!({"reason": why, "sip_status": sip})));
        decided.duplicate = duplicate;
        decided.refused = Some((refusal.status(), why.to_owned()));
        self.router.recorder.decided(decided);
        Decision::Reject { status: sip, reason: reason_phrase(sip).into() }
    }

    /// The ranked candidates that can be reached and claimed, as the edge's destinations
    /// in order; each one's leg goes into `decided`, and why the others cannot be rung
    /// into their bids.
    async fn dial(
        &self,
        ranked: Vec<Candidate<Eligible<'_>>>,
        bids: &mut [BidRow],
        decided: &mut Decided,
        now: DateTime<Utc>,
    ) -> Vec<Destination> {
        // Where each candidate is on the wire, resolved together.
        let places = futures::future::join_all(
            ranked
                .iter()
                .map(|c| self.destination(c.target.target, c.target.destination.as_deref())),
        )
        .await;
        let mut dialable = Vec::new();
        for (candidate, place) in ranked.into_iter().zip(places) {
            let e = candidate.target;
            match place {
                Ok(destination) => dialable.push((e, destination)),
                Err(error) => {
                    bids[e.bid].outcome = Outcome::Ineligible;
                    bids[e.bid].reason = Some(format!("cannot be dialed: {error}"));
                }
            }
        }
        // The claims, then no await until the recorder has them: a caller hanging up
        // stops this task only at an await.
        let wanted: Vec<&Target> = dialable.iter().map(|(e, _)| e.target).collect();
        let claims = self.router.counters.claim(&wanted, decided.call, now);
        let mut destinations = Vec::new();
        for ((e, destination), claim) in dialable.into_iter().zip(claims) {
            if let Err(full) = claim {
                bids[e.bid].outcome = Outcome::Ineligible;
                bids[e.bid].reason = Some(full.to_string());
                continue;
            }
            bids[e.bid].rank = Some(destinations.len() as i64);
            destinations.push(destination);
            decided.legs.push(Leg {
                target: e.target.clone(),
                bid: e.bid,
                bid_cents: e.bid_cents,
                buffer_seconds: e.buffer_seconds,
            });
        }
        destinations
    }

    /// Where a leg to `target` goes: the bid's destination when it gave one.
    async fn destination(
        &self,
        target: &Target,
        from_bid: Option<&str>,
    ) -> Result<Destination, dial::DialError> {
        let ring_timeout = Duration::from_secs(u64::from(target.ring_timeout_seconds));
        let destination = match from_bid.map(TargetDestination::parse) {
            Some(Ok(destination)) => destination,
            Some(Err(_)) => {
                return Err(dial::DialError::BadUri(from_bid.unwrap_or_default().to_owned()));
            }
            None => target.destination.clone(),
        };
        match destination {
            TargetDestination::Sip(uri) => {
                dial::to_uri(&uri, ring_timeout, self.router.allow_private).await
            }
            TargetDestination::Phone(number) => {
                let trunk = target
                    .outbound_trunk_id
                    .and_then(|id| self.snapshot.trunks.get(&id))
                    .filter(|trunk| trunk.org == self.number.org)
                    .map(|trunk| &trunk.object);
                dial::via_trunk(&number, trunk, ring_timeout, self.router.allow_private).await
            }
        }
    }
}

/// The auction's eligible targets in the order they are rung: ranked by offer above the
/// campaign's floor (those under it marked so in their bids), a repeat caller's previous
/// target first when the campaign says so.
fn ranked<'s>(
    campaign: &Campaign,
    eligible: Vec<Eligible<'s>>,
    bids: &mut [BidRow],
    previous_target: Option<Uuid>,
) -> Vec<Candidate<Eligible<'s>>> {
    let candidates = eligible
        .into_iter()
        .map(|e| Candidate {
            bid_cents: e.bid_cents,
            priority: e.entry_priority,
            weight: e.weight,
            target: e,
        })
        .collect::<Vec<_>>();
    let offered: Vec<usize> = candidates.iter().map(|c| c.target.bid).collect();
    let mut ranked = rank::rank(candidates, campaign.floor_cents, &mut rand::rng());
    for bid in offered {
        if !ranked.iter().any(|c| c.target.bid == bid) {
            bids[bid].outcome = Outcome::BelowFloor;
            bids[bid].reason = Some(format!("under the floor of {} cents", campaign.floor_cents));
        }
    }
    if campaign.repeat_caller_same_target
        && let Some(previous) = previous_target
        && let Some(at) = ranked.iter().position(|c| c.target.target.id == previous)
    {
        let first = ranked.remove(at);
        ranked.insert(0, first);
        bids[ranked[0].target.bid].reason = Some("the caller's previous target".into());
    }
    ranked
}

/// Why a call the router knows is not connected: what the record says and the SIP
/// status the caller gets, in one place.
#[derive(Clone, Copy, Debug)]
enum Refusal {
    Paused,
    PastDue,
    Blocked,
    Withheld,
    Duplicate,
    NoBuyer,
}

impl Refusal {
    fn sip_status(self) -> u16 {
        match self {
            Self::Paused | Self::NoBuyer => 480,
            Self::PastDue => 402,
            Self::Blocked | Self::Withheld => 403,
            Self::Duplicate => 486,
        }
    }

    fn status(self) -> Status {
        match self {
            Self::NoBuyer => Status::Failed,
            Self::Paused | Self::PastDue | Self::Blocked | Self::Withheld | Self::Duplicate => {
                Status::Rejected
            }
        }
    }

    fn reason(self) -> &'static str {
        match self {
            Self::Paused => "the campaign or number is paused",
            Self::PastDue => "the organization's bill is past due",
            Self::Blocked => "the caller is blocked",
            Self::Withheld => "the caller withheld their number",
            Self::Duplicate => "duplicate caller",
            Self::NoBuyer => "no buyer available",
        }
    }
}

/// The value of the INVITE's header `name`, if it has one.
fn header<'c>(call: &'c IncomingCall, name: &str) -> Option<&'c str> {
    call.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// The call as pings, templates and conditions read it.
fn attributes(id: Uuid, caller: &Caller, number: &Number, publisher: Option<Uuid>) -> ping::Call {
    ping::Call {
        id: id.to_string(),
        caller: caller.number.as_ref().map(|n| n.as_str().to_owned()).unwrap_or_default(),
        area_code: caller.area.map(|a| a.code.to_string()).unwrap_or_default(),
        state: caller.area.and_then(|a| a.region).unwrap_or_default().to_owned(),
        dialed: number.number.as_str().to_owned(),
        campaign_id: number.campaign_id.to_string(),
        publisher_id: publisher.map(|p| p.to_string()).unwrap_or_default(),
        tags: BTreeMap::new(),
    }
}

/// What the record keeps of the call's attributes.
fn tags(attributes: &ping::Call, caller: &Caller) -> BTreeMap<String, String> {
    let mut tags: BTreeMap<String, String> =
        attributes.tags.iter().map(|(k, v)| (format!("tag.{k}"), v.clone())).collect();
    let mut put = |key: &str, value: &str| {
        if !value.is_empty() {
            tags.insert(key.to_owned(), value.to_owned());
        }
    };
    put("caller.number", &attributes.caller);
    put("caller.area_code", &attributes.area_code);
    put("caller.state", &attributes.state);
    if let Some(area) = caller.area {
        put("caller.country", area.country);
        if let Some(zone) = area.time_zone {
            put("caller.time_zone", zone.name());
        }
    }
    tags
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        486 => "Busy Here",
        _ => "Temporarily Unavailable",
    }
}
