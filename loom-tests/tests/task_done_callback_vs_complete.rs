//! `add_done_callback` racing the task's completion: each callback runs
//! exactly once, after the task is done, whether the completer takes it or
//! its adder finds the list closed and runs it itself.
//!
//! A callback added on another thread after completion may run before the
//! completer has finished running the earlier ones: only each callback's
//! single run is promised, not an order across threads.
#![cfg(loom)]

use std::sync::{Arc, Mutex};

use evloop::loom_hooks::TaskQueue;
use evloop_loom_tests::{Counter, YieldThen, model};
use loom::thread;

#[test]
fn done_callback_added_while_the_task_completes_runs_exactly_once() {
    model(|| {
        let queue = Arc::new(TaskQueue::new());
        let runs: Arc<Mutex<Vec<&'static str>>> = Arc::default();
        let record = |label: &'static str| {
            let runs = runs.clone();
            move |task: &evloop::TaskRef| {
                assert!(task.done(), "done callbacks run after completion");
                runs.lock().unwrap().push(label);
            }
        };
        let future_drops = Counter::new();
        let task = queue.spawn(YieldThen::new(0, 3, &Counter::new(), &future_drops));
        task.add_done_callback(record("before the race"));
        let task_ref = task.task_ref();

        let runner = thread::spawn({
            let queue = queue.clone();
            move || {
                queue.run_all();
            }
        });
        let adder = thread::spawn({
            let callback = record("during the race");
            move || task_ref.add_done_callback(callback)
        });
        runner.join().unwrap();
        adder.join().unwrap();

        let mut runs = runs.lock().unwrap().clone();
        runs.sort_unstable();
        assert_eq!(
            runs,
            ["before the race", "during the race"],
            "each callback ran exactly once"
        );
        assert_eq!(future_drops.get(), 1);
        drop(task);
        assert_eq!(queue.live_tasks(), 0);
        assert_eq!(queue.allocated_tasks(), 0);
    });
}
