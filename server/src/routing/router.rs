//! The server's router: what the SIP edge asks for every call. It reads only the routing
//! snapshot and in-memory state (counters, recent callers); the only waits are the
//! buyers' pings and name resolution of destinations, both bounded.
//!
//! For one call: the dialed number gives the organization (one whose inbound trunk
//! admits the source), campaign and publisher; the caller is identified and screened
//! (blocked, withheld, duplicate); each ring-tree entry is checked (enabled, active,
//! schedule, caps and concurrency, conditions); RTB targets are pinged at once and
//! static ones bid their revenue; the candidates are ranked, claimed and turned into the
//! edge's ordered destinations. Everything decided goes to the call's record.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bidline_telephony::b2bua::{Admission, Decision, Destination, IncomingCall, Router};
use chrono::Utc;
use serde_json::json;
use uuid::Uuid;

use super::{
    counters::Counters,
    dial, fan_out,
    rank::{self, Candidate},
    recent::Recent,
    rules,
    shield::Shield,
    snapshot::{Owned, Routing, Snapshot},
};
use crate::{
    caller::{self, Caller},
    calls::{
        BidRow, CallRow, Event, Outcome, Status,
        recorder::{Decided, Leg, Opened, PayoutRule, Recorder},
    },
    e164::E164,
    network::{
        Status as Active,
        destination::Destination as TargetDestination,
        numbers::Number,
        targets::{Target, revenue::Revenue},
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
}

impl Router for CallRouter {
    fn admit(&self, source: SocketAddr, _username: Option<&str>) -> Admission {
        if self.routing.current().inbound_trunks(source.ip()).next().is_some() {
            Admission::Accept { trunk: None }
        } else {
            Admission::Deny
        }
    }

    async fn route(&self, call: &IncomingCall) -> Decision {
        let snapshot = self.routing.current();
        let Some((number, trunk_id)) = find_number(&snapshot, call) else {
            tracing::info!(dialed = %call.dialed, source = %call.source.addr, "a call to a number no admitting trunk's organization has");
            return Decision::Reject { status: 404, reason: "Not Found".into() };
        };
        Routing1 { router: self, snapshot: &snapshot, call, number, trunk_id }.route().await
    }
}

/// The number dialed, in an organization with an inbound trunk that admits the source.
fn find_number<'s>(
    snapshot: &'s Snapshot,
    call: &IncomingCall,
) -> Option<(&'s Owned<Number>, Uuid)> {
    let dialed = E164::parse(&call.dialed).ok()?;
    let trunks: Vec<_> = snapshot.inbound_trunks(call.source.addr.ip()).collect();
    snapshot.number(&dialed).iter().find_map(|number| {
        let trunk = trunks.iter().find(|trunk| trunk.org == number.org)?;
        Some((number, trunk.object.trunk.id))
    })
}

/// One call being routed.
struct Routing1<'a> {
    router: &'a CallRouter,
    snapshot: &'a Snapshot,
    call: &'a IncomingCall,
    number: &'a Owned<Number>,
    trunk_id: Uuid,
}

/// A target that may take the call, with what it offers.
struct Eligible<'s> {
    target: &'s Target,
    entry_priority: i64,
    weight: i64,
    bid_cents: i64,
    buffer_seconds: i64,
    destination: Option<String>,
    bid: usize,
}

