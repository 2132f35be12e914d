//! A wake that races the poll in progress: the task is polled exactly once
//! more, however many wakes arrive and whether they land before, during or
//! after the runner's return to idle (task state rule 2).
#![cfg(loom)]

use std::sync::Arc;

use evloop::loom_hooks::TaskQueue;
use evloop_loom_tests::{Counter, Mailbox, PendingUntilWoken, model};
use loom::thread;

#[test]
fn wakes_during_a_poll_queue_exactly_one_more_run() {
    model(|| {
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
        let waker = thread::spawn(move || {
            let waker = waker_out.recv();
            waker.wake_by_ref();
            waker.wake();
        });
        runner.join().unwrap();
        waker.join().unwrap();

        assert_eq!(polls.get(), 1);
        assert_eq!(queue.queued(), 1, "two wakes queue one run");
        assert_eq!(queue.run_all(), 1);
        assert_eq!(polls.get(), 2, "the task was polled exactly once more");
        assert_eq!(future_drops.get(), 1);
        assert_eq!(task.try_result().map(Result::unwrap), Some(5));
        assert_eq!(queue.live_tasks(), 0);
        drop(task);
        assert_eq!(queue.allocated_tasks(), 0);
    });
}
