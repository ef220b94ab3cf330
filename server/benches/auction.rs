//! The auction's own cost: one call routed to a ring tree of 50 RTB targets, each buyer
//! answering its ping after the same fixed delay, on loopback. What is measured per call
//! is the **overhead**: from the moment the slowest buyer sent its answer to the moment
//! the router returned its decision (reading the 50 answers, ranking, claiming, building
//! the destinations). The second case is a tree of 50 static targets: the whole routing
//! decision, with no network. `cargo bench -p bidline --bench auction` prints p50, p99
//! and the maximum of each after criterion's own report.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::{Router, extract::Path, routing::post};
use bidline::{
    accounts::OrgId,
    calls::{
        counters::Counters,
        recent::Recent,
        recorder::Recorder,
        writer::{Limits, Writer},
    },
    dni::book::{Book, Discard},
    e164::E164,
    network::{
        buyers::Buyer, campaigns::Campaign, numbers::Number, resource::Resource, ring_tree,
        targets::Target, trunks::Trunk,
    },
    ping::Pinger,
    routing::{
        router::{CallRouter, TREE_TIMEOUT},
        snapshot::{Owned, Routing, Snapshot, TrunkEntry},
    },
};
use bidline_telephony::{
    b2bua::{Admission, Arrival, Decision, IncomingCall, Router as _},
    transaction::{Peer, Transport},
};
use criterion::{Criterion, criterion_group, criterion_main};
use serde_json::{Value, json};
use uuid::Uuid;

const TARGETS: usize = 50;
const BUYER_DELAY: Duration = Duration::from_millis(10);
const DIALED: &str = "+18005550100";

fn object<R: Resource>(input: Value) -> R {
    R::apply(None, serde_json::from_value(input).expect("an input")).expect("a valid object")
}

/// When the slowest buyer of the current auction sent its answer.
type LastAnswer = Arc<Mutex<Option<Instant>>>;

/// 50 buyers in one server on a thread of their own (as remote buyers are elsewhere):
/// `/ping/{n}` bids `100 + n` cents after [`BUYER_DELAY`].
fn buyers(last: LastAnswer) -> SocketAddr {
    let (address, addr) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            address.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app(last)).await.unwrap();
        });
    });
    addr.recv().unwrap()
}

fn app(last: LastAnswer) -> Router {
    Router::new().route(
        "/ping/{n}",
        post(move |Path(n): Path<u32>| {
            let last = last.clone();
            async move {
                tokio::time::sleep(BUYER_DELAY).await;
                let body = json!({"accept": true, "bid": 100 + n}).to_string();
                let now = Instant::now();
                let mut last = last.lock().unwrap();
                *last = Some(last.map_or(now, |at| at.max(now)));
                body
            }
        }),
    )
}

/// A router whose snapshot holds one campaign with a ring tree of `TARGETS` targets,
/// RTB ones pinging `buyers` when given.
fn router(buyers: Option<SocketAddr>) -> CallRouter {
    let org = OrgId(Uuid::now_v7());
    fn owned<T>(org: OrgId, object: T) -> Owned<T> {
        Owned { org, object }
    }
    let mut snapshot = Snapshot { version: 1, ..Snapshot::default() };
    let trunk: Trunk =
        object(json!({"name": "Carrier", "direction": "inbound", "allowed_cidrs": ["127.0.0.1"]}));
    snapshot.inbound.insert(org, vec![trunk.id]);
    snapshot.trunks.insert(trunk.id, owned(org, TrunkEntry { trunk, password: None }));
    let campaign: Campaign =
        object(json!({"name": "Auto", "time_zone": "America/New_York", "floor_cents": 0}));
    let buyer: Buyer = object(json!({"name": "Buyer"}));
    let mut tree = Vec::new();
    for n in 0..TARGETS {
        let revenue = match buyers {
            Some(addr) => json!({"kind": "rtb", "ping_url": format!("http://{addr}/ping/{n}"),
                                 "timeout_ms": 1000}),
            None => json!({"kind": "static", "cents": 100 + n}),
        };
        let target: Target = object(json!({"buyer_id": buyer.id, "name": format!("T{n}"),
            "destination": format!("sip:buyer{n}@127.0.0.1:5099"), "revenue": revenue}));
        tree.push(ring_tree::Entry { target_id: target.id, priority: 1, weight: 1, enabled: true });
        snapshot.rules.insert(target.id, Vec::new());
        snapshot.targets.insert(target.id, owned(org, target));
    }
    let number: Number = object(json!({"number": DIALED, "campaign_id": campaign.id}));
    snapshot.numbers.insert(E164::parse(DIALED).unwrap(), owned(org, number));
    snapshot.ring_trees.insert(campaign.id, tree);
    snapshot.buyers.insert(buyer.id, owned(org, buyer));
    snapshot.campaigns.insert(campaign.id, owned(org, campaign));
    CallRouter {
        routing: Routing::new(snapshot),
        pinger: Pinger::new(true).unwrap(),
        counters: Arc::new(Counters::with_taken(Vec::new(), Writer::detached())),
        recent: Arc::new(Recent::default()),
        shield: Arc::default(),
        // Nothing records: the inbox is dropped and what routing says goes nowhere.
        recorder: Recorder::new().0,
        node_id: Uuid::now_v7(),
        tree_timeout: TREE_TIMEOUT,
        leases: Arc::new(Book::new(Box::new(Discard), chrono::Duration::minutes(10))),
        billing: Arc::default(),
        allow_private: true,
        headroom: Writer::detached()
            .headroom(Limits { lag: Duration::from_secs(2), bytes: usize::MAX }),
        loopback_password: "unused".into(),
    }
}

