//! Entry points for the loom models in `loom-tests/`.
//!
//! Only built with `--cfg loom`, and not part of the public API. Each item is
//! a thin wrapper over the real task or scheduler code, so that a model can
//! drive the actual protocols (the task state machine, the run queues, the
//! idle/park handshake) on loom threads of its choosing:
//!
//! - [`TaskQueue`] spawns real tasks onto a scheduler that only records what
//!   it is asked to run, so a model decides which thread runs each
//!   [`Runnable`] and when.
//! - [`Scheduler`] and [`Worker`] are the real work-stealing scheduler and
//!   its worker loop, for models of spawning, waking and parking.
//! - [`IoLoop`] adds the real reactor, poller protocol and reactor-thread
//!   loop around them, with the models' stand-in for the OS poller (see
//!   `reactor/poller.rs`): idle workers block in it, and the reactor thread
//!   ([`ReactorThread`]) drives it when they do not.
//! - [`WakeBatch`] is the reactor's batch of wake-ups, whose worker
//!   notification waits for the flush.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc as StdArc;

use crate::loom::Mutex;
use crate::scheduler::{self, Shared, WorkerSeed};
use crate::task::list::TaskList;
use crate::task::{Notified, Schedule, Task, TaskRef};
use crate::util::lock;

/// A scheduler that queues every task it is asked to run and runs nothing
/// itself. Wakes, cancels and re-schedules after a poll all land in its
/// queue; the live-task list is the real one.
struct Recorder {
    queue: Mutex<VecDeque<Notified>>,
    tasks: TaskList,
}

impl Schedule for Recorder {
    fn schedule(&self, task: Notified) {
        lock(&self.queue).push_back(task);
    }

    fn release(&self, task: &TaskRef) -> Option<TaskRef> {
        self.tasks.remove(task)
    }
}

/// Spawns real tasks whose runs are queued here instead of on workers.
///
/// Every task allocation holds a reference to the queue's scheduler, which
/// is how [`allocated_tasks`](TaskQueue::allocated_tasks) counts them.
/// Dropping the queue closes it (see [`close`](TaskQueue::close)).
pub struct TaskQueue {
    recorder: StdArc<Recorder>,
}

/// One queued run of a task: the run-queue reference a worker would pop.
pub struct Runnable(Notified);

impl Runnable {
    /// Runs the task as a worker does: polls the future once, or drops it
    /// when cancellation was requested. Wakes during the poll and the
    /// re-scheduling after it go back to the queue the task came from.
    pub fn run(self) {
        self.0.run();
    }
}

impl std::fmt::Debug for Runnable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Runnable")
            .field(&self.0.header().id)
            .finish()
    }
}

impl TaskQueue {
    /// An empty queue with an open live-task list.
    pub fn new() -> TaskQueue {
        TaskQueue {
            recorder: StdArc::new(Recorder {
                queue: Mutex::new(VecDeque::new()),
                tasks: TaskList::new(),
            }),
        }
    }

    /// Spawns `future` as a task whose first run is queued here, the way the
    /// scheduler's `spawn` does. After [`close`](TaskQueue::close) the task
    /// is refused: it is complete at once with a "loop closed" error.
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, first_run) = self
            .recorder
            .tasks
            .bind(future, None, self.recorder.clone());
        if let Some(notified) = first_run {
            self.recorder.schedule(notified);
        }
        task
    }

    /// Takes the oldest queued run, if any.
    pub fn pop(&self) -> Option<Runnable> {
        lock(&self.recorder.queue).pop_front().map(Runnable)
    }

    /// Runs queued tasks, including the ones they queue, until the queue is
    /// empty. Returns how many runs there were.
    pub fn run_all(&self) -> usize {
        let mut runs = 0;
        while let Some(runnable) = self.pop() {
            runnable.run();
            runs += 1;
        }
        runs
    }

    /// How many runs are queued.
    pub fn queued(&self) -> usize {
        lock(&self.recorder.queue).len()
    }

    /// How many tasks have not completed (the live-task list's length).
    pub fn live_tasks(&self) -> usize {
        self.recorder.tasks.len()
    }

    /// How many task allocations have not been freed yet.
    pub fn allocated_tasks(&self) -> usize {
        StdArc::strong_count(&self.recorder) - 1
    }

    /// Shuts down like a closing loop: refuses new tasks, drops the future
    /// of every task that has not completed, and drops the queued runs.
    pub fn close(&self) {
        for task in self.recorder.tasks.close_and_take_all() {
            task.shutdown();
        }
        let queued = std::mem::take(&mut *lock(&self.recorder.queue));
        drop(queued);
    }
}

impl Default for TaskQueue {
    fn default() -> TaskQueue {
        TaskQueue::new()
    }
}

impl Drop for TaskQueue {
    fn drop(&mut self) {
        // Queued runs hold task references, and tasks hold the recorder:
        // without this the two would keep each other alive.
        self.close();
    }
}

/// The real work-stealing scheduler, without an event loop around it.
/// Clones share it.
#[derive(Clone)]
pub struct Scheduler {
    shared: StdArc<Shared>,
}

