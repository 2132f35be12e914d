//! Dropping the `Task` handle while the task completes (task state rules 4
//! to 6): whoever comes second drops the output, so it is dropped exactly
//! once, and the task's allocation is freed.
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Context;

use evloop::loom_hooks::TaskQueue;
use evloop_loom_tests::{Counter, CountingWaker, Coverage, DropProbe, YieldThen, model};
use loom::thread::{self, ThreadId};

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

/// An output that records which thread dropped it, and counts the drop.
struct Output {
    _probe: DropProbe,
    dropped_on: Arc<Mutex<Option<ThreadId>>>,
}

impl Drop for Output {
    fn drop(&mut self) {
        *self.dropped_on.lock().unwrap() = Some(thread::current().id());
    }
}

/// The handle registers a join waker first, so the completer may be waking
/// it while the handle goes away. A completion that finds the handle still
/// interested wakes it exactly once (the handle then drops the output on
/// its own thread); one that comes after the handle left wakes nobody and
/// drops the output itself.
#[test]
fn dropping_a_polled_handle_while_the_task_completes_drops_the_output_once() {
    static COVERAGE: Coverage = Coverage::new(&["ready", "woken", "left first"]);
    model(|| {
        let queue = Arc::new(TaskQueue::new());
        let future_drops = Counter::new();
        let output_drops = Counter::new();
        let dropped_on = Arc::new(Mutex::new(None));
        let output = Output {
            _probe: DropProbe::new(&output_drops),
            dropped_on: dropped_on.clone(),
        };
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
                (ready, thread::current().id())
            }
        });
        runner.join().unwrap();
        let (was_ready, poller_id) = poller.join().unwrap();

        assert_eq!(future_drops.get(), 1);
        assert_eq!(output_drops.get(), 1, "the output is dropped exactly once");
        if was_ready {
            assert_eq!(
                join_wakes.get(),
                0,
                "a handle that got its output is not woken"
            );
            COVERAGE.reached("ready");
        } else if *dropped_on.lock().unwrap() == Some(poller_id) {
            assert_eq!(
                join_wakes.get(),
                1,
                "a completion that found the polled handle interested wakes it once"
            );
            COVERAGE.reached("woken");
        } else {
            assert_eq!(
                join_wakes.get(),
                0,
                "a completion after the handle left wakes nobody"
            );
            COVERAGE.reached("left first");
        }
        assert_eq!(queue.live_tasks(), 0);
        assert_eq!(queue.allocated_tasks(), 0, "the task is freed");
    });
    COVERAGE.assert_all_reached();
}
