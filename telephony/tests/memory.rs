//! What the edge holds per call, counted by the allocator while real peers (sipp) place
//! calls through it: a call that has ended keeps only what its last transactions need
//! for their timers (RFC 3261 §17: up to 32 s over UDP), a live call what bridging needs.
//!
//! Each heap block is counted at its requested size plus 16 bytes, glibc's chunk header
//! and rounding.

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use bidline_sipp::{DIALED, Load};
use bidline_telephony::b2bua::{Decision, EventKind};
use support::{Scenario, Sipp, TestEdge, Transport, buyer, free_port};
use tokio::sync::watch;

struct Counting;

static HELD: AtomicIsize = AtomicIsize::new(0);
const BLOCK_OVERHEAD: isize = 16;

// SAFETY: every call is passed straight to the system allocator; only a counter is kept.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let block = unsafe { System.alloc(layout) };
        if !block.is_null() {
            HELD.fetch_add(layout.size() as isize + BLOCK_OVERHEAD, Ordering::Relaxed);
        }
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let block = unsafe { System.alloc_zeroed(layout) };
        if !block.is_null() {
            HELD.fetch_add(layout.size() as isize + BLOCK_OVERHEAD, Ordering::Relaxed);
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        unsafe { System.dealloc(block, layout) };
        HELD.fetch_sub(layout.size() as isize + BLOCK_OVERHEAD, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(block, layout, size) };
        if !moved.is_null() {
            HELD.fetch_add(size as isize - layout.size() as isize, Ordering::Relaxed);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn held() -> isize {
    HELD.load(Ordering::Relaxed)
}

/// How many calls were bridged and how many ended, as the edge reported them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Tally {
    bridged: usize,
    ended: usize,
}

async fn until(tally: &mut watch::Receiver<Tally>, done: impl Fn(&Tally) -> bool) {
    tokio::time::timeout(Duration::from_secs(30), tally.wait_for(done))
        .await
        .expect("the calls get there in time")
        .unwrap();
}

const WARM_UP: usize = 300;
const FINISHED: usize = 3_000;
const LIVE: usize = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_call_keeps_under_2_kib_and_a_live_call_under_20_kib() {
    let port = free_port();
    let TestEdge { edge, mut events } = TestEdge::start(Decision::Connect(vec![buyer(
        port,
        Transport::Udp,
        Duration::from_secs(10),
    )]))
    .await;
    let _buyer = Sipp::uas(Scenario::Builtin("uas"), port, Transport::Udp, 1_000_000);
    let (count, mut tally) = watch::channel(Tally::default());
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            count.send_modify(|tally| match event.kind {
                EventKind::Bridged { .. } => tally.bridged += 1,
                EventKind::Ended { .. } => tally.ended += 1,
                _ => {}
            });
        }
    });

    // The first calls size the edge's tables and the runtime's queues.
    Load::start(edge.udp_addr(), DIALED, 300, WARM_UP).finish().await;
    until(&mut tally, |t| t.ended == WARM_UP).await;
    let before = held();

    let placed = Load::start(edge.udp_addr(), DIALED, 1_000, FINISHED).finish().await;
    assert_eq!(placed.successful, FINISHED as u64, "{placed:?}");
    until(&mut tally, |t| t.ended == WARM_UP + FINISHED).await;
    let ended = held() - before;
    let per_ended = ended / FINISHED as isize;

    let _held = Load::holding(edge.udp_addr(), DIALED, 1_000, LIVE, Duration::from_secs(60));
    until(&mut tally, |t| t.bridged == WARM_UP + FINISHED + LIVE).await;
    let per_live = (held() - before - ended) / LIVE as isize;

    eprintln!("per ended call: {per_ended} bytes; per live call: {per_live} bytes");
    assert!(per_ended <= 2_048, "an ended call holds {per_ended} bytes");
    assert!(per_live <= 20_480, "a live call holds {per_live} bytes");
}
