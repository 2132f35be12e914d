//! A `ConcurrentFuture` polled as a future, racing its completion: awaited
//! to the end, or polled once and then waited on with the blocking
//! `result()`, which then parks the thread (`util::block_on`) until the
//! completion's wake unparks it.
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use evloop::bridge::loom_hooks::concurrent_future;
use evloop_loom_tests::{Counter, CountingWaker, Coverage, model};
use loom::thread;

#[test]
fn awaiting_a_concurrent_future_gets_the_value() {
    model(|| {
        let (future, completer) = concurrent_future::<u32>();
        let completing = thread::spawn(move || completer.complete(3));
        assert_eq!(loom::future::block_on(future).unwrap(), 3);
        completing.join().unwrap();
    });
}

/// After a poll, the blocking wait cannot use the channel's own blocking
/// receive: it polls with a waker that unparks this thread. A wake that
/// does not unpark it leaves the thread parked for good.
#[test]
fn a_blocking_wait_after_a_poll_is_woken_by_the_completion() {
    static COVERAGE: Coverage = Coverage::new(&["ready at the poll", "waited"]);
    model(|| {
        let (mut future, completer) = concurrent_future::<u32>();
        let completing = thread::spawn(move || completer.complete(9));
        let wakes = Counter::new();
        let waker = CountingWaker::waker(&wakes);
        match Pin::new(&mut future).poll(&mut Context::from_waker(&waker)) {
            Poll::Ready(outcome) => {
                assert_eq!(outcome.unwrap(), 9);
                COVERAGE.reached("ready at the poll");
            }
            Poll::Pending => {
                assert_eq!(future.result().unwrap(), 9);
                COVERAGE.reached("waited");
            }
        }
        completing.join().unwrap();
    });
    COVERAGE.assert_all_reached();
}
