//! The ping shield: a buyer's answer that says how long it stands (`expires_in`) is
//! reused for an identical ping — same target, same caller, same call attributes —
//! until then, instead of pinging the buyer again. Repeat callers and retried calls
//! then cost the buyer nothing and the caller no wait.

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bidline_model::ping::PingReport;
use uuid::Uuid;

use crate::ping::Call;

/// Answers kept at most; past it the expired go, then the oldest.
const KEPT: usize = 100_000;

#[derive(Debug, Default)]
pub struct Shield {
    answers: Mutex<HashMap<u64, (Instant, PingReport)>>,
}

/// What makes two pings to `target` identical: everything they say but the call's id.
fn key(target: Uuid, call: &Call) -> u64 {
    let mut hasher = DefaultHasher::new();
    (target, &call.caller, &call.area_code, &call.state, &call.dialed).hash(&mut hasher);
    (&call.campaign_id, &call.publisher_id, &call.tags).hash(&mut hasher);
    hasher.finish()
}

impl Shield {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, (Instant, PingReport)>> {
        self.answers.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The standing answer of `target` to this call's ping, if there is one.
    pub fn get(&self, target: Uuid, call: &Call, now: Instant) -> Option<PingReport> {
        let key = key(target, call);
        let mut answers = self.lock();
        match answers.get(&key) {
            Some((until, report)) if *until > now => Some(report.clone()),
            Some(_) => {
                answers.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Keeps `report` for identical pings if its bid says how long it stands.
    pub fn keep(&self, target: Uuid, call: &Call, report: &PingReport, now: Instant) {
        let Some(seconds) = report.bid.as_ref().and_then(|bid| bid.expires_in_seconds) else {
            return;
        };
        let until = now + Duration::from_secs(u64::try_from(seconds).unwrap_or(0));
        let mut answers = self.lock();
        if answers.len() >= KEPT {
            answers.retain(|_, (until, _)| *until > now);
            if answers.len() >= KEPT
                && let Some(oldest) =
                    answers.iter().min_by_key(|(_, (until, _))| *until).map(|(k, _)| *k)
            {
                answers.remove(&oldest);
            }
        }
        answers.insert(key(target, call), (until, report.clone()));
    }
}

#[cfg(test)]
mod tests {
    use bidline_model::ping::{ParsedBid, PingRequest};

    use super::*;

    fn report(expires_in_seconds: Option<i64>) -> PingReport {
        PingReport {
            request: PingRequest {
                method: "POST".into(),
                url: "https://buyer.example/ping".into(),
                headers: Vec::new(),
                body: None,
            },
            response: None,
            latency_ms: 40,
            bid: Some(ParsedBid {
                accepted: true,
                bid_cents: Some(2500),
                destination: None,
                min_duration_seconds: None,
                bid_id: Some("b-1".into()),
                expires_in_seconds,
            }),
            error: None,
        }
    }

    #[test]
    fn a_standing_bid_answers_identical_pings_until_it_expires() {
        let (shield, target, now) = (Shield::default(), Uuid::now_v7(), Instant::now());
        let call = Call::sample(Some("c-1".into()));
        shield.keep(target, &call, &report(Some(60)), now);
        // Another call from the same caller, same attributes: the same bid.
        let again = Call { id: "another-call".into(), ..call.clone() };
        assert_eq!(
            shield.get(target, &again, now + Duration::from_secs(59)),
            Some(report(Some(60)))
        );
        assert_eq!(shield.get(target, &again, now + Duration::from_secs(60)), None);
        // Another caller, or another target, is asked.
        let other = Call { caller: "+13125550188".into(), ..call.clone() };
        shield.keep(target, &call, &report(Some(60)), now);
        assert_eq!(shield.get(target, &other, now), None);
        assert_eq!(shield.get(Uuid::now_v7(), &call, now), None);
        // A bid that does not say how long it stands is not kept.
        let (quiet, plain) = (Shield::default(), report(None));
        quiet.keep(target, &call, &plain, now);
        assert_eq!(quiet.get(target, &call, now), None);
    }
}
