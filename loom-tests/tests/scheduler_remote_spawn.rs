//! A task spawned from a thread outside the scheduler races the workers
//! going to sleep: it must always run (no lost wake-up).
//!
//! The real `Shared` scheduler, the real worker loop and the real parker
//! run on loom threads; the spawning thread then waits for the task's
//! result. A lost wake-up leaves every thread blocked, which loom reports
//! as a deadlock.
#![cfg(loom)]

use evloop::loom_hooks::Scheduler;
use evloop_loom_tests::{Counter, DropProbe, model, model_with_preemptions};
use loom::future::block_on;
use loom::thread;

/// Spawns one task from the model's main thread into a scheduler whose
/// `workers` workers start at the same time, waits for its result, then
/// closes the scheduler the way a loop closes.
fn spawn_from_foreign_thread_and_wait(workers: usize) {
    let (scheduler, worker_seeds) = Scheduler::new(workers);
    let worker_threads: Vec<_> = worker_seeds
        .into_iter()
        .map(|worker| thread::spawn(move || worker.run()))
        .collect();

    let polls = Counter::new();
    let future_drops = Counter::new();
    let task = scheduler.spawn({
        let polls = polls.clone();
        let probe = DropProbe::new(&future_drops);
        async move {
            let _probe = probe;
            polls.increment();
            7
        }
    });
    let output = block_on(task).expect("the task completes with its value");
    assert_eq!(output, 7);
    assert_eq!(polls.get(), 1, "the task ran exactly once");

    scheduler.begin_shutdown();
    for worker in worker_threads {
        worker.join().expect("worker threads do not panic");
    }
    scheduler.drop_remaining_tasks();
    assert_eq!(future_drops.get(), 1, "the future was dropped exactly once");
    assert_eq!(scheduler.live_tasks(), 0);
}

#[test]
fn spawn_from_a_foreign_thread_wakes_the_only_worker_as_it_goes_to_sleep() {
    model(|| spawn_from_foreign_thread_and_wait(1));
}

/// Two worker loops and the spawner make three busy threads: bound 2
/// explores them in about half a minute, bound 3 takes over ten.
#[test]
fn spawn_from_a_foreign_thread_wakes_one_of_two_workers_going_to_sleep() {
    model_with_preemptions(2, || spawn_from_foreign_thread_and_wait(2));
}
