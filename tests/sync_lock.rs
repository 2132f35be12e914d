//! `evloop::sync::Lock`: mutual exclusion, FIFO hand-off, cancellation.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

use evloop::EventLoop;
use evloop::sync::Lock;

/// Polls a future exactly once from inside a task.
async fn poll_once<F: Future>(mut future: Pin<&mut F>) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}

#[test]
fn lock_is_exclusive_until_the_guard_is_dropped() {
    evloop::run(async {
        let lock = Lock::new();
        assert!(!lock.locked());
        let guard = lock.lock().await;
        assert!(lock.locked());
        assert!(lock.try_lock().is_none());
        let mut waiter = Box::pin(lock.lock());
        assert!(poll_once(waiter.as_mut()).await.is_pending());
        drop(guard);
        let Poll::Ready(second_guard) = poll_once(waiter.as_mut()).await else {
            panic!("the waiter should get the lock once it is released");
        };
        assert!(lock.locked());
        drop(second_guard);
        assert!(!lock.locked());
    });
}

#[test]
fn waiters_get_the_lock_in_the_order_they_started_waiting() {
    evloop::run(async {
        let lock = Lock::new();
        let guard = lock.lock().await;
        let mut waiters: Vec<_> = (0..4).map(|_| Box::pin(lock.lock())).collect();
        for waiter in &mut waiters {
            assert!(poll_once(waiter.as_mut()).await.is_pending());
        }
        drop(guard);
        for i in 0..waiters.len() {
            // Only the oldest waiter may proceed.
            for later in &mut waiters[i + 1..] {
                assert!(poll_once(later.as_mut()).await.is_pending());
            }
            match poll_once(waiters[i].as_mut()).await {
                Poll::Ready(guard) => drop(guard),
                Poll::Pending => panic!("waiter {i} should hold the lock"),
            }
        }
        assert!(!lock.locked());
    });
}

#[test]
fn try_lock_does_not_barge_past_a_queued_waiter() {
    evloop::run(async {
        let lock = Lock::new();
        let guard = lock.lock().await;
        let mut waiter = Box::pin(lock.lock());
        assert!(poll_once(waiter.as_mut()).await.is_pending());
        drop(guard);
        // The lock was handed to the waiter, even though it has not run yet.
        assert!(lock.locked());
        assert!(lock.try_lock().is_none());
        assert!(poll_once(waiter.as_mut()).await.is_ready());
    });
}

#[test]
fn dropping_a_waiter_that_was_handed_the_lock_passes_it_to_the_next() {
    evloop::run(async {
        let lock = Lock::new();
        let guard = lock.lock().await;
        let mut first = Box::pin(lock.lock());
        let mut second = Box::pin(lock.lock());
        assert!(poll_once(first.as_mut()).await.is_pending());
        assert!(poll_once(second.as_mut()).await.is_pending());
        drop(guard); // handed to `first`
        drop(first); // cancelled before it ran
        assert!(poll_once(second.as_mut()).await.is_ready());
    });
}

#[test]
fn dropping_a_queued_waiter_gives_up_its_place() {
    evloop::run(async {
        let lock = Lock::new();
        let guard = lock.lock().await;
        let mut first = Box::pin(lock.lock());
        let mut second = Box::pin(lock.lock());
        assert!(poll_once(first.as_mut()).await.is_pending());
        assert!(poll_once(second.as_mut()).await.is_pending());
        drop(first);
        drop(guard);
        assert!(poll_once(second.as_mut()).await.is_ready());
    });
}

#[test]
fn cancelled_task_waiting_for_the_lock_does_not_keep_it() {
    evloop::run(async {
        let lock = Lock::new();
        let guard = lock.lock().await;
        let waiter = evloop::spawn({
            let lock = lock.clone();
            async move {
                let _guard = lock.lock().await;
            }
        });
        evloop::yield_now().await;
        waiter.cancel();
        assert!(waiter.await.unwrap_err().is_cancelled());
        drop(guard);
        assert!(lock.try_lock().is_some());
    });
}

#[test]
fn lock_gives_mutual_exclusion_to_tasks_on_several_workers() {
    const TASKS: u64 = 8;
    const ROUNDS: u64 = 10_000;
    let event_loop = EventLoop::builder().worker_threads(4).build().unwrap();
    let counter = Arc::new(AtomicU64::new(0));
    event_loop.run_until_complete({
        let counter = counter.clone();
        async move {
            let lock = Lock::new();
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let (lock, counter) = (lock.clone(), counter.clone());
                    evloop::spawn(async move {
                        for round in 0..ROUNDS {
                            let _guard = lock.lock().await;
                            // A read-modify-write split in two: any overlap of
                            // critical sections loses an increment.
                            let seen = counter.load(Ordering::Relaxed);
                            if round % 64 == 0 {
                                evloop::yield_now().await;
                            }
                            counter.store(seen + 1, Ordering::Relaxed);
                        }
                    })
                })
                .collect();
            for task in tasks {
                task.await.unwrap();
            }
        }
    });
    event_loop.close();
    assert_eq!(counter.load(Ordering::Relaxed), TASKS * ROUNDS);
}

#[test]
fn lock_handles_are_shared_and_send_sync() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Lock>();
    let lock = Lock::new();
    let other = lock.clone();
    let _guard = other.try_lock().unwrap();
    assert!(lock.locked());
    assert!(lock.same_lock(&other));
}
