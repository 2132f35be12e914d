//! `evloop::sync::Condition`: wait, notify, notify_all, wait_for.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;

use evloop::sync::{Condition, Lock};

/// Polls a future exactly once from inside a task.
async fn poll_once<F: Future>(mut future: Pin<&mut F>) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}

/// Polls every unfinished future once, forgetting those that complete.
async fn poll_unfinished<F: Future>(futures: &mut [Option<Pin<Box<F>>>]) {
    for slot in futures {
        if let Some(future) = slot {
            if poll_once(future.as_mut()).await.is_ready() {
                *slot = None;
            }
        }
    }
}

#[test]
fn wait_releases_the_lock_and_takes_it_back_after_notify() {
    evloop::run(async {
        let cond = Condition::new();
        let guard = cond.acquire().await;
        let mut wait = Box::pin(cond.wait(guard));
        assert!(poll_once(wait.as_mut()).await.is_pending());
        assert!(!cond.locked(), "wait releases the lock");
        let other = cond.acquire().await;
        assert_eq!(cond.notify(1), 1);
        // Notified, but the lock is held: wait cannot return yet.
        assert!(poll_once(wait.as_mut()).await.is_pending());
        drop(other);
        let Poll::Ready(guard) = poll_once(wait.as_mut()).await else {
            panic!("wait should return once the lock is free");
        };
        assert!(cond.locked());
        drop(guard);
    });
}

#[test]
fn notify_wakes_waiters_in_the_order_they_started_waiting() {
    evloop::run(async {
        let cond = Condition::new();
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut waits = Vec::new();
        for i in 0..3 {
            let guard = cond.acquire().await;
            let (cond, order) = (cond.clone(), order.clone());
            let mut wait = Box::pin(async move {
                let _guard = cond.wait(guard).await;
                order.lock().unwrap().push(i);
            });
            assert!(poll_once(wait.as_mut()).await.is_pending());
            waits.push(Some(wait));
        }
        for expected in 0..3 {
            assert_eq!(cond.notify(1), 1);
            poll_unfinished(&mut waits).await;
            assert_eq!(*order.lock().unwrap(), (0..=expected).collect::<Vec<_>>());
        }
    });
}

/// asyncio hands the lock back to notified waiters in the order they waited,
/// whichever of them happens to run first.
#[test]
fn notified_waiters_take_the_lock_back_in_the_order_they_waited() {
    for notify_all in [true, false] {
        evloop::run(async {
            let cond = Condition::new();
            let order = Arc::new(Mutex::new(Vec::new()));
            let mut waits = Vec::new();
            for i in 1..=3 {
                let guard = cond.acquire().await;
                let (cond, order) = (cond.clone(), order.clone());
                let mut wait = Box::pin(async move {
                    let guard = cond.wait(guard).await;
                    order.lock().unwrap().push(i);
                    drop(guard);
                });
                assert!(poll_once(wait.as_mut()).await.is_pending());
                waits.push(Some(wait));
            }
            let guard = cond.acquire().await;
            if notify_all {
                assert_eq!(cond.notify_all(), 3);
            } else {
                assert_eq!(cond.notify(3), 3);
            }
            // The most recently notified runs first, while the lock is held...
            waits.reverse();
            poll_unfinished(&mut waits).await;
            drop(guard);
            // ...and again once it is free: the lock still goes in FIFO order.
            while waits.iter().any(Option::is_some) {
                poll_unfinished(&mut waits).await;
            }
            assert_eq!(*order.lock().unwrap(), [1, 2, 3]);
        });
    }
}

/// The same, with each waiter a task and a task that notifies.
#[test]
fn notified_tasks_take_the_lock_back_in_the_order_they_waited() {
    let event_loop = evloop::EventLoop::builder()
        .worker_threads(2)
        .build()
        .unwrap();
    for _ in 0..20 {
        let order = event_loop.run_until_complete(async {
            let cond = Condition::new();
            let order = Arc::new(Mutex::new(Vec::new()));
            let mut tasks = Vec::new();
            for i in 1..=3 {
                let (started_tx, started_rx) = std::sync::mpsc::channel();
                tasks.push(evloop::spawn({
                    let (cond, order) = (cond.clone(), order.clone());
                    async move {
                        let guard = cond.acquire().await;
                        started_tx.send(()).unwrap();
                        let guard = cond.wait(guard).await;
                        order.lock().unwrap().push(i);
                        evloop::yield_now().await;
                        drop(guard);
                    }
                }));
                while started_rx.try_recv().is_err() {
                    evloop::yield_now().await;
                }
                // Free again only once the task queued itself in `wait`.
                drop(cond.acquire().await);
            }
            let notifier = evloop::spawn({
                let cond = cond.clone();
                async move {
                    let _guard = cond.acquire().await;
                    cond.notify_all();
                }
            });
            notifier.await.unwrap();
            for task in tasks {
                task.await.unwrap();
            }
            order.lock().unwrap().clone()
        });
        assert_eq!(order, [1, 2, 3]);
    }
}

