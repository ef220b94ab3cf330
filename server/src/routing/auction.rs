//! One call's auction: which ring-tree targets may take it (and why not), and what each
//! eligible one offers — its static revenue, or its buyer's answer to a ping, all pinged
//! at once, or a standing answer the ping shield kept. Every target gets a row in the
//! call's bids, eligible or not. A bid that would send the call somewhere its target's
//! `dynamic_destinations` does not allow loses.

use std::time::{Duration, Instant};

use bidline_model::ping::PingReport;
use chrono::{DateTime, Utc};

use super::{fan_out, rules, shield::Shield, snapshot::Snapshot};
use crate::{
    calls::{BidRow, Outcome, counters::Counters},
    network::{
        Status as Active, ring_tree,
        targets::{Target, dynamic, revenue::Revenue},
    },
    ping::{self, Pinger},
};

/// A target that may take the call, with what it offers.
pub struct Eligible<'s> {
    pub target: &'s Target,
    pub entry_priority: i64,
    pub weight: i64,
    pub bid_cents: i64,
    pub buffer_seconds: i64,
    pub destination: Option<String>,
    pub bid: usize,
}

/// What the auction found: a row per ring-tree target, the eligible with their offers,
/// and how many buyers were pinged.
pub struct Auction<'s> {
    pub bids: Vec<BidRow>,
    pub eligible: Vec<Eligible<'s>>,
    pub pinged: usize,
}

/// What an auction needs of the node: its counts of caps and concurrency, its ping
/// shield, the pinger, and how long it waits for buyers.
pub struct Auctioneer<'a> {
    pub counters: &'a Counters,
    pub shield: &'a Shield,
    pub pinger: &'a Pinger,
    pub timeout: Duration,
}

pub async fn run<'s>(
    auctioneer: &Auctioneer<'_>,
    snapshot: &'s Snapshot,
    tree: &'s [ring_tree::Entry],
    attributes: &ping::Call,
    now: DateTime<Utc>,
) -> Auction<'s> {
    let mut bids = Vec::new();
    let mut eligible = Vec::new();
    let mut pings = Vec::new();
    // Answers in hand: from the pings, or standing ones the shield kept.
    let mut answered = Vec::new();
    let in_tree: Vec<&Target> = tree
        .iter()
        .filter_map(|entry| snapshot.targets.get(&entry.target_id))
        .map(|t| &t.object)
        .collect();
    auctioneer.counters.ready(&in_tree, now).await;
    let full = auctioneer.counters.full(&in_tree, now);
    for entry in tree {
        let Some(target) = snapshot.targets.get(&entry.target_id).map(|t| &t.object) else {
            continue;
        };
        let buyer = snapshot.buyers.get(&target.buyer_id).map(|b| &b.object);
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
            snapshot
                .rules
                .get(&target.id)
                .and_then(|rules| rules.iter().find(|rule| !rule.holds(attributes)))
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
                if let Some(standing) = auctioneer.shield.get(target.id, attributes, Instant::now())
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
                let pinger = auctioneer.pinger;
                let ping = async move { pinger.send(rtb, attributes).await };
                pings.push(((bid, target, entry.priority, entry.weight, rtb), ping));
            }
        }
    }
    let pinged = pings.len();
    for ((bid, target, priority, weight, rtb), report) in
        fan_out::collect(pings, auctioneer.timeout).await
    {
        match report {
            Some(report) => {
                auctioneer.shield.keep(target.id, attributes, &report, Instant::now());
                answered.push((bid, target, priority, weight, rtb, report));
            }
            None => {
                bids[bid].outcome = Outcome::Failed;
                bids[bid].reason = Some(format!(
                    "no answer within the auction's {} ms",
                    auctioneer.timeout.as_millis()
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
                row.destination = offer.destination.clone();
                if let Some(place) = &offer.destination
                    && !dynamic::allows(&target.dynamic_destinations, place)
                {
                    row.outcome = Outcome::Failed;
                    row.reason = Some("destination not allowed".into());
                    continue;
                }
                row.outcome = Outcome::Ranked;
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
    Auction { bids, eligible, pinged }
}

/// An accepted bid, as routing uses it.
struct Offer {
    cents: i64,
    destination: Option<String>,
    min_duration: Option<i64>,
}

/// The bid in a ping's report, or why there is none.
fn read_bid(report: &PingReport) -> Result<Offer, (Outcome, String)> {
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
