//! The routing hot path's first step: from the dialed number to its campaign, in the
//! snapshot in force. `cargo bench -p bidline --bench snapshot`.
//!
//! The snapshot holds 100 000 numbers of 100 organizations; lookups of a number that is
//! there and of one that is not are measured, each after taking the current snapshot
//! (one atomic load), as a call does.

use std::hint::black_box;

use bidline::{
    accounts::OrgId,
    e164::E164,
    network::{Status, numbers::Number},
    routing::snapshot::{Owned, Routing, Snapshot},
};
use chrono::Utc;
use criterion::{Criterion, criterion_group, criterion_main};
use uuid::Uuid;

const NUMBERS: u64 = 100_000;
const ORGS: u64 = 100;

fn number(n: u64) -> E164 {
    E164::parse(&format!("+1555{:07}", n)).expect("a number")
}

fn snapshot() -> Snapshot {
    let orgs: Vec<OrgId> = (0..ORGS).map(|_| OrgId(Uuid::now_v7())).collect();
    let mut snapshot = Snapshot { version: 1, ..Snapshot::default() };
    for n in 0..NUMBERS {
        let object = Number {
            id: Uuid::now_v7(),
            number: number(n),
            campaign_id: Uuid::now_v7(),
            publisher_id: None,
            pool_id: None,
            provider: "bench".into(),
            status: Status::Active,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let owned = Owned { org: orgs[(n % ORGS) as usize], object };
        snapshot.numbers.insert(owned.object.number.clone(), owned);
    }
    snapshot
}

fn lookups(c: &mut Criterion) {
    let routing = Routing::new(snapshot());
    let present = number(NUMBERS / 2);
    let absent = number(NUMBERS + 1);
    c.bench_function("number lookup, present (100k numbers)", |b| {
        b.iter(|| routing.current().number(black_box(&present)).is_some())
    });
    c.bench_function("number lookup, absent (100k numbers)", |b| {
        b.iter(|| routing.current().number(black_box(&absent)).is_some())
    });
}

criterion_group!(benches, lookups);
criterion_main!(benches);