/// One worker of a [`Scheduler`], to be run on a thread of the model.
pub struct Worker {
    shared: StdArc<Shared>,
    seed: WorkerSeed,
}

impl Scheduler {
    /// A scheduler with `workers` workers, returned to be run by the caller.
    pub fn new(workers: usize) -> (Scheduler, Vec<Worker>) {
        let (shared, seeds) = Shared::new(workers, None);
        let workers = seeds
            .into_iter()
            .map(|seed| Worker {
                shared: shared.clone(),
                seed,
            })
            .collect();
        (Scheduler { shared }, workers)
    }

    /// Spawns `future`. From a thread that is not one of the workers, as
    /// here, the task goes to the injector and an idle worker is woken.
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(future, None)
    }

    /// Tells the workers to stop after their current poll and refuses new
    /// tasks (the first step of closing a loop).
    pub fn begin_shutdown(&self) {
        self.shared.begin_shutdown();
    }

    /// After the workers returned: drops every remaining task's future and
    /// empties the queues (the last step of closing a loop).
    pub fn drop_remaining_tasks(&self) {
        self.shared.drop_remaining_tasks();
    }

    /// How many tasks have not completed.
    pub fn live_tasks(&self) -> usize {
        self.shared.live_tasks()
    }

    /// Yields to the other threads of the model until `workers` workers
    /// are registered as sleeping: a model that needs its workers asleep
    /// gets there without spending a preemption.
    pub fn wait_until_asleep(&self, workers: usize) {
        while self.shared.sleeping_workers() < workers {
            loom::thread::yield_now();
        }
    }
}

impl Worker {
    /// Runs the worker loop on the calling thread until the scheduler shuts
    /// down.
    pub fn run(self) {
        scheduler::run_worker(self.shared, self.seed);
    }
}

/// A scheduler whose idle workers block in the reactor's poller, and the
/// reactor whose thread the model runs: the IO path of a loop.
pub struct IoLoop {
    scheduler: Scheduler,
    reactor: crate::reactor::Handle,
}

/// The reactor thread's loop, to be run on a thread of the model.
pub struct ReactorThread {
    reactor: crate::reactor::Handle,
}

impl ReactorThread {
    /// Runs the reactor thread's loop until [`IoLoop::stop_reactor`].
    pub fn run(self) {
        self.reactor.run_reactor_thread();
    }
}

impl IoLoop {
    /// A loop with `workers` workers; the workers and the reactor thread
    /// are returned to be run by the caller.
    pub fn new(workers: usize) -> (IoLoop, Vec<Worker>, ReactorThread) {
        let reactor = crate::reactor::Handle::without_thread().expect("the reactor starts");
        let (shared, seeds) = Shared::new(workers, Some(reactor.driver()));
        let workers = seeds
            .into_iter()
            .map(|seed| Worker {
                shared: shared.clone(),
                seed,
            })
            .collect();
        let thread = ReactorThread {
            reactor: reactor.clone(),
        };
        let io_loop = IoLoop {
            scheduler: Scheduler { shared },
            reactor,
        };
        (io_loop, workers, thread)
    }

    /// The scheduler, to spawn and to shut down.
    pub fn scheduler(&self) -> &Scheduler {
        &self.scheduler
    }

    /// A timer that is already due, registered through the reactor's timer
    /// queue when first polled: it completes once a holder of the poller
    /// has processed the queue.
    pub fn due_timer(&self) -> DueTimer {
        DueTimer {
            reactor: self.reactor.clone(),
            entry: None,
        }
    }

    /// Shuts the reactor down (after the workers stopped) and lets its
    /// thread finish.
    pub fn stop_reactor(&self) {
        self.reactor.signal_shutdown();
    }
}

/// See [`IoLoop::due_timer`].
pub struct DueTimer {
    reactor: crate::reactor::Handle,
    entry: Option<StdArc<crate::reactor::timer::TimerEntry>>,
}

impl Future for DueTimer {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        use crate::reactor::timer::{TimerEntry, TimerOp};
        let entry = match &self.entry {
            Some(entry) => entry.clone(),
            None => {
                let entry = TimerEntry::new(0);
                entry.set_waker(cx.waker());
                assert!(
                    self.reactor.push_timer_op(TimerOp::Register(entry.clone())),
                    "the reactor is running"
                );
                self.entry = Some(entry.clone());
                entry
            }
        };
        if entry.set_waker(cx.waker()) {
            std::task::Poll::Ready(())
        } else {
            std::task::Poll::Pending
        }
    }
}

/// A batch of wake-ups on the calling thread, as the reactor opens one
/// around the tasks it wakes after a poll: a task woken meanwhile is queued
/// without waking a worker, and [`flush`](WakeBatch::flush) wakes one.
pub struct WakeBatch(scheduler::WakeBatch);

impl WakeBatch {
    /// Opens a batch on this thread.
    pub fn open() -> WakeBatch {
        WakeBatch(scheduler::WakeBatch::open())
    }

    /// Closes the batch and notifies each scheduler that received work.
    pub fn flush(self) {
        self.0.flush();
    }
}
