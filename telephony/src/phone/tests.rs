use std::net::{IpAddr, Ipv4Addr};

use super::*;

const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

async fn answerer(pickup: Pickup) -> Answerer {
    Answerer::start((LOOPBACK, 0).into(), move |_| pickup).await.unwrap()
}

fn dial(to: SocketAddr, talk: Duration) -> Dial {
    Dial {
        to,
        number: "+15550100".into(),
        caller: "+12125550123".into(),
        call_id: format!("{:x}@127.0.0.1", rand::random::<u64>()),
        credentials: None,
        headers: Vec::new(),
        ring_timeout: Duration::from_secs(5),
        talk,
    }
}

#[tokio::test]
async fn an_answered_call_is_hung_up_by_the_caller_after_its_talk_time() {
    let answer = Then::Answer { hang_up_after: Duration::from_secs(30) };
    let callee = answerer(Pickup { ring: Duration::from_millis(100), then: answer }).await;
    let outcome = call(&dial(callee.addr(), Duration::from_millis(300)), LOOPBACK).await.unwrap();
    let Outcome::Answered { rang, talked, ended_by } = outcome else { panic!("{outcome:?}") };
    assert!(rang >= Duration::from_millis(100), "{rang:?}");
    assert!(talked >= Duration::from_millis(300) && talked < Duration::from_secs(2), "{talked:?}");
    assert_eq!(ended_by, Side::Caller);
}

#[tokio::test]
async fn the_callee_may_hang_up_first() {
    let answer = Then::Answer { hang_up_after: Duration::from_millis(200) };
    let callee = answerer(Pickup { ring: Duration::ZERO, then: answer }).await;
    let outcome = call(&dial(callee.addr(), Duration::from_secs(30)), LOOPBACK).await.unwrap();
    let Outcome::Answered { talked, ended_by, .. } = outcome else { panic!("{outcome:?}") };
    assert_eq!(ended_by, Side::Callee);
    assert!(talked < Duration::from_secs(2), "{talked:?}");
}

#[tokio::test]
async fn a_busy_callee_refuses_with_its_status() {
    let callee =
        answerer(Pickup { ring: Duration::from_millis(50), then: Then::Refuse(486) }).await;
    let outcome = call(&dial(callee.addr(), Duration::from_secs(1)), LOOPBACK).await.unwrap();
    assert_eq!(outcome, Outcome::Refused { status: 486, reason: "Busy Here".into() });
}

#[tokio::test]
async fn an_unanswered_call_is_cancelled_at_the_ring_timeout() {
    let callee = answerer(Pickup { ring: Duration::ZERO, then: Then::KeepRinging }).await;
    let mut dial = dial(callee.addr(), Duration::from_secs(1));
    dial.ring_timeout = Duration::from_millis(300);
    let started = Instant::now();
    assert_eq!(call(&dial, LOOPBACK).await.unwrap(), Outcome::NotAnswered);
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn many_calls_share_one_answerer() {
    let answer = Then::Answer { hang_up_after: Duration::from_secs(30) };
    let callee = answerer(Pickup { ring: Duration::from_millis(20), then: answer }).await;
    let calls = (0..20).map(|_| {
        let dial = dial(callee.addr(), Duration::from_millis(100));
        tokio::spawn(async move { call(&dial, LOOPBACK).await.unwrap() })
    });
    for outcome in futures_join(calls).await {
        assert!(matches!(outcome, Outcome::Answered { ended_by: Side::Caller, .. }), "{outcome:?}");
    }
}

async fn futures_join(
    handles: impl Iterator<Item = tokio::task::JoinHandle<Outcome>>,
) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    for handle in handles {
        outcomes.push(handle.await.unwrap());
    }
    outcomes
}
