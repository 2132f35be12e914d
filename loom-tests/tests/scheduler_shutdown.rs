//! The scheduler's close against tasks that are still moving: a wake from
//! a foreign thread racing `drop_remaining_tasks`, and a worker still
//! polling a task while the loop drops the remaining ones.
//!
//! In both, the future is dropped exactly once and the task ends; a run
//! queue entry that outlives the close keeps the scheduler's queues alive,
//! which loom reports as a leak.
#![cfg(loom)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use evloop::loom_hooks::Scheduler;
use evloop_loom_tests::{Counter, Coverage, DropProbe, Mailbox, PendingUntilWoken, model};
use loom::thread;

#[test]
fn a_foreign_wake_racing_the_close_ends_the_task_once() {
    static COVERAGE: Coverage = Coverage::new(&["ran", "cancelled"]);
    model(|| {
        let (scheduler, workers) = Scheduler::new(1);
        let waker_out = Arc::new(Mailbox::new());
        let polls = Counter::new();
        let future_drops = Counter::new();
        let mut task = scheduler.spawn(PendingUntilWoken::new(
            waker_out.clone(),
            5,
            &polls,
            &future_drops,
        ));
        let workers: Vec<_> = workers
            .into_iter()
            .map(|worker| thread::spawn(move || worker.run()))
            .collect();
        let waker = waker_out.recv();
        let waking = thread::spawn(move || waker.wake());

        scheduler.begin_shutdown();
        for worker in workers {
            worker.join().unwrap();
        }
        scheduler.drop_remaining_tasks();
        waking.join().unwrap();

        assert_eq!(future_drops.get(), 1, "the future is dropped exactly once");
        assert!(task.done(), "closing finishes every task");
        match task.try_result().expect("a done task has a result") {
            Ok(value) => {
                assert_eq!(value, 5);
                assert_eq!(polls.get(), 2);
                COVERAGE.reached("ran");
            }
            Err(error) => {
                assert!(error.is_cancelled(), "unexpected error: {error}");
                COVERAGE.reached("cancelled");
            }
        }
        assert_eq!(scheduler.live_tasks(), 0);
    });
    COVERAGE.assert_all_reached();
}

/// On its first poll: tells the model it is polling, waits to be released,
/// then returns `Pending` without keeping its waker (nothing will wake it).
struct StuckPoll {
    polling: Arc<Mailbox<()>>,
    release: Arc<Mailbox<()>>,
    polls: Counter,
    _probe: DropProbe,
}

impl Future for StuckPoll {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        self.polls.increment();
        self.polling.send(());
        self.release.recv();
        Poll::Pending
    }
}

/// The loop closes while a worker is inside a poll (a task that blocks its
/// thread): `drop_remaining_tasks` cannot drop that future, it flags the
/// task cancelled, and the worker drops the future when the poll returns;
/// or the poll returned first and the close drops it.
#[test]
fn closing_while_a_worker_polls_a_task_drops_its_future_once() {
    model(|| {
        let (scheduler, workers) = Scheduler::new(1);
        let polling = Arc::new(Mailbox::new());
        let release = Arc::new(Mailbox::new());
        let polls = Counter::new();
        let future_drops = Counter::new();
        let task = scheduler.spawn(StuckPoll {
            polling: polling.clone(),
            release: release.clone(),
            polls: polls.clone(),
            _probe: DropProbe::new(&future_drops),
        });
        let workers: Vec<_> = workers
            .into_iter()
            .map(|worker| thread::spawn(move || worker.run()))
            .collect();
        polling.recv();
        let releasing = thread::spawn(move || release.send(()));

        scheduler.begin_shutdown();
        scheduler.drop_remaining_tasks();
        releasing.join().unwrap();
        for worker in workers {
            worker.join().unwrap();
        }

        assert_eq!(polls.get(), 1);
        assert_eq!(future_drops.get(), 1, "the future is dropped exactly once");
        assert!(
            task.done() && task.cancelled(),
            "the close cancelled the task"
        );
        assert_eq!(scheduler.live_tasks(), 0);
    });
}
