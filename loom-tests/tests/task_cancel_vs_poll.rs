//! `cancel` racing the poll and the completion of a task (task state rule
//! 3): the future is dropped exactly once, and the task ends with either its
//! value or a cancellation, never both and never neither.
#![cfg(loom)]

use std::sync::Arc;

use evloop::Task;
use evloop::loom_hooks::TaskQueue;
use evloop_loom_tests::{
    Counter, Coverage, DropProbe, Mailbox, PendingUntilWoken, YieldThen, model,
};
use loom::thread;

/// What the model observed, checked once every thread is joined and every
/// queued run has run.
struct Observed {
    cancel_returned: bool,
    polls: Counter,
    future_drops: Counter,
    output_drops: Counter,
}

/// Checks the outcome of `task` against what happened to it.
fn check_outcome(
    queue: &TaskQueue,
    mut task: Task<DropProbe>,
    seen: Observed,
    coverage: &Coverage,
) {
    assert_eq!(queue.queued(), 0);
    assert_eq!(
        seen.future_drops.get(),
        1,
        "the future is dropped exactly once"
    );
    assert!(task.done());
    match task.try_result().expect("a done task has a result") {
        Ok(output) => {
            assert!(!task.cancelled(), "a value outcome is not a cancellation");
            assert_eq!(seen.output_drops.get(), 0);
            drop(output);
            assert_eq!(seen.output_drops.get(), 1);
            coverage.reached("value");
        }
        Err(error) => {
            assert!(
                error.is_cancelled(),
                "only cancellation can end this task early"
            );
            assert!(task.cancelled());
            assert!(
                seen.cancel_returned,
                "a cancelled task saw a successful cancel"
            );
            // The value the future would have returned went with it.
            assert_eq!(seen.output_drops.get(), 1);
            coverage.reached("cancelled");
        }
    }
    assert!(task.try_result().is_none(), "the outcome is taken once");
    assert!(seen.polls.get() <= 2);
    assert_eq!(queue.live_tasks(), 0);
    drop(task);
    assert_eq!(queue.allocated_tasks(), 0);
}

/// The task yields once (waking itself), then completes. One thread runs it
/// until the queue is empty while another cancels it: the cancel can land
/// before the first poll, during either poll, between them, or after the
/// completion.
#[test]
fn cancel_racing_a_yielding_task_ends_it_with_one_outcome() {
    static COVERAGE: Coverage = Coverage::new(&["value", "cancelled"]);
    model(|| {
        let queue = Arc::new(TaskQueue::new());
        let polls = Counter::new();
        let future_drops = Counter::new();
        let output_drops = Counter::new();
        let output = DropProbe::new(&output_drops);
        let task = queue.spawn(YieldThen::new(1, output, &polls, &future_drops));
        let task_ref = task.task_ref();

        let runner = thread::spawn({
            let queue = queue.clone();
            move || {
                queue.run_all();
            }
        });
        let canceller = thread::spawn(move || task_ref.cancel());
        runner.join().unwrap();
        let cancel_returned = canceller.join().unwrap();
        queue.run_all();

        let seen = Observed {
            cancel_returned,
            polls,
            future_drops,
            output_drops,
        };
        check_outcome(&queue, task, seen, &COVERAGE);
    });
    COVERAGE.assert_all_reached();
}

/// The task waits for a wake after its first poll. A wake and a cancel then
/// race on the idle task: both may want to queue it, but it is queued once,
/// and it ends with its value (the wake's run came first) or cancelled.
#[test]
fn cancel_racing_a_wake_of_an_idle_task_queues_it_once() {
    static COVERAGE: Coverage = Coverage::new(&["value", "cancelled"]);
    model(|| {
        let queue = Arc::new(TaskQueue::new());
        let waker_out = Arc::new(Mailbox::new());
        let polls = Counter::new();
        let future_drops = Counter::new();
        let output_drops = Counter::new();
        let output = DropProbe::new(&output_drops);
        let task = queue.spawn(PendingUntilWoken::new(
            waker_out.clone(),
            output,
            &polls,
            &future_drops,
        ));
        assert_eq!(queue.run_all(), 1);
        let waker = waker_out.recv();
        let task_ref = task.task_ref();

        let wake_and_run = thread::spawn({
            let queue = queue.clone();
            move || {
                waker.wake();
                queue.run_all()
            }
        });
        let canceller = thread::spawn(move || task_ref.cancel());
        let mut runs = wake_and_run.join().unwrap();
        let cancel_returned = canceller.join().unwrap();
        runs += queue.run_all();
        assert_eq!(runs, 1, "the wake and the cancel queued the task once");

        let seen = Observed {
            cancel_returned,
            polls,
            future_drops,
            output_drops,
        };
        check_outcome(&queue, task, seen, &COVERAGE);
    });
    COVERAGE.assert_all_reached();
}

/// The task waits for a wake that never comes; cancelling it is the only
/// thing that queues it again, while a runner looks at the queue. The
/// cancel alone must get the future dropped.
#[test]
fn cancel_of_an_idle_task_with_no_other_wake_drops_its_future() {
    model(|| {
        let queue = Arc::new(TaskQueue::new());
        let waker_out = Arc::new(Mailbox::new());
        let polls = Counter::new();
        let future_drops = Counter::new();
        let output_drops = Counter::new();
        let output = DropProbe::new(&output_drops);
        let task = queue.spawn(PendingUntilWoken::new(
            waker_out.clone(),
            output,
            &polls,
            &future_drops,
        ));
        assert_eq!(queue.run_all(), 1);
        let task_ref = task.task_ref();

        let runner = thread::spawn({
            let queue = queue.clone();
            move || queue.run_all()
        });
        let canceller = thread::spawn(move || task_ref.cancel());
        let mut runs = runner.join().unwrap();
        let cancel_returned = canceller.join().unwrap();
        runs += queue.run_all();
        assert!(cancel_returned, "an idle task is not done");
        assert_eq!(runs, 1, "the cancel queued the task once");
        drop(waker_out);

        let seen = Observed {
            cancel_returned,
            polls,
            future_drops,
            output_drops,
        };
        static COVERAGE: Coverage = Coverage::new(&["cancelled"]);
        check_outcome(&queue, task, seen, &COVERAGE);
    });
}