/// Call `id` from the carrier, admitted by `router` as the edge would (not timed).
fn call(router: &CallRouter, id: u64) -> IncomingCall {
    let source: SocketAddr = "127.0.0.1:5070".parse().unwrap();
    let arrival = Arrival { source, dialed: DIALED, username: None };
    let Admission::Accept { trunk } = router.admit(&arrival) else { panic!("not admitted") };
    IncomingCall {
        id,
        call_id: format!("bench-{id}"),
        dialed: DIALED.into(),
        caller: Some("+12125550123".into()),
        request_uri: format!("sip:{DIALED}@127.0.0.1").parse().unwrap(),
        source: Peer { transport: Transport::Udp, addr: source },
        trunk,
        headers: Vec::new(),
    }
}

fn percentiles(name: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |p: f64| samples[((samples.len() - 1) as f64 * p).round() as usize];
    println!(
        "{name}: {} calls, p50 {:?}, p99 {:?}, max {:?}",
        samples.len(),
        at(0.50),
        at(0.99),
        samples[samples.len() - 1]
    );
}

fn auction(c: &mut Criterion) {
    // Routing on one thread, the buyers on the other: the two cores of the reference
    // machine, neither oversubscribed.
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let last: LastAnswer = Arc::default();
    let addr = buyers(last.clone());
    let rtb = router(Some(addr));
    let statics = router(None);
    let (overheads, decisions) = (Mutex::new(Vec::new()), Mutex::new(Vec::new()));
    let mut next = 0;
    let mut group = c.benchmark_group("auction");
    group.sample_size(30).measurement_time(Duration::from_secs(15));
    group.bench_function("50 RTB targets, overhead after the slowest answer", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                next += 1;
                *last.lock().unwrap() = None;
                let decision = runtime.block_on(rtb.route(&call(&rtb, next)));
                let done = Instant::now();
                let Decision::Connect(legs) = decision else { panic!("no destinations") };
                assert_eq!(legs.len(), TARGETS);
                let slowest = last.lock().unwrap().expect("every buyer answered");
                let overhead = done.duration_since(slowest);
                overheads.lock().unwrap().push(overhead);
                total += overhead;
            }
            total
        })
    });
    group.bench_function("50 static targets, routing decision", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                next += 1;
                let incoming = call(&statics, next);
                let started = Instant::now();
                let decision = runtime.block_on(statics.route(&incoming));
                let took = started.elapsed();
                let Decision::Connect(legs) = decision else { panic!("no destinations") };
                assert_eq!(legs.len(), TARGETS);
                decisions.lock().unwrap().push(took);
                total += took;
            }
            total
        })
    });
    group.finish();
    percentiles("auction overhead, 50 RTB targets", overheads.into_inner().unwrap());
    percentiles("routing decision, 50 static targets", decisions.into_inner().unwrap());
}

criterion_group!(benches, auction);
criterion_main!(benches);