impl Routing1<'_> {
    async fn route(self) -> Decision {
        let now = Utc::now();
        let org = self.number.org;
        let number = &self.number.object;
        let campaign = self.snapshot.campaigns.get(&number.campaign_id).map(|c| &c.object);
        let Some(campaign) = campaign else {
            return Decision::Reject { status: 404, reason: "Not Found".into() };
        };
        let publisher =
            number.publisher_id.and_then(|id| self.snapshot.publishers.get(&id)).map(|p| &p.object);
        let privacy = header(self.call, "Privacy");
        let caller = caller::identify(self.call.caller.as_deref(), privacy);
        let id = Uuid::now_v7();
        let attributes = attributes(id, &caller, number, publisher.map(|p| p.id));
        let mut row = CallRow {
            id,
            org,
            node_id: self.router.node_id,
            campaign_id: campaign.id,
            publisher_id: publisher.map(|p| p.id),
            number_id: Some(number.id),
            inbound_trunk_id: Some(self.trunk_id),
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
            tags: tags(&attributes, &caller),
        };
        // The call is on record (and in the live view) before anything can hold it up.
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
        });
        let mut decided = Decided {
            edge_call: self.call.id,
            call: id,
            ended: None,
            duplicate: false,
            bids: Vec::new(),
            events: Vec::new(),
            legs: Vec::new(),
        };

        // Screening.
        let refuse =
            |mut decided: Decided, mut row: CallRow, status: Status, sip: u16, why: &str| {
                row.status = status;
                row.end_reason = Some(why.to_owned());
                decided
                    .events
                    .push(Event::now("refused", json!({"reason": why, "sip_status": sip})));
                decided.duplicate = row.duplicate;
                decided.ended = Some(row);
                self.router.recorder.decided(decided);
                Decision::Reject { status: sip, reason: reason_phrase(sip).into() }
            };
        if campaign.status != Active::Active || number.status != Active::Active {
            return refuse(decided, row, Status::Rejected, 480, "the campaign or number is paused");
        }
        if let Some(number) = &row.caller
            && self.snapshot.blocked.get(&(org, number.clone())) == Some(&Active::Active)
        {
            return refuse(decided, row, Status::Rejected, 403, "the caller is blocked");
        }
        if caller.anonymous && campaign.reject_anonymous {
            return refuse(decided, row, Status::Rejected, 403, "the caller withheld their number");
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
            return refuse(decided, row, Status::Rejected, 486, "duplicate caller");
        }

        // Eligibility, then the auction.
        let started = Instant::now();
        let mut bids = Vec::new();
        let mut eligible = Vec::new();
        let mut pings = Vec::new();
        // Answers in hand: from the pings, or standing ones the shield kept.
        let mut answered = Vec::new();
        let tree = self.snapshot.ring_trees.get(&campaign.id).map_or(&[][..], Vec::as_slice);
        let in_tree: Vec<&Target> = tree
            .iter()
            .filter_map(|entry| self.snapshot.targets.get(&entry.target_id))
            .map(|t| &t.object)
            .collect();
        let full = self.router.counters.full(&in_tree, now).await;
        for entry in tree {
            let Some(target) = self.snapshot.targets.get(&entry.target_id).map(|t| &t.object)
            else {
                continue;
            };
            let buyer = self.snapshot.buyers.get(&target.buyer_id).map(|b| &b.object);
            let why_not = if !entry.enabled {
                Some("disabled in the ring tree".to_owned())
            } else if target.status != Active::Active {
                Some("the target is paused".to_owned())
            } else if buyer.is_none_or(|b| b.status != Active::Active) {
                Some("the buyer is paused".to_owned())
            } else if !rules::is_open(target.schedule.as_ref(), now) {
                Some("closed by its schedule".to_owned())
            } else if let Some(full) = full.get(&target.id) {
                Some(full.to_string())
            } else {
                self.snapshot
                    .rules
                    .get(&target.id)
                    .and_then(|rules| rules.iter().find(|rule| !rule.holds(&attributes)))
                    .map(|rule| format!("condition not met: {}", rule.describe()))
            };
            if let Some(why) = why_not {
                bids.push(BidRow::ineligible(target.id, target.buyer_id, why));
                continue;
            }
            let bid = bids.len();
            match &target.revenue {
                Revenue::Static { cents, buffer_seconds } => {
                    bids.push(BidRow {
                        bid_cents: Some(*cents),
                        accepted: Some(true),
                        outcome: Outcome::Ranked,
                        reason: None,
                        ..BidRow::ineligible(target.id, target.buyer_id, String::new())
                    });
                    eligible.push(Eligible {
                        target,
                        entry_priority: entry.priority,
                        weight: entry.weight,
                        bid_cents: *cents,
                        buffer_seconds: i64::from(*buffer_seconds),
                        destination: None,
                        bid,
                    });
                }
                Revenue::Rtb(rtb) => {
                    if let Some(standing) =
                        self.router.shield.get(target.id, &attributes, Instant::now())
                    {
                        bids.push(BidRow {
                            reused: true,
                            ..BidRow::ineligible(target.id, target.buyer_id, String::new())
                        });
                        answered.push((bid, target, entry.priority, entry.weight, rtb, standing));
                        continue;
                    }
                    bids.push(BidRow {
                        pinged_at: Some(Utc::now()),
                        ..BidRow::ineligible(target.id, target.buyer_id, String::new())
                    });
                    let pinger = &self.router.pinger;
                    let attributes = &attributes;
                    let ping = async move { pinger.send(rtb, attributes).await };
                    pings.push(((bid, target, entry.priority, entry.weight, rtb), ping));
                }
            }
        }
        let pinged = pings.len();
        for ((bid, target, priority, weight, rtb), report) in
            fan_out::collect(pings, self.router.tree_timeout).await
        {
            match report {
                Some(report) => {
                    self.router.shield.keep(target.id, &attributes, &report, Instant::now());
                    answered.push((bid, target, priority, weight, rtb, report));
                }
                None => {
                    bids[bid].outcome = Outcome::Failed;
                    bids[bid].reason = Some(format!(
                        "no answer within the auction's {} ms",
                        self.router.tree_timeout.as_millis()
                    ));
                }
            }
        }
        for (bid, target, priority, weight, rtb, report) in answered {
            let row = &mut bids[bid];
            if !row.reused {
                row.latency_ms = Some(report.latency_ms as i64);
                row.http_status = report.response.as_ref().map(|r| i64::from(r.status));
            }
            row.bid_id = report.bid.as_ref().and_then(|b| b.bid_id.clone());
            match read_bid(&report) {
                Err((outcome, reason)) => {
                    row.outcome = outcome;
                    row.reason = Some(reason);
                    if let Some(bid) = &report.bid {
                        row.bid_cents = bid.bid_cents;
                        row.accepted = Some(bid.accepted);
                    }
                }
                Ok(offer) => {
                    row.bid_cents = Some(offer.cents);
                    row.accepted = Some(true);
                    row.outcome = Outcome::Ranked;
                    row.destination = offer.destination.clone();
                    row.min_duration_seconds = offer.min_duration;
                    eligible.push(Eligible {
                        target,
                        entry_priority: priority,
                        weight,
                        bid_cents: offer.cents,
                        buffer_seconds: offer.min_duration.unwrap_or(i64::from(rtb.buffer_seconds)),
                        destination: offer.destination,
                        bid,
                    });
                }
            }
        }
        let auction_ms = started.elapsed().as_secs_f64() * 1000.0;

        // Ranking, then a claim on each candidate in order.
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
                bids[bid].reason =
                    Some(format!("under the floor of {} cents", campaign.floor_cents));
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
        let claims = self.router.counters.claim(&wanted, id, now).await;
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
            return refuse(decided, row, Status::Failed, 480, "no buyer available");
        }
        decided.duplicate = row.duplicate;
        self.router.recorder.decided(decided);
        Decision::Connect(destinations)
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
            TargetDestination::Sip(uri) => dial::to_uri(&uri, ring_timeout).await,
            TargetDestination::Phone(number) => {
                let trunk = target
                    .outbound_trunk_id
                    .and_then(|id| self.snapshot.trunks.get(&id))
                    .filter(|trunk| trunk.org == self.number.org)
                    .map(|trunk| &trunk.object);
                dial::via_trunk(&number, trunk, ring_timeout).await
            }
        }
    }
}

