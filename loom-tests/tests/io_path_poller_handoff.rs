//! The IO path: idle workers block in the poller, the reactor thread drives
//! it when they do not, and work or timers that arrive meanwhile are never
//! lost, nor a task left in the LIFO slot of a worker that then blocks.
//!
//! The real scheduler, worker loop, parker, poller protocol and reactor
//! thread loop run on loom threads; only the OS poller is a stand-in whose
//! "block" is a loom-visible wait that its waker ends. A lost wake-up, or a
//! poller left undriven while something waits on it, leaves every thread
//! blocked, which loom reports as a deadlock. A second holder of the poller
//! trips the protocol's own assertion.
#![cfg(loom)]

use evloop::loom_hooks::IoLoop;
use evloop_loom_tests::{Counter, model_with_preemptions};
use loom::future::block_on;
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

/// Runs `body` against a loop with one worker and its reactor thread, then
/// closes the loop the way `EventLoop::close` does.
fn with_io_loop(body: impl FnOnce(&IoLoop)) {
    with_seeded_io_loop(1, true, |_| (), |io_loop, ()| body(io_loop));
}

/// Runs `seed` against a loop of `workers` workers before its threads
/// start (what it spawns waits in the injector: no race with a foreign
/// spawn), then `body` with what `seed` returned while the threads run;
/// then closes the loop the way `EventLoop::close` does. Without
/// `reactor_thread`, only the workers take the poller (a model that waits
/// on no timer and no IO needs no fallback driver).
fn with_seeded_io_loop<S>(
    workers: usize,
    reactor_thread: bool,
    seed: impl FnOnce(&IoLoop) -> S,
    body: impl FnOnce(&IoLoop, S),
) {
    let (io_loop, workers, reactor) = IoLoop::new(workers);
    let seeded = seed(&io_loop);
    let reactor = reactor_thread.then(|| thread::spawn(move || reactor.run()));
    let workers: Vec<_> = workers
        .into_iter()
        .map(|worker| thread::spawn(move || worker.run()))
        .collect();

    body(&io_loop, seeded);

    io_loop.scheduler().begin_shutdown();
    for worker in workers {
        worker.join().expect("worker threads do not panic");
    }
    io_loop.scheduler().drop_remaining_tasks();
    io_loop.stop_reactor();
    if let Some(reactor) = reactor {
        reactor.join().expect("the reactor thread does not panic");
    }
    assert_eq!(io_loop.scheduler().live_tasks(), 0);
}

/// (a) The only worker may be blocked in the poller (or about to be, or
/// parked because the reactor thread holds it) when a task comes from a
/// foreign thread: the task runs.
#[test]
fn a_foreign_spawn_reaches_the_only_worker_blocked_in_the_poller() {
    model_with_preemptions(2, || {
        with_io_loop(|io_loop| {
            let polls = Counter::new();
            let task = io_loop.scheduler().spawn({
                let polls = polls.clone();
                async move {
                    polls.increment();
                    5
                }
            });
            assert_eq!(block_on(task).expect("the task completes"), 5);
            assert_eq!(polls.get(), 1);
        });
    });
}

/// (b) A task waiting on a timer: whichever of the worker and the reactor
/// thread holds the poller (never both) processes it, so the task
/// completes; the poller is never left undriven while it waits.
#[test]
fn a_task_waiting_on_a_timer_completes_whoever_holds_the_poller() {
    model_with_preemptions(1, || {
        with_io_loop(|io_loop| {
            let timer = io_loop.due_timer();
            let task = io_loop.scheduler().spawn(async move {
                timer.await;
                9
            });
            assert_eq!(block_on(task).expect("the task completes"), 9);
        });
    });
}

/// (c) A timer registered from a foreign thread while the worker and the
/// reactor thread pass the poller between them fires.
#[test]
fn a_timer_inserted_while_the_poller_changes_hands_fires() {
    model_with_preemptions(2, || {
        with_io_loop(|io_loop| {
            block_on(io_loop.due_timer());
        });
    });
}

/// (e) A task blocks the only worker's thread until a timer fires: only
/// the reactor thread can drive the poller then. It may have gone to sleep
/// until the worker lets go of the poller (the worker was blocked in it
/// before the task came); the worker's release must wake it, so that it
/// takes the free poller and fires the timer.
#[test]
fn a_timer_awaited_by_a_task_blocking_the_only_worker_is_fired_by_the_reactor_thread() {
    model_with_preemptions(2, || {
        with_io_loop(|io_loop| {
            let timer = io_loop.due_timer();
            let task = io_loop.scheduler().spawn(async move {
                // Blocks the worker's thread, as a blocking call would.
                block_on(timer);
                4
            });
            assert_eq!(block_on(task).expect("the task completes"), 4);
        });
    });
}

/// (d) A task spawned by a running task goes to its worker's LIFO slot;
/// the running task then blocks its thread until the child has run. The
/// child runs only if the other worker takes it from the slot: filling the
/// slot must wake that worker wherever it sleeps, on its parker or blocked
/// in the poller (through the poller's waker), unless it is searching and
/// finds the slot itself. Otherwise every thread blocks, which loom reports.
#[test]
fn a_task_in_a_blocked_workers_lifo_slot_reaches_the_worker_in_the_poller() {
    model_with_preemptions(1, || {
        with_seeded_io_loop(
            2,
            false,
            |io_loop| {
                let scheduler = io_loop.scheduler().clone();
                io_loop.scheduler().spawn(async move {
                    let ran = Arc::new((Mutex::new(false), Condvar::new()));
                    let child = scheduler.spawn({
                        let ran = ran.clone();
                        async move {
                            *ran.0.lock().unwrap() = true;
                            ran.1.notify_one();
                        }
                    });
                    {
                        // Blocks this worker's thread, as a blocking call
                        // would.
                        let mut done = ran.0.lock().unwrap();
                        while !*done {
                            done = ran.1.wait(done).unwrap();
                        }
                    }
                    child.await.expect("the child completes");
                    3
                })
            },
            |_, task| {
                assert_eq!(block_on(task).expect("the task completes"), 3);
            },
        );
    });
}
