//! Several tasks on the real scheduler: tasks spawned and woken from
//! inside a task (the LIFO slot, its spill, `schedule_local`), a worker
//! blocked in a poll while its sibling must take the work it queued, the
//! last searcher waking another worker, and the reactor's batched wake-ups.
//!
//! Each model ends only if every task ran: a task left in a queue with
//! every worker asleep (or blocked) leaves the model's threads blocked,
//! which loom reports as a deadlock.
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use evloop::loom_hooks::{Scheduler, WakeBatch, Worker};
use evloop_loom_tests::{Counter, Mailbox, PendingUntilWoken, model, model_with_preemptions};
use loom::future::block_on;
use loom::thread::{self, JoinHandle};

fn start(workers: Vec<Worker>) -> Vec<JoinHandle<()>> {
    workers
        .into_iter()
        .map(|worker| thread::spawn(move || worker.run()))
        .collect()
}

/// Closes the scheduler as a loop closes, and checks nothing is left.
fn close(scheduler: &Scheduler, workers: Vec<JoinHandle<()>>) {
    scheduler.begin_shutdown();
    for worker in workers {
        worker.join().expect("worker threads do not panic");
    }
    scheduler.drop_remaining_tasks();
    assert_eq!(scheduler.live_tasks(), 0);
}

/// A task that spawns the next link of the chain from its worker (into
/// the worker's LIFO slot) until `left` is zero; the last one posts to
/// `done`.
fn link(
    scheduler: Scheduler,
    left: usize,
    polls: Counter,
    done: Arc<Mailbox<()>>,
) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(async move {
        polls.increment();
        if left == 0 {
            done.send(());
        } else {
            let next = link(scheduler.clone(), left - 1, polls, done);
            drop(scheduler.spawn(next));
        }
    })
}

/// A chain of five tasks, each spawned by the one before: the LIFO slot
/// serves three in a row, then its occupant spills to the local queue (and
/// a sibling is notified) and must still run.
#[test]
fn a_task_spilled_from_the_lifo_slot_still_runs() {
    model(|| {
        let (scheduler, workers) = Scheduler::new(1);
        let workers = start(workers);
        let polls = Counter::new();
        let done = Arc::new(Mailbox::new());
        drop(scheduler.spawn(link(scheduler.clone(), 4, polls.clone(), done.clone())));
        done.recv();
        close(&scheduler, workers);
        assert_eq!(polls.get(), 5, "every link ran once");
    });
}

/// A task spawns two tasks from its worker (the second takes the LIFO slot
/// and pushes the first to the local queue, `schedule_local`) and then
/// blocks its worker until the first has run: only the other worker can
/// run it, so the push must wake it if it sleeps. This is the handoff the
/// SeqCst fences in `Idle` protect: a local push is only Release.
#[test]
fn work_queued_by_a_blocked_worker_is_stolen_by_its_sibling() {
    model_with_preemptions(2, || {
        let (scheduler, workers) = Scheduler::new(2);
        let first_ran = Arc::new(Mailbox::new());
        let parent_done = Arc::new(Mailbox::new());
        drop(scheduler.spawn({
            let scheduler = scheduler.clone();
            let parent_done = parent_done.clone();
            async move {
                drop(scheduler.spawn({
                    let first_ran = first_ran.clone();
                    async move { first_ran.send(()) }
                }));
                drop(scheduler.spawn(async {}));
                first_ran.recv();
                parent_done.send(());
            }
        }));
        let workers = start(workers);
        parent_done.recv();
        close(&scheduler, workers);
    });
}

/// Both workers go to sleep; then two tasks arrive from outside. The first
/// push wakes one worker, which counts as searching, so the second push
/// wakes nobody. The woken worker takes the first task, which blocks it
/// until the second has run: as the last searcher to find work, it must
/// wake the other worker for the rest.
///
/// Bound 1: three busy threads; bound 2 takes minutes.
#[test]
fn the_last_searcher_to_find_work_wakes_another_worker() {
    model_with_preemptions(1, || {
        let (scheduler, workers) = Scheduler::new(2);
        let workers = start(workers);
        scheduler.wait_until_asleep(2);
        let second_ran = Arc::new(Mailbox::new());
        let first = scheduler.spawn({
            let second_ran = second_ran.clone();
            async move { second_ran.recv() }
        });
        let second = scheduler.spawn(async move { second_ran.send(()) });
        block_on(first).expect("the first task completes");
        block_on(second).expect("the second task completes");
        close(&scheduler, workers);
    });
}

/// A wake inside a `WakeBatch` queues the task without waking a worker;
/// the flush must wake the sleeping one.
#[test]
fn a_wake_batch_wakes_a_worker_when_it_flushes() {
    model(|| {
        let (scheduler, workers) = Scheduler::new(1);
        let waker_out = Arc::new(Mailbox::new());
        let polls = Counter::new();
        let task = scheduler.spawn(PendingUntilWoken::new(
            waker_out.clone(),
            5,
            &polls,
            &Counter::new(),
        ));
        let workers = start(workers);
        let waker = waker_out.recv();
        let batch = WakeBatch::open();
        waker.wake();
        batch.flush();
        assert_eq!(block_on(task).expect("the task completes"), 5);
        assert_eq!(polls.get(), 2);
        close(&scheduler, workers);
    });
}
