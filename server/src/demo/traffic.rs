//! One demo call, as it ended: who called which number, which buyers were pinged and
//! bid, who answered, for how long, and what it earned. The mix (answer, duplicate and
//! conversion rates, talk times, bids) is what a pay-per-call network typically sees.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, rngs::StdRng};
use uuid::Uuid;

use super::world::World;
use crate::{
    accounts::OrgId,
    caller,
    calls::{BidRow, CallRow, Outcome, Status},
};

/// Callers' area codes, weighted toward the large metros.
const CALLER_AREAS: [u16; 16] =
    [212, 213, 214, 305, 312, 404, 415, 480, 512, 602, 617, 702, 713, 720, 786, 818];
const SOURCES: [(&str, &str); 5] = [
    ("google", "cpc"),
    ("google", "organic"),
    ("facebook", "paid_social"),
    ("bing", "cpc"),
    ("tv", "broadcast"),
];

/// An ended call started at `started_at`, and its auction.
pub fn call(
    rng: &mut StdRng,
    world: &World,
    org: OrgId,
    node: Uuid,
    started_at: DateTime<Utc>,
) -> (CallRow, Vec<BidRow>) {
    let (campaign, number, publisher) = if world.numbers.is_empty() {
        let publisher = (!world.publishers.is_empty())
            .then(|| world.publishers[rng.random_range(0..world.publishers.len())]);
        (&world.campaigns[rng.random_range(0..world.campaigns.len())], None, publisher)
    } else {
        // A few numbers carry most of the traffic.
        let n = skewed(rng, world.numbers.len());
        let number = &world.numbers[n];
        (&world.campaigns[number.campaign], Some(number), number.publisher_id)
    };
    let area = CALLER_AREAS[skewed(rng, CALLER_AREAS.len())];
    let caller_number =
        format!("+1{area}{}{:04}", rng.random_range(201..999), rng.random_range(0..10_000));
    let identified = caller::identify(Some(&caller_number), None);
    let mut tags = BTreeMap::from([("caller.number".to_owned(), caller_number.clone())]);
    tags.insert("caller.area_code".into(), area.to_string());
    if let Some(area) = identified.area {
        tags.insert("caller.country".into(), area.country.into());
        if let Some(region) = area.region {
            tags.insert("caller.state".into(), region.into());
        }
        if let Some(zone) = area.time_zone {
            tags.insert("caller.time_zone".into(), zone.name().into());
        }
    }
    let (source, medium) = SOURCES[skewed(rng, SOURCES.len())];
    tags.insert("tag.utm_source".into(), source.into());
    tags.insert("tag.utm_medium".into(), medium.into());

    let duplicate = rng.random_bool(0.07);
    let draw: f64 = rng.random();
    let status = match draw {
        d if d < 0.04 => Status::Rejected,
        d if d < 0.12 => Status::Abandoned,
        d if d < 0.22 => Status::Failed,
        _ => Status::Completed,
    };
    let mut bids = Vec::new();
    let mut best: Option<(usize, i64)> = None;
    if status != Status::Rejected {
        for (i, &(target, buyer)) in campaign.targets.iter().enumerate() {
            let mut bid = BidRow::ineligible(target, buyer, String::new());
            if rng.random_bool(0.15) {
                bid.reason = Some("outside its schedule".into());
                bids.push(bid);
                continue;
            }
            bid.pinged_at = Some(started_at);
            bid.latency_ms = Some(rng.random_range(20..400));
            bid.http_status = Some(200);
            if rng.random_bool(0.8) {
                let cents = campaign.revenue_cents * rng.random_range(60..=140) / 100;
                bid.bid_cents = Some(cents);
                bid.accepted = Some(true);
                bid.outcome = Outcome::Ranked;
                if best.is_none_or(|(_, b)| cents > b) {
                    best = Some((i, cents));
                }
            } else {
                bid.accepted = Some(false);
                bid.outcome = Outcome::NoBid;
            }
            bids.push(bid);
        }
    }
    let status = match (status, best) {
        (Status::Completed | Status::Failed, None) => Status::Failed,
        (status, _) => status,
    };
    let ring_ms = rng.random_range(2_000..20_000);
    let answered = status == Status::Completed;
    // Talk times are long-tailed: many short calls, a few very long ones.
    let talk_ms: i64 = if answered {
        let u: f64 = rng.random_range(0.0001..1.0);
        ((-u.ln() * 170_000.0) as i64).clamp(3_000, 3_600_000)
    } else {
        0
    };
    let (target, buyer, bid_cents) = match best {
        Some((i, cents)) if answered => {
            let winner = &mut bids[i];
            winner.outcome = Outcome::Connected;
            winner.won = true;
            winner.rank = Some(0);
            (Some(winner.target_id), Some(winner.buyer_id), Some(cents))
        }
        Some((i, _)) if status == Status::Failed => {
            bids[i].outcome = Outcome::NoAnswer;
            bids[i].rank = Some(0);
            (None, None, None)
        }
        _ => (None, None, None),
    };
    let converted = answered && !duplicate && talk_ms >= 90_000 && rng.random_bool(0.85);
    let revenue_cents = if converted { bid_cents.unwrap_or(0) } else { 0 };
    let payout_cents = if converted { revenue_cents * rng.random_range(40..=60) / 100 } else { 0 };
    let answered_at = answered.then(|| started_at + Duration::milliseconds(ring_ms));
    let ended_at = started_at + Duration::milliseconds(ring_ms + talk_ms);
    let end_reason = match status {
        Status::Rejected => "no buyer could take the call",
        Status::Abandoned => "the caller hung up while it rang",
        Status::Failed => "no buyer answered",
        _ if rng.random_bool(0.5) => "the caller hung up",
        _ => "the buyer hung up",
    };
    // Ids are time-ordered (v7) as of when the call started, as a live call's are.
    let id = Uuid::new_v7(uuid::Timestamp::from_unix(
        uuid::NoContext,
        started_at.timestamp() as u64,
        started_at.timestamp_subsec_nanos(),
    ));
    let row = CallRow {
        id,
        org,
        node_id: node,
        campaign_id: campaign.id,
        publisher_id: publisher,
        number_id: number.map(|n| n.id),
        inbound_trunk_id: None,
        buyer_id: buyer,
        target_id: target,
        caller: Some(caller_number),
        caller_anonymous: false,
        dialed: number.map_or_else(|| "+18005550100".to_owned(), |n| n.number.clone()),
        sip_call_id: format!("{id}@demo.invalid"),
        status,
        end_reason: Some(end_reason.into()),
        sip_status: match status {
            Status::Rejected => Some(503),
            Status::Abandoned => Some(487),
            Status::Failed => Some(480),
            _ => None,
        },
        started_at,
        answered_at,
        ended_at: Some(ended_at),
        ring_ms: Some(ring_ms),
        talk_ms: answered.then_some(talk_ms),
        duplicate,
        bid_cents,
        buffer_seconds: answered.then_some(90),
        converted,
        revenue_cents,
        payout_cents,
        tags,
    };
    (row, bids)
}

/// An index below `n`, the first ones drawn more often (about 1/(i+1)).
fn skewed(rng: &mut StdRng, n: usize) -> usize {
    let harmonic: f64 = (1..=n).map(|i| 1.0 / i as f64).sum();
    let mut left = rng.random_range(0.0..harmonic);
    for i in 0..n {
        left -= 1.0 / (i + 1) as f64;
        if left < 0.0 {
            return i;
        }
    }
    n - 1
}
