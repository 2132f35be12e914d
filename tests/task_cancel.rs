//! Cancellation drops the future at its next suspension point, exactly once.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};

use common::{DropCounter, Forever, event_loop, pending_with};

#[test]
fn cancel_runs_destructors_of_the_future_exactly_once() {
    let lp = event_loop(2, "cancel1");
    let drops = DropCounter::new();
    let (started_tx, started_rx) = mpsc::channel();
    let guard = drops.guard();
    let task = lp.handle().spawn(async move {
        let _guard = guard;
        started_tx.send(()).unwrap();
        std::future::pending::<()>().await;
    });
    started_rx.recv().unwrap();
    assert!(task.cancel());
    let err = lp.run_until_complete(task).unwrap_err();
    assert!(err.is_cancelled());
    assert_eq!(drops.count(), 1);
    drop(lp);
    assert_eq!(drops.count(), 1, "close does not drop it again");
}

#[test]
fn cancelled_task_reads_cancelled_and_cancel_after_done_is_false() {
    let lp = event_loop(1, "cancel2");
    let (tx, rx) = mpsc::channel();
    let task = lp.handle().spawn(pending_with(DropCounter::new().guard()));
    task.add_done_callback(move |t| tx.send(t.cancelled()).unwrap());
    assert!(task.cancel());
    assert!(
        task.cancel(),
        "a second request while cancelling still reports not done"
    );
    assert!(rx.recv().unwrap());
    assert!(task.done() && task.cancelled());
    assert!(!task.cancel(), "already done");
}

#[test]
fn a_cancelled_task_is_not_polled_again() {
    let lp = event_loop(2, "cancel3");
    let polls = Arc::new(AtomicUsize::new(0));
    let drops = DropCounter::new();
    let task = lp.handle().spawn(Forever {
        polls: polls.clone(),
        _guard: Some(drops.guard()),
    });
    let (tx, rx) = mpsc::channel();
    task.add_done_callback(move |_| tx.send(()).unwrap());
    task.cancel();
    rx.recv().unwrap();
    assert!(polls.load(Ordering::SeqCst) <= 1);
    assert_eq!(drops.count(), 1);
}

#[test]
fn cancel_before_first_poll_never_polls() {
    let lp = event_loop(1, "cancel4");
    let (block_tx, block_rx) = mpsc::channel::<()>();
    let (running_tx, running_rx) = mpsc::channel();
    // Occupy the only worker so the next task stays queued.
    let blocker = lp.handle().spawn(async move {
        running_tx.send(()).unwrap();
        block_rx.recv().unwrap();
    });
    running_rx.recv().unwrap();
    let polls = Arc::new(AtomicUsize::new(0));
    let task = lp.handle().spawn(Forever {
        polls: polls.clone(),
        _guard: None,
    });
    assert!(task.cancel());
    block_tx.send(()).unwrap();
    let result = lp.run_until_complete(async move {
        blocker.await.unwrap();
        task.await
    });
    assert!(result.unwrap_err().is_cancelled());
    assert_eq!(polls.load(Ordering::SeqCst), 0);
}

#[test]
fn a_task_can_cancel_itself_and_finishes_at_its_next_await() {
    let lp = event_loop(2, "cancel5");
    let reached = Arc::new(AtomicUsize::new(0));
    let seen = reached.clone();
    let task = lp.handle().spawn(async move {
        evloop::current_task().unwrap().cancel();
        seen.fetch_add(1, Ordering::SeqCst);
        evloop::yield_now().await;
        seen.fetch_add(1, Ordering::SeqCst);
    });
    assert!(lp.run_until_complete(task).unwrap_err().is_cancelled());
    assert_eq!(reached.load(Ordering::SeqCst), 1);
}

#[test]
fn cancel_error_names_the_task() {
    let lp = event_loop(1, "cancel6");
    let task = evloop::task::TaskBuilder::new()
        .name("sleepy")
        .spawn_on(std::future::pending::<()>(), &lp.handle());
    task.cancel();
    let err = lp.run_until_complete(task).unwrap_err();
    assert_eq!(err.to_string(), "task 'sleepy' was cancelled");
    assert_eq!(err.task_name(), Some("sleepy"));
}
