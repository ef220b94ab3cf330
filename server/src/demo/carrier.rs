//! The demo's carrier: callers dialing the demo's tracking numbers through the real SIP
//! edge, arriving at random (a Poisson process) at the rate asked for. Calls to the DNI
//! campaign first visit its website: the number they dial is the one their visit was
//! leased, so the call carries the visit's tags.

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use rand::{Rng, SeedableRng, rngs::StdRng};
use uuid::Uuid;

use crate::{
    accounts::OrgId,
    dni::book::{Book, Visit},
    routing::{loopback::Line, snapshot::Routing},
};

/// Callers' area codes, weighted toward the large metros by the draw.
const AREAS: [u16; 12] = [212, 213, 305, 312, 404, 415, 512, 602, 617, 702, 713, 720];
/// Where the DNI campaign's visitors come from (utm_source, utm_medium).
const SOURCES: [(&str, &str); 4] =
    [("google", "cpc"), ("facebook", "paid_social"), ("bing", "cpc"), ("newsletter", "email")];

pub struct Carrier {
    pub org: OrgId,
    pub routing: Routing,
    /// Held weakly: at shutdown the lease book's writer waits for every holder to let go.
    pub book: Weak<Book>,
    pub line: Line,
    pub calls_per_minute: u32,
    pub seed: Option<u64>,
    /// The campaign whose calls come through its DNI pool.
    pub dni_campaign: Option<Uuid>,
}

impl Carrier {
    /// Places calls until the task is stopped.
    pub async fn run(self) {
        let carrier = Arc::new(self);
        let mut rng = carrier.seed.map_or_else(StdRng::from_os_rng, StdRng::seed_from_u64);
        let mean_gap = 60.0 / f64::from(carrier.calls_per_minute.max(1));
        for arrival in 0u64.. {
            // Exponential gaps between arrivals: a Poisson process.
            let u: f64 = rng.random_range(f64::EPSILON..1.0);
            tokio::time::sleep(Duration::from_secs_f64(-u.ln() * mean_gap)).await;
            // Every fourth caller comes from the DNI campaign's website.
            let Some(number) = carrier.pick_number(arrival % 4 == 1, &mut rng) else {
                tracing::warn!("the demo organization has no active tracking number to call");
                continue;
            };
            let area = AREAS[rng.random_range(0..AREAS.len())];
            let caller =
                format!("+1{area}{}{:04}", rng.random_range(201..999), rng.random_range(0..10_000));
            // Callers hang up after ten seconds to four minutes, most within two.
            let talk = Duration::from_secs(rng.random_range(10..40) * rng.random_range(1..=6));
            let carrier = carrier.clone();
            tokio::spawn(async move {
                let ring = Duration::from_secs(45);
                let call_id = format!("demo-{}@bidline.invalid", Uuid::now_v7());
                if let Err(error) = carrier.line.call(&number, &caller, &call_id, ring, talk).await
                {
                    tracing::debug!(%error, "a demo call failed on the wire");
                }
            });
        }
    }

    /// A tracking number of the demo organization: one leased to a website visit for the
    /// DNI campaign, or one of the others, the first few busier than the rest.
    fn pick_number(&self, visit: bool, rng: &mut StdRng) -> Option<String> {
        let snapshot = self.routing.current();
        if let Some(campaign) = self.dni_campaign
            && visit
            && let Some(entry) = snapshot.campaigns.get(&campaign)
        {
            let (source, medium) = SOURCES[rng.random_range(0..SOURCES.len())];
            let tags = BTreeMap::from([
                ("utm_source".to_owned(), source.to_owned()),
                ("utm_medium".to_owned(), medium.to_owned()),
                ("utm_campaign".to_owned(), "spring_sale".to_owned()),
                ("landing_page".to_owned(), "https://www.example.com/quote".to_owned()),
            ]);
            let visit = Visit { visitor_id: None, tags, ip: None, client: None };
            let book = self.book.upgrade()?;
            let lease = book.lease(&snapshot, self.org, &entry.object, visit, chrono::Utc::now());
            if let Some(held) = lease.held {
                return Some(held.number.as_str().to_owned());
            }
        }
        let mut numbers: Vec<&str> = snapshot
            .numbers
            .values()
            .filter(|n| n.org == self.org && n.object.pool_id.is_none())
            .filter(|n| n.object.status == crate::network::Status::Active)
            .map(|n| n.object.number.as_str())
            .collect();
        numbers.sort_unstable();
        if numbers.is_empty() {
            return None;
        }
        let skewed = rng.random_range(0..numbers.len()).min(rng.random_range(0..numbers.len()));
        Some(numbers[skewed].to_owned())
    }
}
