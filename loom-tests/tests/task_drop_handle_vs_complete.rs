//! Dropping the `Task` handle while the task completes (task state rules 4
//! to 6): whoever comes second drops the output, so it is dropped exactly
//! once, and the task's allocation is freed.
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Context;

use evloop::loom_hooks::TaskQueue;
use evloop_loom_tests::{Counter, CountingWaker, DropProbe, YieldThen, model};
use loom::thread;

#[test]
fn dropping_the_handle_while_the_task_completes_drops_the_output_once() {
    model(|| {
        let queue = Arc::new(TaskQueue::new());
        let future_drops = Counter::new();
        let output_drops = Counter::new();
        let output = DropProbe::new(&output_drops);
        let task = queue.spawn(YieldThen::new(1, output, &Counter::new(), &future_drops));

        let runner = thread::spawn({
            let queue = queue.clone();
            move || {
                queue.run_all();
            }
        });
        let dropper = thread::spawn(move || drop(task));
        runner.join().unwrap();
        dropper.join().unwrap();

        assert_eq!(queue.queued(), 0);
        assert_eq!(future_drops.get(), 1);
        assert_eq!(output_drops.get(), 1, "the output is dropped exactly once");
        assert_eq!(queue.live_tasks(), 0);
        assert_eq!(queue.allocated_tasks(), 0, "the task is freed");
    });
}

/// The handle registers a join waker first, so the completer may be waking
/// it while the handle goes away.
#[test]
fn dropping_a_polled_handle_while_the_task_completes_drops_the_output_once() {
    model(|| {
        let queue = Arc::new(TaskQueue::new());
        let future_drops = Counter::new();
        let output_drops = Counter::new();
        let output = DropProbe::new(&output_drops);
        let mut task = queue.spawn(YieldThen::new(0, output, &Counter::new(), &future_drops));

        let runner = thread::spawn({
            let queue = queue.clone();
            move || {
                queue.run_all();
            }
        });
        let join_wakes = Counter::new();
        let poller = thread::spawn({
            let join_wakes = join_wakes.clone();
            move || {
                let waker = CountingWaker::waker(&join_wakes);
                let polled = Pin::new(&mut task).poll(&mut Context::from_waker(&waker));
                let ready = polled.is_ready();
                drop(polled);
                drop(task);
                ready
            }
        });
        runner.join().unwrap();
        let was_ready = poller.join().unwrap();

        assert_eq!(future_drops.get(), 1);
        assert_eq!(output_drops.get(), 1, "the output is dropped exactly once");
        if was_ready {
            assert_eq!(
                join_wakes.get(),
                0,
                "a handle that got its output is not woken"
            );
        } else {
            assert!(
                join_wakes.get() <= 1,
                "the join waker is woken at most once"
            );
        }
        assert_eq!(queue.live_tasks(), 0);
        assert_eq!(queue.allocated_tasks(), 0, "the task is freed");
    });
}