/// An accepted bid, as routing uses it.
struct Offer {
    cents: i64,
    destination: Option<String>,
    min_duration: Option<i64>,
}

/// The bid in a ping's report, or why there is none.
fn read_bid(report: &bidline_app::network::PingReport) -> Result<Offer, (Outcome, String)> {
    if let Some(response) = &report.response
        && !(200..300).contains(&response.status)
    {
        return Err((Outcome::Failed, format!("the buyer answered HTTP {}", response.status)));
    }
    if let Some(error) = &report.error {
        return Err((Outcome::Failed, error.clone()));
    }
    let Some(bid) = &report.bid else {
        return Err((Outcome::Failed, "no answer".into()));
    };
    match bid.bid_cents {
        _ if !bid.accepted => Err((Outcome::NoBid, "declined".into())),
        None => Err((Outcome::NoBid, "the answer has no bid".into())),
        Some(cents) if cents <= 0 => Err((Outcome::NoBid, "a bid of zero".into())),
        Some(cents) => Ok(Offer {
            cents,
            destination: bid.destination.clone(),
            min_duration: bid.min_duration_seconds.filter(|s| *s >= 0),
        }),
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
        403 => "Forbidden",
        404 => "Not Found",
        486 => "Busy Here",
        _ => "Temporarily Unavailable",
    }
}
