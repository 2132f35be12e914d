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
    // The only worker is held busy, so the cancel cannot complete before
    // the second request.
    let (busy_tx, busy_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let blocker = lp.handle().spawn(async move {
        busy_tx.send(()).unwrap();
        release_rx.recv().unwrap();
    });
    busy_rx.recv().unwrap();
    let task = lp.handle().spawn(pending_with(DropCounter::new().guard()));
    task.add_done_callback(move |t| tx.send(t.cancelled()).unwrap());
    assert!(task.cancel());
    assert!(
        task.cancel(),
        "a second request while cancelling still reports not done"
    );
    release_tx.send(()).unwrap();
    assert!(rx.recv().unwrap());
    assert!(task.done() && task.cancelled());
    assert!(!task.cancel(), "already done");
    lp.run_until_complete(blocker).unwrap();
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

#[test]
fn a_cancel_on_drop_task_given_to_wait_for_is_cancelled_on_timeout() {
    let drops = DropCounter::new();
    let guard = drops.guard();
    let (watched, timed_out) = evloop::run(async move {
        let slow = evloop::spawn(pending_with(guard));
        let watched = slow.task_ref();
        let timed_out =
            evloop::wait_for(slow.cancel_on_drop(), std::time::Duration::from_millis(5)).await;
        // The cancelled task's future is dropped on a worker: wait for it.
        while !watched.done() {
            evloop::yield_now().await;
        }
        (watched, timed_out)
    });
    assert!(timed_out.is_err());
    assert!(watched.cancelled());
    assert_eq!(drops.count(), 1);
}

#[test]
fn a_plain_task_given_to_wait_for_keeps_running_after_the_timeout() {
    let result = evloop::run(async {
        let gate = evloop::Promise::new();
        let task = evloop::spawn({
            let gate = gate.clone();
            async move { gate.await.unwrap() + 1 }
        });
        let watched = task.task_ref();
        let timed_out = evloop::wait_for(task, std::time::Duration::from_millis(5)).await;
        assert!(timed_out.is_err());
        gate.set_result(41).unwrap();
        while !watched.done() {
            evloop::yield_now().await;
        }
        watched.cancelled()
    });
    assert!(!result, "the detached task ran to its end");
}

#[test]
fn cancel_on_drop_awaits_like_the_task_and_into_task_detaches_again() {
    evloop::run(async {
        assert_eq!(
            evloop::spawn(async { 7 }).cancel_on_drop().await.unwrap(),
            7
        );
        let gate = evloop::Promise::new();
        let guarded = evloop::spawn({
            let gate = gate.clone();
            async move { gate.await.unwrap() }
        })
        .cancel_on_drop();
        assert!(!guarded.done());
        let task = guarded.into_task();
        gate.set_result(3).unwrap();
        assert_eq!(task.await.unwrap(), 3);
    });
}
