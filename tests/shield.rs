//! `shield` (CPython's test_asyncio `test_shield_*` behaviours).

mod common;

use std::sync::mpsc;

use common::event_loop;
use evloop::{Promise, shield};

/// A task that returns `value` once `gate` is set.
fn gated_task<T: Clone + Send + 'static>(gate: &Promise<T>) -> evloop::Task<T> {
    let gate = gate.clone();
    evloop::spawn(async move { gate.await.unwrap() })
}

#[test]
fn awaiting_a_shield_yields_the_task_result() {
    let lp = event_loop(2, "shield-result");
    let value = lp.run_until_complete(async {
        let gate = Promise::new();
        let outer = shield(gated_task(&gate));
        gate.set_result(42).unwrap();
        outer.await
    });
    assert_eq!(value.unwrap(), 42);
}

#[test]
fn cancelling_the_outer_leaves_the_inner_running() {
    let lp = event_loop(2, "shield-outer");
    lp.run_until_complete(async {
        let gate = Promise::new();
        let task = gated_task(&gate);
        let inner = task.task_ref();
        let outer = shield(task);
        assert!(outer.cancel());
        assert!(outer.cancelled());
        let task = {
            let mut outer = outer;
            assert!((&mut outer).await.unwrap_err().is_cancelled());
            outer.into_inner()
        };
        assert!(!inner.done() && !inner.cancelled());
        gate.set_result("finished anyway").unwrap();
        assert_eq!(task.await.unwrap(), "finished anyway");
    });
}

#[test]
fn cancelling_the_task_awaiting_a_shield_leaves_the_inner_running() {
    let lp = event_loop(2, "shield-waiter");
    let gate = Promise::new();
    let (inner_tx, inner_rx) = mpsc::channel();
    let (waiting_tx, waiting_rx) = mpsc::channel();
    let waiter = lp.handle().spawn({
        let gate = gate.clone();
        async move {
            let task = gated_task(&gate);
            inner_tx.send(task.task_ref()).unwrap();
            let outer = shield(task);
            waiting_tx.send(()).unwrap();
            outer.await
        }
    });
    let inner = inner_rx.recv().unwrap();
    waiting_rx.recv().unwrap();
    assert!(waiter.cancel());
    let (done_tx, done_rx) = mpsc::channel();
    lp.run_until_complete(async {
        assert!(waiter.await.unwrap_err().is_cancelled());
        assert!(!inner.done(), "dropping the shield did not cancel the task");
        inner.add_done_callback(move |t| done_tx.send(t.cancelled()).unwrap());
        gate.set_result(1).unwrap();
    });
    assert!(!done_rx.recv().unwrap(), "the inner task finished normally");
}

#[test]
fn a_cancelled_inner_makes_the_outer_read_cancelled() {
    let lp = event_loop(2, "shield-inner");
    lp.run_until_complete(async {
        let gate: Promise<()> = Promise::new();
        let task = gated_task(&gate);
        let inner = task.task_ref();
        let outer = shield(task);
        assert!(inner.cancel());
        let error = outer.await.unwrap_err();
        assert!(error.is_cancelled());
        assert_eq!(
            error.task_id(),
            Some(inner.id()),
            "it is the inner task's cancellation"
        );
    });
}

#[test]
fn a_shield_of_a_finished_task_cannot_be_cancelled() {
    let lp = event_loop(1, "shield-done");
    lp.run_until_complete(async {
        let mut outer = shield(evloop::spawn(async { 6 }));
        while !outer.done() {
            evloop::yield_now().await;
        }
        assert!(!outer.cancel(), "the task already finished");
        assert!(!outer.cancelled());
        assert_eq!((&mut outer).await.unwrap(), 6);
    });
}

#[test]
fn a_panicking_inner_task_reaches_the_outer() {
    let lp = event_loop(1, "shield-panic");
    let error = lp.run_until_complete(async {
        shield(evloop::spawn(async { panic!("inner failed") }))
            .await
            .unwrap_err()
    });
    assert_eq!(error.panic_message(), Some("inner failed"));
}
