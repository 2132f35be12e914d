//! `evloop::sync::Barrier` (asyncio 3.11).

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::Poll;

use evloop::EventLoop;
use evloop::sync::Barrier;

/// Polls a future exactly once from inside a task.
async fn poll_once<F: Future>(mut future: Pin<&mut F>) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}

#[test]
fn the_last_arrival_releases_everyone_with_distinct_indexes() {
    evloop::run(async {
        let barrier = Barrier::new(3);
        let mut first = Box::pin(barrier.wait());
        let mut second = Box::pin(barrier.wait());
        assert!(poll_once(first.as_mut()).await.is_pending());
        assert!(poll_once(second.as_mut()).await.is_pending());
        assert_eq!(barrier.n_waiting(), 2);
        assert_eq!(barrier.wait().await, Ok(2));
        assert_eq!(poll_once(first.as_mut()).await, Poll::Ready(Ok(0)));
        assert_eq!(poll_once(second.as_mut()).await, Poll::Ready(Ok(1)));
        assert_eq!(barrier.n_waiting(), 0);
    });
}

#[test]
fn the_barrier_can_be_used_for_several_rounds_by_tasks_on_several_workers() {
    const PARTIES: usize = 5;
    const ROUNDS: usize = 50;
    let event_loop = EventLoop::builder().worker_threads(2).build().unwrap();
    event_loop.run_until_complete(async {
        let barrier = Barrier::new(PARTIES);
        let tasks: Vec<_> = (0..PARTIES)
            .map(|_| {
                let barrier = barrier.clone();
                evloop::spawn(async move {
                    let mut indexes = Vec::new();
                    for _ in 0..ROUNDS {
                        indexes.push(barrier.wait().await.unwrap());
                    }
                    indexes
                })
            })
            .collect();
        let mut per_round = vec![Vec::new(); ROUNDS];
        for task in tasks {
            for (round, index) in task.await.unwrap().into_iter().enumerate() {
                per_round[round].push(index);
            }
        }
        for mut indexes in per_round {
            indexes.sort();
            assert_eq!(indexes, (0..PARTIES).collect::<Vec<_>>());
        }
    });
    event_loop.close();
}

#[test]
fn abort_fails_the_waiters_and_later_waits_until_reset() {
    evloop::run(async {
        let barrier = Barrier::new(3);
        let mut waiter = Box::pin(barrier.wait());
        assert!(poll_once(waiter.as_mut()).await.is_pending());
        barrier.abort();
        assert!(barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
        let Poll::Ready(Err(err)) = poll_once(waiter.as_mut()).await else {
            panic!("an aborted barrier fails its waiters");
        };
        assert!(!err.is_reset());
        assert!(barrier.wait().await.is_err());
        barrier.reset();
        assert!(!barrier.broken());
        let mut first = Box::pin(barrier.wait());
        let mut second = Box::pin(barrier.wait());
        assert!(poll_once(first.as_mut()).await.is_pending());
        assert!(poll_once(second.as_mut()).await.is_pending());
        assert_eq!(barrier.wait().await, Ok(2));
    });
}

#[test]
fn reset_fails_the_current_waiters_and_starts_an_empty_round() {
    evloop::run(async {
        let barrier = Barrier::new(2);
        let mut waiter = Box::pin(barrier.wait());
        assert!(poll_once(waiter.as_mut()).await.is_pending());
        barrier.reset();
        let Poll::Ready(Err(err)) = poll_once(waiter.as_mut()).await else {
            panic!("a reset fails the tasks that were waiting");
        };
        assert!(err.is_reset());
        assert!(!barrier.broken());
        assert_eq!(barrier.n_waiting(), 0);
    });
}

#[test]
fn a_dropped_waiter_leaves_the_round() {
    evloop::run(async {
        let barrier = Barrier::new(2);
        let mut cancelled = Box::pin(barrier.wait());
        assert!(poll_once(cancelled.as_mut()).await.is_pending());
        assert_eq!(barrier.n_waiting(), 1);
        drop(cancelled);
        assert_eq!(barrier.n_waiting(), 0);
        let mut waiter = Box::pin(barrier.wait());
        assert!(poll_once(waiter.as_mut()).await.is_pending());
        assert_eq!(barrier.wait().await, Ok(1));
        assert_eq!(poll_once(waiter.as_mut()).await, Poll::Ready(Ok(0)));
    });
}

#[test]
#[should_panic(expected = "at least one party")]
fn a_barrier_for_no_parties_is_refused() {
    let _ = Barrier::new(0);
}