#[test]
fn notify_n_wakes_at_most_n_and_notify_all_wakes_the_rest() {
    evloop::run(async {
        let cond = Condition::new();
        let woken = Arc::new(AtomicUsize::new(0));
        let mut tasks: Vec<_> = (0..5)
            .map(|_| {
                let (cond, woken) = (cond.clone(), woken.clone());
                Some(Box::pin(async move {
                    let guard = cond.acquire().await;
                    let _guard = cond.wait(guard).await;
                    woken.fetch_add(1, Ordering::SeqCst);
                }))
            })
            .collect();
        poll_unfinished(&mut tasks).await;
        assert_eq!(woken.load(Ordering::SeqCst), 0);
        assert_eq!(cond.notify(2), 2);
        poll_unfinished(&mut tasks).await;
        assert_eq!(woken.load(Ordering::SeqCst), 2);
        assert_eq!(cond.notify_all(), 3);
        poll_unfinished(&mut tasks).await;
        assert_eq!(woken.load(Ordering::SeqCst), 5);
    });
}

#[test]
fn a_waiter_dropped_after_being_notified_passes_the_notification_on() {
    evloop::run(async {
        let cond = Condition::new();
        let guard = cond.acquire().await;
        let mut cancelled = Box::pin(cond.wait(guard));
        assert!(poll_once(cancelled.as_mut()).await.is_pending());
        let guard = cond.acquire().await;
        let mut next = Box::pin(cond.wait(guard));
        assert!(poll_once(next.as_mut()).await.is_pending());
        assert_eq!(cond.notify(1), 1); // goes to `cancelled`
        drop(cancelled);
        assert!(poll_once(next.as_mut()).await.is_ready());
    });
}

#[test]
fn wait_for_returns_once_the_predicate_holds() {
    evloop::run(async {
        let cond = Condition::new();
        let value = Arc::new(AtomicUsize::new(0));
        let waiter = evloop::spawn({
            let (cond, value) = (cond.clone(), value.clone());
            async move {
                let guard = cond.acquire().await;
                let _guard = cond
                    .wait_for(guard, || value.load(Ordering::SeqCst) >= 3)
                    .await;
                value.load(Ordering::SeqCst)
            }
        });
        for _ in 0..3 {
            // Changed and notified under the lock: a waiter either sees the new
            // value when it checks, or is already queued for this notify.
            let _guard = cond.acquire().await;
            value.fetch_add(1, Ordering::SeqCst);
            cond.notify_all();
            drop(_guard);
            evloop::yield_now().await;
        }
        assert_eq!(waiter.await.unwrap(), 3);
    });
}

#[test]
fn conditions_can_share_a_lock() {
    evloop::run(async {
        let lock = Lock::new();
        let not_empty = Condition::with_lock(lock.clone());
        let not_full = Condition::with_lock(lock.clone());
        let guard = not_empty.acquire().await;
        assert!(lock.locked());
        assert!(not_full.locked());
        let mut wait = Box::pin(not_full.wait(guard));
        assert!(poll_once(wait.as_mut()).await.is_pending());
        assert!(!lock.locked());
        assert_eq!(not_empty.notify_all(), 0);
        assert_eq!(not_full.notify_all(), 1);
        assert!(poll_once(wait.as_mut()).await.is_ready());
    });
}

#[test]
#[should_panic(expected = "not the condition's lock")]
fn wait_with_the_guard_of_another_lock_panics() {
    evloop::run(async {
        let cond = Condition::new();
        let other = Lock::new();
        let guard = other.lock().await;
        let _ = cond.wait(guard).await;
    });
}
