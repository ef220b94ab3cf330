//! Waiting for buyers' answers: every ping runs at once, and the wait ends as soon as the
//! last one has answered or given up — the tree timeout only caps a wait that would
//! otherwise run longer. A ping still out at the cap is dropped (its answer, if it ever
//! comes, is not read) and reported as such.

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use futures::stream::FuturesUnordered;

/// Each key with its ping's outcome, in the order given; `None` for a ping cut off by
/// `tree_timeout`.
pub async fn collect<K, T, F>(pings: Vec<(K, F)>, tree_timeout: Duration) -> Vec<(K, Option<T>)>
where
    F: Future<Output = T>,
{
    let mut outcomes: Vec<Option<T>> = pings.iter().map(|_| None).collect();
    let mut keys = Vec::with_capacity(pings.len());
    let mut running = FuturesUnordered::new();
    for (index, (key, ping)) in pings.into_iter().enumerate() {
        keys.push(key);
        running.push(async move { (index, ping.await) });
    }
    let deadline = tokio::time::sleep(tree_timeout);
    tokio::pin!(deadline);
    loop {
        tokio::select! {
            next = running.next() => match next {
                Some((index, outcome)) => outcomes[index] = Some(outcome),
                None => break,
            },
            () = &mut deadline => {
                if !running.is_empty() {
                    tracing::info!(cut_off = running.len(), "buyer pings still out at the tree timeout were dropped");
                }
                break;
            }
        }
    }
    keys.into_iter().zip(outcomes).collect()
}

#[cfg(test)]
mod tests {
    use tokio::time::{Instant, sleep};

    use super::*;

    async fn after(ms: u64, value: &'static str) -> &'static str {
        sleep(Duration::from_millis(ms)).await;
        value
    }

    #[tokio::test]
    async fn the_wait_ends_with_the_last_answer_not_the_tree_timeout() {
        let started = Instant::now();
        let pings =
            vec![("a", after(40, "bid a")), ("b", after(120, "bid b")), ("c", after(5, "bid c"))];
        let outcomes = collect(pings, Duration::from_secs(3)).await;
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(120) && waited < Duration::from_secs(1),
            "{waited:?}"
        );
        assert_eq!(outcomes, [("a", Some("bid a")), ("b", Some("bid b")), ("c", Some("bid c"))]);
    }

    #[tokio::test]
    async fn a_slow_ping_is_cut_off_at_the_tree_timeout() {
        let started = Instant::now();
        let outcomes = collect(
            vec![("fast", after(10, "bid")), ("slow", after(5_000, "late"))],
            Duration::from_millis(300),
        )
        .await;
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_millis(300) && waited < Duration::from_secs(2),
            "{waited:?}"
        );
        assert_eq!(outcomes, [("fast", Some("bid")), ("slow", None)]);
    }

    #[tokio::test]
    async fn no_pings_means_no_wait() {
        let started = Instant::now();
        let outcomes =
            collect(Vec::<((), std::future::Ready<()>)>::new(), Duration::from_secs(3)).await;
        assert!(outcomes.is_empty());
        assert!(started.elapsed() < Duration::from_secs(1));
    }
}
