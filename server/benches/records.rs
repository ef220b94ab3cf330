//! Call records written per second: the recorder follows calls from the router's word to
//! their end (the SIP edge's events, as a call answered by its one target and hung up by
//! the caller makes them) and the batched writer writes every change, into a real
//! database. Each iteration is one such call; a sample ends when everything its calls
//! changed is written, so the rate is what the database keeps up with, sustained.
//!
//! `cargo bench -p bidline --bench records` — SQLite (a file), and PostgreSQL too when
//! `TEST_DATABASE_URL` is set (a new database on that server, dropped afterwards).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bidline::{
    accounts::{
        OrgId,
        orgs::{Creator, create_with_owner},
    },
    calls::{
        BidRow, CallRow, Outcome, Status,
        counters::Counters,
        recent::Recent,
        recorder::{Decided, Leg, Opened, PayoutRule, Recorder},
        writer::Writer,
    },
    db::{DatabaseUrl, Db, nodes::NodeInfo},
    network::{resource::Resource, targets::Target},
    webhooks::EventSet,
};
use bidline_telephony::b2bua::{CallEvent, EndCause, EventKind, Side, Stamp};
use bidline_tests::TestDatabase;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::json;
use tokio::sync::mpsc;
use uuid::Uuid;

/// What one backend's records path needs.
struct Records {
    _database: TestDatabase,
    recorder: Recorder,
    events: mpsc::UnboundedSender<CallEvent>,
    writer: Writer,
    org: OrgId,
    node: Uuid,
    target: Target,
    next_call: u64,
}

impl Records {
    async fn start(database: TestDatabase) -> Records {
        let db = Db::connect(&DatabaseUrl::parse(database.url()).unwrap()).await.unwrap();
        db.migrate().await.unwrap();
        let org = create_with_owner(
            &db,
            "Bench",
            "bench@bench.example",
            "Qz8-long-pass-Wx4",
            Creator::Operator,
        )
        .await
        .unwrap()
        .org;
        let node = NodeInfo::new("127.0.0.1:3000".parse().unwrap());
        bidline::db::nodes::register(&db, &node).await.unwrap();
        let (writer, _flushed) = Writer::spawn(&db, None);
        let counters = Arc::new(Counters::load(&db, node.id, writer.clone()).await.unwrap());
        let (recorder, inbox) = Recorder::new();
        let (events, edge) = mpsc::unbounded_channel();
        let feed = tokio::sync::broadcast::channel(16).0;
        inbox.spawn(edge, writer.clone(), feed, counters, Arc::new(Recent::default()));
        let target: Target = Target::apply(
            None,
            serde_json::from_value(json!({"buyer_id": Uuid::now_v7(), "name": "Buyer",
                "destination": "sip:buyer@192.0.2.10",
                "revenue": {"kind": "static", "cents": 1500, "buffer_seconds": 0}}))
            .unwrap(),
        )
        .unwrap();
        Records {
            _database: database,
            recorder,
            events,
            writer,
            org,
            node: node.id,
            target,
            next_call: 0,
        }
    }

    /// One call, answered and hung up, as the router and the SIP edge tell it.
    fn call(&mut self) {
        self.next_call += 1;
        let edge_call = self.next_call;
        let id = Uuid::now_v7();
        let now = chrono::Utc::now();
        let row = CallRow {
            id,
            org: self.org,
            node_id: self.node,
            campaign_id: Uuid::nil(),
            publisher_id: None,
            number_id: None,
            inbound_trunk_id: None,
            buyer_id: None,
            target_id: None,
            caller: Some("+12125550123".into()),
            caller_anonymous: false,
            dialed: "+18005550100".into(),
            sip_call_id: format!("{id}@carrier.example"),
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
            tags: BTreeMap::from([("caller.state".into(), "NY".into())]),
        };
        let payout = PayoutRule { payout: None, buffer_seconds: 0, pays_duplicates: false };
        self.recorder.opened(Opened {
            edge_call,
            row,
            payout,
            webhook_events: EventSet::default(),
        });
        let mut bid = BidRow::ineligible(self.target.id, self.target.buyer_id, String::new());
        bid.outcome = Outcome::Ranked;
        bid.reason = None;
        bid.bid_cents = Some(1500);
        bid.rank = Some(0);
        let leg = Leg { target: self.target.clone(), bid: 0, bid_cents: 1500, buffer_seconds: 0 };
        self.recorder.decided(Decided {
            edge_call,
            call: id,
            refused: None,
            duplicate: false,
            bids: vec![bid],
            events: Vec::new(),
            legs: vec![leg],
        });
        let source: SocketAddr = "198.51.100.7:5060".parse().unwrap();
        for kind in [
            EventKind::Initiated {
                dialed: "+18005550100".into(),
                caller: Some("+12125550123".into()),
                source,
            },
            EventKind::Routed { destinations: 1 },
            EventKind::LegTrying { leg: 0, uri: "sip:buyer@192.0.2.10".into() },
            EventKind::LegRinging { leg: 0, status: 180 },
            EventKind::LegAnswered { leg: 0 },
            EventKind::Bridged { leg: 0 },
            EventKind::Ended { cause: EndCause::HungUp(Side::Caller) },
        ] {
            let at = Stamp { monotonic: Instant::now(), wall: SystemTime::now() };
            self.events.send(CallEvent { call: edge_call, at, kind }).unwrap();
        }
    }

    /// Waits until `changes` more changes than `since` are written.
    async fn written(&self, since: u64, changes: u64) {
        while self.writer.backlog().written() < since + changes {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

fn records(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let databases = runtime.block_on(TestDatabase::all());
    let mut group = c.benchmark_group("records");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(20));
    for database in databases {
        let backend = database.backend();
        let mut records = runtime.block_on(Records::start(database));
        // The changes one call makes, counted once everything settled.
        let per_call = runtime.block_on(async {
            let before = records.writer.backlog().written();
            records.call();
            tokio::time::sleep(Duration::from_millis(500)).await;
            records.writer.backlog().written() - before
        });
        group.bench_function(format!("answered calls written ({backend})"), |b| {
            b.iter_custom(|calls| {
                runtime.block_on(async {
                    let before = records.writer.backlog().written();
                    let started = Instant::now();
                    for _ in 0..calls {
                        records.call();
                    }
                    records.written(before, calls * per_call).await;
                    started.elapsed()
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, records);
criterion_main!(benches);
