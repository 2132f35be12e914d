//! Timers: a registration against the poller's holder going to sleep, and
//! the timer's fire against the sleeping task storing a new waker.
//!
//! The real timer entry, timer queue, wheel and poller turn run; the OS
//! poller is the models' stand-in, whose block ends only through its waker.
//! A registration that does not wake the holder leaves it blocked and the
//! task waiting, and a fire that misses the latest waker leaves the task
//! waiting: loom reports either as a deadlock.
#![cfg(loom)]

use std::future::Future;
use std::pin::pin;
use std::task::Context;

use evloop::loom_hooks::Reactor;
use evloop_loom_tests::{Counter, CountingWaker, model};
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

/// A task registers a due timer (with one waker) while the holder of the
/// poller processes the timer queue and goes to sleep in the poller, then
/// waits for it with another waker (as a sleep moved to another task does)
/// while the holder fires it: the timer fires, and the waker the task
/// waits with is woken (or the task sees the fire when it looks).
#[test]
fn a_timer_registered_as_the_holder_goes_to_sleep_fires_and_wakes_the_latest_waker() {
    model(|| {
        let reactor = Arc::new(Reactor::new());
        let holder = thread::spawn({
            let reactor = reactor.clone();
            move || reactor.drive_until_shut_down()
        });
        let mut timer = pin!(reactor.due_timer());
        let wakes = Counter::new();
        let first = CountingWaker::waker(&wakes);
        if timer
            .as_mut()
            .poll(&mut Context::from_waker(&first))
            .is_pending()
        {
            block_on(timer);
        }
        reactor.shut_down();
        holder.join().expect("the holder does not panic");
    });
}
