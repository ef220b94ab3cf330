//! The demo's buyers, on loopback: a SIP phone answering every target's calls (each
//! target rings, answers or refuses as its plan says) and an HTTP server answering
//! their RTB pings with varied bids; buyers that report conversions send postbacks.

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use axum::{Json, extract::Path, routing::post};
use bidline_telephony::{
    phone::{Answerer, Pickup, Then},
    wire::{Fields, Request},
};
use rand::Rng;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::network::TargetPlan;

/// The running buyers and where they listen.
pub struct Buyers {
    pub sip: SocketAddr,
    pub http: SocketAddr,
    _answerer: Answerer,
    _http: tokio::task::JoinHandle<()>,
}

/// A call a buyer that reports conversions answered: who called, and how long the
/// buyer stays on the line.
pub struct Answered {
    pub caller: String,
    pub plan: &'static TargetPlan,
    pub hang_up_after: Duration,
}

impl Buyers {
    /// Starts both servers on loopback, and lets legs and pings reach them (they are
    /// Bidline's own sockets; nothing else on loopback becomes reachable).
    pub async fn start(answered: mpsc::Sender<Answered>) -> std::io::Result<Buyers> {
        let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let answerer = Answerer::start(loopback, move |invite| pickup(invite, &answered))
            .await
            .map_err(std::io::Error::other)?;
        let listener = tokio::net::TcpListener::bind(loopback).await?;
        let http = listener.local_addr()?;
        let app = axum::Router::new().route("/bid/{slug}", post(bid));
        let server = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, app).await {
                tracing::warn!(%error, "the demo's buyers stopped answering pings");
            }
        });
        crate::outbound::allow_own(answerer.addr());
        crate::outbound::allow_own(http);
        Ok(Buyers { sip: answerer.addr(), http, _answerer: answerer, _http: server })
    }
}

/// How the target the INVITE is for treats it: rings a few seconds, then mostly
/// answers; some calls get a busy line or ring out.
fn pickup(invite: &Request, answered: &mpsc::Sender<Answered>) -> Pickup {
    let mut rng = rand::rng();
    let Some(plan) = invite.uri.user().and_then(TargetPlan::by_slug) else {
        return Pickup { ring: Duration::ZERO, then: Then::Refuse(404) };
    };
    let ring = Duration::from_millis(rng.random_range(1_000..6_000));
    let draw: f64 = rng.random();
    let then = if draw < plan.answer_rate {
        // Most hang-ups are the caller's; a buyer ends a call now and then.
        let hang_up_after = Duration::from_secs(rng.random_range(20..300));
        if plan.postbacks {
            let caller = invite.from().and_then(|from| from.uri.user().map(str::to_owned));
            if let Some(caller) = caller {
                let _ = answered.try_send(Answered { caller, plan, hang_up_after });
            }
        }
        Then::Answer { hang_up_after }
    } else if draw < plan.answer_rate + (1.0 - plan.answer_rate) / 2.0 {
        Then::Refuse(486)
    } else {
        Then::KeepRinging
    };
    Pickup { ring, then }
}

/// A bid for one ping, in Bidline's own protocol: around the target's price, now and
/// then declined, after a buyer's usual thinking time.
async fn bid(Path(slug): Path<String>, Json(_call): Json<Value>) -> Json<Value> {
    let Some(plan) = TargetPlan::by_slug(&slug) else {
        return Json(json!({"accept": false}));
    };
    let (think, accept, cents) = {
        let mut rng = rand::rng();
        let think = Duration::from_millis(rng.random_range(5..120));
        let accept = rng.random_bool(0.85);
        let spread = plan.cents / 3;
        (think, accept, plan.cents + rng.random_range(-spread..=spread))
    };
    tokio::time::sleep(think).await;
    Json(json!({
        "accept": accept,
        "bid": cents,
        "bid_id": format!("demo-{:08x}", rand::random::<u32>()),
    }))
}
