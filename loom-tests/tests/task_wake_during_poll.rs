//! A wake that races the poll in progress: the task is polled exactly once
//! more, however many wakes arrive and whether they land before, during or
//! after the runner's return to idle (task state rule 2).
#![cfg(loom)]

use std::sync::Arc;
use std::task::Waker;

use evloop::loom_hooks::TaskQueue;
use evloop_loom_tests::{Counter, Mailbox, PendingUntilWoken, model};
use loom::thread;

/// Runs the task's first poll on one thread while another takes its waker
/// (posted during that poll) and calls `wake` with it. Checks that the task
/// was queued exactly once more and then completes.
fn wakes_during_a_poll(wake: fn(Waker)) {
    model(move || {
        let queue = Arc::new(TaskQueue::new());
        let waker_out = Arc::new(Mailbox::new());
        let polls = Counter::new();
        let future_drops = Counter::new();
        let mut task = queue.spawn(PendingUntilWoken::new(
            waker_out.clone(),
            5,
            &polls,
            &future_drops,
        ));

        let first_run = queue.pop().expect("spawn queues the first run");
        let runner = thread::spawn(move || first_run.run());
        let waker = thread::spawn(move || wake(waker_out.recv()));
        runner.join().unwrap();
        waker.join().unwrap();

        assert_eq!(polls.get(), 1);
        assert_eq!(queue.queued(), 1, "the wakes queue exactly one run");
        assert_eq!(queue.run_all(), 1);
        assert_eq!(polls.get(), 2, "the task was polled exactly once more");
        assert_eq!(future_drops.get(), 1);
        assert_eq!(task.try_result().map(Result::unwrap), Some(5));
        assert_eq!(queue.live_tasks(), 0);
        drop(task);
        assert_eq!(queue.allocated_tasks(), 0);
    });
}

#[test]
fn wakes_during_a_poll_queue_exactly_one_more_run() {
    wakes_during_a_poll(|waker| {
        waker.wake_by_ref();
        waker.wake();
    });
}

/// `wake` consumes the waker's reference: while the task runs, that
/// reference is dropped and SCHEDULED set in one step.
#[test]
fn a_wake_by_value_during_a_poll_queues_one_more_run() {
    wakes_during_a_poll(Waker::wake);
}

#[test]
fn a_wake_by_reference_during_a_poll_queues_one_more_run() {
    wakes_during_a_poll(|waker| waker.wake_by_ref());
}
