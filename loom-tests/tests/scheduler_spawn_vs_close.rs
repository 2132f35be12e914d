//! A task spawned from a foreign thread while the scheduler closes: it is
//! run, cancelled or refused, exactly one of them, and its future is dropped
//! exactly once. No run-queue entry outlives the close (a leaked entry would
//! keep the scheduler alive, which loom reports as a leaked `Arc`).
#![cfg(loom)]

use evloop::loom_hooks::Scheduler;
use evloop_loom_tests::{Counter, Coverage, DropProbe, model};
use loom::thread;

#[test]
fn spawn_racing_close_ends_the_task_exactly_once() {
    static COVERAGE: Coverage = Coverage::new(&["ran", "cancelled", "refused"]);
    model(|| {
        let (scheduler, worker_seeds) = Scheduler::new(1);
        let worker_threads: Vec<_> = worker_seeds
            .into_iter()
            .map(|worker| thread::spawn(move || worker.run()))
            .collect();

        let polls = Counter::new();
        let future_drops = Counter::new();
        let spawner = thread::spawn({
            let scheduler = scheduler.clone();
            let polls = polls.clone();
            let probe = DropProbe::new(&future_drops);
            move || {
                scheduler.spawn(async move {
                    let _probe = probe;
                    polls.increment();
                    11
                })
            }
        });

        // Closing, as `EventLoop::close` does it.
        scheduler.begin_shutdown();
        for worker in worker_threads {
            worker.join().unwrap();
        }
        scheduler.drop_remaining_tasks();
        let mut task = spawner.join().unwrap();

        assert_eq!(future_drops.get(), 1, "the future is dropped exactly once");
        assert!(task.done(), "closing finishes every task");
        match task.try_result().expect("a done task has a result") {
            Ok(value) => {
                assert_eq!(value, 11);
                assert_eq!(polls.get(), 1);
                COVERAGE.reached("ran");
            }
            Err(error) => {
                assert_eq!(polls.get(), 0, "a task that ran keeps its value");
                if error.is_cancelled() {
                    COVERAGE.reached("cancelled");
                } else {
                    assert!(error.is_loop_closed(), "unexpected error: {error}");
                    COVERAGE.reached("refused");
                }
            }
        }
        assert_eq!(scheduler.live_tasks(), 0);
    });
    COVERAGE.assert_all_reached();
}
