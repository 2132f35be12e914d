//! The callbacks' own handoffs: a timed callback's `set_task` racing its
//! `cancel`, the ready queue's drainer finishing while a callback is
//! submitted, a drainer cancelled (its task dropped) while a callback is
//! submitted, which must start exactly one successor, and a user's cancel
//! racing the drainer's run of the callback.
//!
//! The queue hook fails a model that ever has two unfinished drainers.
#![cfg(loom)]

use std::sync::Arc;

use evloop::bridge::loom_hooks::{CallSoonQueue, CallbackDrainer, callback, set_task};
use evloop::loom_hooks::TaskQueue;
use evloop_loom_tests::{Counter, Coverage, DropProbe, model};
use loom::sync::Mutex;
use loom::thread;

/// `call_at` spawns the sleeping task, then ties it to the handle; a user
/// may cancel the handle in between. Either way the cancel reaches the
/// task: its future is dropped.
#[test]
fn a_cancel_racing_set_task_cancels_the_sleeping_task() {
    model(|| {
        let queue = TaskQueue::new();
        let future_drops = Counter::new();
        let probe = DropProbe::new(&future_drops);
        let sleeper = queue.spawn(async move {
            let _probe = probe;
            std::future::pending::<()>().await;
        });
        assert_eq!(queue.run_all(), 1);
        let sleeper_ref = sleeper.task_ref();
        let handle = callback(|| unreachable!("a cancelled callback never runs"));

        let setting = thread::spawn({
            let handle = handle.clone();
            move || set_task(&handle, sleeper)
        });
        assert!(handle.cancel(), "a pending callback cancels");
        setting.join().unwrap();
        queue.run_all();

        assert!(handle.cancelled());
        assert!(sleeper_ref.done() && sleeper_ref.cancelled());
        assert_eq!(future_drops.get(), 1);
        assert_eq!(queue.live_tasks(), 0);
    });
}

/// Runs every drainer in `drainers` and every successor they started.
fn drain(queue: &CallSoonQueue, drainers: impl IntoIterator<Item = CallbackDrainer>) {
    let mut drainers: Vec<_> = drainers.into_iter().collect();
    drainers.extend(queue.take_restarted());
    while let Some(drainer) = drainers.pop() {
        drainer.drain_all();
        drainers.extend(queue.take_restarted());
    }
}

/// Submits a callback that records `i` in `ran`.
fn submit(
    queue: &CallSoonQueue,
    ran: &Arc<Mutex<Vec<usize>>>,
    i: usize,
) -> (evloop::CallbackHandle, Option<CallbackDrainer>) {
    let ran = ran.clone();
    queue.submit(move || ran.lock().unwrap().push(i))
}

/// The drainer finds the queue empty and stops while another callback is
/// submitted: that callback is either seen by the drainer or starts a new
/// one, and runs exactly once.
#[test]
fn a_submission_racing_the_drainer_finishing_runs_once() {
    static COVERAGE: Coverage = Coverage::new(&["same drainer", "new drainer"]);
    model(|| {
        let queue = CallSoonQueue::new();
        let ran = Arc::new(Mutex::new(Vec::new()));
        let (first, drainer) = submit(&queue, &ran, 0);
        let drainer = drainer.expect("the first submission starts a drainer");
        let draining = thread::spawn(move || drainer.drain_all());
        let (second, successor) = submit(&queue, &ran, 1);
        COVERAGE.reached(if successor.is_some() {
            "new drainer"
        } else {
            "same drainer"
        });
        draining.join().unwrap();
        drain(&queue, successor);

        assert_eq!(*ran.lock().unwrap(), [0, 1], "each ran once, in order");
        assert!(first.started() && second.started());
    });
    COVERAGE.assert_all_reached();
}

/// The drainer's task is cancelled before it ran while another callback
/// is submitted: exactly one successor drainer runs both callbacks.
#[test]
fn a_cancelled_drainer_is_replaced_once() {
    model(|| {
        let queue = CallSoonQueue::new();
        let ran = Arc::new(Mutex::new(Vec::new()));
        let (first, drainer) = submit(&queue, &ran, 0);
        let drainer = drainer.expect("the first submission starts a drainer");
        let cancelling = thread::spawn(move || drop(drainer));
        let (second, successor) = submit(&queue, &ran, 1);
        cancelling.join().unwrap();
        drain(&queue, successor);

        assert_eq!(*ran.lock().unwrap(), [0, 1], "each ran once, in order");
        assert!(first.started() && second.started());
    });
}

/// The user cancels a queued callback while the drainer runs it: exactly
/// one of them wins. A callback that ran was not cancelled, and one whose
/// cancel succeeded never runs and reads as cancelled.
#[test]
fn a_cancel_racing_the_run_of_a_callback_decides_once() {
    static COVERAGE: Coverage = Coverage::new(&["ran", "cancelled"]);
    model(|| {
        let queue = CallSoonQueue::new();
        let ran = Arc::new(Mutex::new(Vec::new()));
        let (handle, drainer) = submit(&queue, &ran, 0);
        let drainer = drainer.expect("the first submission starts a drainer");
        let draining = thread::spawn(move || drainer.drain_all());
        let cancelled = handle.cancel();
        draining.join().unwrap();

        let did_run = !ran.lock().unwrap().is_empty();
        assert_ne!(did_run, cancelled, "the callback ran or was cancelled");
        assert_eq!(handle.cancelled(), cancelled);
        assert_eq!(handle.started(), did_run);
        COVERAGE.reached(if cancelled { "cancelled" } else { "ran" });
    });
    COVERAGE.assert_all_reached();
}
