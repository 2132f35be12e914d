//! Model 5: a `ConcurrentFuture`'s completion racing its owner's `cancel()`
//! and `result_timeout()`.
//!
//! The completer runs on its own loom thread, as the done callback of the
//! task in the loop does on a worker; the owner's calls run on the main
//! thread. In every interleaving the owner sees exactly one outcome, the
//! value is never both delivered and cancelled, and each done callback
//! runs exactly once.
#![cfg(loom)]

use std::time::Duration;

use evloop::ResultTimeoutError;
use evloop::bridge::Outcome;
use evloop::bridge::loom_hooks::concurrent_future;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

/// Counts done-callback calls and remembers the last outcome.
fn counting_callback(calls: &Arc<AtomicUsize>) -> impl FnOnce(Outcome) + Send + 'static {
    let calls = calls.clone();
    move |_| {
        calls.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn completion_racing_cancel_settles_the_future_once() {
    loom::model(|| {
        let (mut future, completer) = concurrent_future::<u32>();
        let calls = Arc::new(AtomicUsize::new(0));
        future.add_done_callback(counting_callback(&calls));

        let completing = thread::spawn(move || completer.complete(7));
        let cancelled = future.cancel();
        assert!(future.done());
        assert_eq!(future.cancelled(), cancelled);

        match future.result_timeout(Duration::ZERO) {
            Ok(value) => {
                assert!(!cancelled, "a cancelled future delivered its value");
                assert_eq!(value, 7);
            }
            Err(ResultTimeoutError::Failed(err)) => {
                assert!(cancelled, "the value was lost without a cancel");
                assert!(err.is_cancelled());
            }
            Err(ResultTimeoutError::Timeout) => panic!("a settled future timed out"),
        }
        completing.join().unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    });
}

#[test]
fn polling_result_while_completing_then_waiting_gets_the_value() {
    loom::model(|| {
        let (mut future, completer) = concurrent_future::<u32>();
        let completing = thread::spawn(move || completer.complete(11));

        match future.result_timeout(Duration::ZERO) {
            Ok(value) => assert_eq!(value, 11),
            Err(ResultTimeoutError::Timeout) => {
                // Still usable after a timeout: the blocking wait gets it.
                assert_eq!(future.result().unwrap(), 11);
            }
            Err(ResultTimeoutError::Failed(err)) => panic!("unexpected failure: {err}"),
        }
        completing.join().unwrap();
    });
}

#[test]
fn done_callback_added_during_completion_runs_exactly_once() {
    loom::model(|| {
        let (future, completer) = concurrent_future::<u32>();
        let calls = Arc::new(AtomicUsize::new(0));
        let completing = thread::spawn(move || completer.complete_cancelled());

        future.add_done_callback(counting_callback(&calls));
        completing.join().unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(future.cancelled());
        assert!(!future.cancel());
        assert!(future.result().unwrap_err().is_cancelled());
    });
}
