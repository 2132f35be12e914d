//! `evloop::sync::Semaphore` and `BoundedSemaphore`.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use evloop::EventLoop;
use evloop::sync::{BoundedSemaphore, Semaphore};

/// Polls a future exactly once from inside a task.
async fn poll_once<F: Future>(mut future: Pin<&mut F>) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}

#[test]
fn acquire_takes_permits_until_none_is_left() {
    evloop::run(async {
        let sem = Semaphore::new(2);
        let a = sem.acquire().await;
        assert!(!sem.locked());
        let b = sem.acquire().await;
        assert!(sem.locked());
        assert_eq!(sem.available_permits(), 0);
        let mut c = Box::pin(sem.acquire());
        assert!(poll_once(c.as_mut()).await.is_pending());
        drop(a);
        let Poll::Ready(c) = poll_once(c.as_mut()).await else {
            panic!("a returned permit goes to the waiter");
        };
        assert_eq!(sem.available_permits(), 0);
        drop(b);
        assert_eq!(sem.available_permits(), 1);
        drop(c);
        assert_eq!(sem.available_permits(), 2);
    });
}

#[test]
fn waiters_get_permits_in_the_order_they_started_waiting() {
    evloop::run(async {
        let sem = Semaphore::new(0);
        let mut waiters: Vec<_> = (0..3).map(|_| Box::pin(sem.acquire())).collect();
        for waiter in &mut waiters {
            assert!(poll_once(waiter.as_mut()).await.is_pending());
        }
        sem.release();
        // The permit is the first waiter's: nobody else, not even try_acquire, gets it.
        assert!(sem.try_acquire().is_none());
        assert!(poll_once(waiters[2].as_mut()).await.is_pending());
        assert!(poll_once(waiters[1].as_mut()).await.is_pending());
        let Poll::Ready(first) = poll_once(waiters[0].as_mut()).await else {
            panic!("the first waiter should have the permit");
        };
        first.forget();
        sem.release();
        assert!(poll_once(waiters[2].as_mut()).await.is_pending());
        assert!(poll_once(waiters[1].as_mut()).await.is_ready());
    });
}

#[test]
fn a_waiter_dropped_after_a_permit_was_handed_to_it_passes_the_permit_on() {
    evloop::run(async {
        let sem = Semaphore::new(0);
        let mut cancelled = Box::pin(sem.acquire());
        let mut next = Box::pin(sem.acquire());
        assert!(poll_once(cancelled.as_mut()).await.is_pending());
        assert!(poll_once(next.as_mut()).await.is_pending());
        sem.release();
        drop(cancelled);
        assert!(poll_once(next.as_mut()).await.is_ready());
    });
}

#[test]
fn a_permit_handed_to_a_dropped_waiter_comes_back_when_nobody_else_waits() {
    evloop::run(async {
        let sem = Semaphore::new(0);
        let mut cancelled = Box::pin(sem.acquire());
        assert!(poll_once(cancelled.as_mut()).await.is_pending());
        sem.release();
        assert_eq!(sem.available_permits(), 0);
        drop(cancelled);
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn release_without_acquire_adds_a_permit_as_in_asyncio() {
    let sem = Semaphore::new(1);
    sem.release();
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn bounded_semaphore_reports_a_release_past_its_bound() {
    let sem = BoundedSemaphore::new(2);
    let permit = sem.try_acquire().unwrap();
    permit.forget();
    assert_eq!(sem.release(), Ok(()));
    let err = sem.release().unwrap_err();
    assert_eq!(err.bound(), 2);
    assert!(err.to_string().contains("released too many times"));
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn bounded_semaphore_permit_drop_never_exceeds_the_bound() {
    let sem = BoundedSemaphore::new(1);
    let permit = sem.try_acquire().unwrap();
    sem.release().unwrap(); // the asyncio way, on top of the guard
    drop(permit);
    assert_eq!(sem.available_permits(), 1);
}

#[test]
fn semaphore_limits_concurrency_across_workers() {
    const LIMIT: usize = 3;
    let event_loop = EventLoop::builder().worker_threads(4).build().unwrap();
    let most_inside = event_loop.run_until_complete(async {
        let sem = Semaphore::new(LIMIT);
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let (sem, inside, most) = (sem.clone(), inside.clone(), most.clone());
                evloop::spawn(async move {
                    for _ in 0..200 {
                        let _permit = sem.acquire().await;
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        evloop::yield_now().await;
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(sem.available_permits(), LIMIT);
        most.load(Ordering::SeqCst)
    });
    event_loop.close();
    assert!(
        most_inside <= LIMIT,
        "{most_inside} tasks held a permit at once"
    );
}

/// Whatever the build profile (with or without overflow checks), releasing a
/// semaphore at `usize::MAX` keeps it at its ceiling and usable.
#[test]
fn release_at_the_largest_count_saturates_in_every_profile() {
    let sem = Semaphore::new(usize::MAX);
    sem.release();
    assert_eq!(sem.available_permits(), usize::MAX);
    assert!(!sem.locked());
    let permit = sem.try_acquire().expect("a permit is free");
    assert_eq!(sem.available_permits(), usize::MAX - 1);
    drop(permit);
    // A permit given back at the ceiling adds nothing either.
    sem.try_acquire().unwrap().forget();
    sem.release();
    sem.release();
    assert_eq!(sem.available_permits(), usize::MAX);
}
