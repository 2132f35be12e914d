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
//! - [`BlockingPool`] is the real blocking pool, its threads loom threads.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::Arc as StdArc;

use crate::loom::Mutex;
use crate::scheduler::{self, Shared, WorkerSeed};
use crate::task::context::EnteredLoop;
use crate::task::list::TaskList;
use crate::task::{Notified, Schedule, Spawner, Task, TaskError, TaskRef};
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

impl Spawner for Recorder {
    fn schedule_target(self: StdArc<Self>) -> StdArc<dyn Schedule> {
        self
    }

    fn tasks(&self) -> &TaskList {
        &self.tasks
    }
}

impl Recorder {
    fn new() -> Recorder {
        Recorder {
            queue: Mutex::new(VecDeque::new()),
            tasks: TaskList::new(),
        }
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
            recorder: StdArc::new(Recorder::new()),
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

    /// A timer that is already due (see [`DueTimer`]).
    pub fn due_timer(&self) -> DueTimer {
        DueTimer::new(&self.reactor)
    }

    /// Shuts the reactor down (after the workers stopped) and lets its
    /// thread finish.
    pub fn stop_reactor(&self) {
        self.reactor.signal_shutdown();
    }
}

/// A timer that is already due, registered through the reactor's timer
/// queue when first polled, as `Sleep` registers its timer: it completes
/// once a holder of the poller has processed the queue and fired it. (A
/// real `Sleep` waits for the clock, which a model cannot let pass.)
pub struct DueTimer {
    reactor: crate::reactor::Handle,
    entry: Option<StdArc<crate::reactor::timer::TimerEntry>>,
}

impl DueTimer {
    fn new(reactor: &crate::reactor::Handle) -> DueTimer {
        DueTimer {
            reactor: reactor.clone(),
            entry: None,
        }
    }
}

/// A reactor with no thread and no workers: the model's threads take its
/// poller in turn, as idle workers do, for models of its timers.
pub struct Reactor {
    handle: crate::reactor::Handle,
}

impl Reactor {
    /// A reactor whose poller nobody drives yet.
    pub fn new() -> Reactor {
        Reactor {
            handle: crate::reactor::Handle::without_thread().expect("the reactor starts"),
        }
    }

    /// A timer that is already due (see [`DueTimer`]).
    pub fn due_timer(&self) -> DueTimer {
        DueTimer::new(&self.handle)
    }

    /// Drives the poller as an idle worker does, turn after turn, until
    /// [`shut_down`](Reactor::shut_down): each turn processes the timer
    /// queue, blocks in the stand-in OS poller unless something is due or
    /// queued, fires the due timers and wakes their tasks.
    pub fn drive_until_shut_down(&self) {
        let driver = self.handle.driver();
        while !self.handle.is_shutdown() {
            assert!(driver.park(&mut || true), "one holder at a time");
        }
    }

    /// Tells the thread driving the poller to stop, waking it.
    pub fn shut_down(&self) {
        self.handle.signal_shutdown();
    }
}

impl Default for Reactor {
    fn default() -> Reactor {
        Reactor::new()
    }
}

/// A direction of IO a task waits for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Readable (or read-closed, or an error).
    Read,
    /// Writable (or write-closed, or an error).
    Write,
}

impl Direction {
    fn into_inner(self) -> crate::reactor::io::Direction {
        match self {
            Direction::Read => crate::reactor::io::Direction::Read,
            Direction::Write => crate::reactor::io::Direction::Write,
        }
    }
}

/// Readiness a task observed, to clear after its operation would block.
#[derive(Debug, Clone, Copy)]
pub struct ReadyEvent(crate::reactor::io::ReadyEvent);

/// One registered IO source's readiness and waiters (`ScheduledIo`), the
/// real one, between the tasks that use the source and the holder of the
/// poller that records its events.
#[derive(Debug, Default)]
pub struct IoReadiness {
    io: crate::reactor::io::ScheduledIo,
    /// The poller's turn count, stamped on each event (the holder's side
    /// only: one thread of the model plays it).
    tick: std::sync::atomic::AtomicU32,
}

impl IoReadiness {
    /// A source with no readiness and no waiter.
    pub fn new() -> IoReadiness {
        IoReadiness::default()
    }

    /// As a socket operation polls: ready at once, or the task's waker is
    /// stored for the direction. An error once the source is closed.
    pub fn poll_ready(
        &self,
        cx: &mut std::task::Context<'_>,
        direction: Direction,
    ) -> std::task::Poll<std::io::Result<ReadyEvent>> {
        self.io
            .poll_ready(cx, direction.into_inner())
            .map(|ready| ready.map(ReadyEvent))
    }

    /// After the operation returned `WouldBlock`: forgets the readiness
    /// seen in `event`, unless a newer event arrived.
    pub fn clear_readiness(&self, event: ReadyEvent) {
        self.io.clear_readiness(event.0);
    }

    /// The poller's holder records an event of the OS poller, then wakes
    /// the tasks it frees, as a turn does.
    pub fn event(&self, readable: bool, writable: bool) {
        use crate::reactor::io::{READABLE, WRITABLE};
        let tick = self
            .tick
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            .wrapping_add(1);
        let mut bits = 0;
        if readable {
            bits |= READABLE;
        }
        if writable {
            bits |= WRITABLE;
        }
        let mut wakers = Vec::new();
        self.io.set_readiness(tick, bits, &mut wakers);
        wakers.into_iter().for_each(std::task::Waker::wake);
    }

    /// Closes the source (its socket was dropped): the tasks waiting on it
    /// wake up to an error.
    pub fn close(&self) {
        let mut wakers = Vec::new();
        self.io.close(false, &mut wakers);
        wakers.into_iter().for_each(std::task::Waker::wake);
    }
}

impl Future for DueTimer {
    type Output = ();

    /// Polls as `Sleep` does: the first poll registers the timer with the
    /// task's waker, each later one stores its waker unless the timer
    /// fired.
    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        let fired = match &self.entry {
            Some(entry) => entry.poll_fired(cx.waker()),
            None => {
                let entry = self
                    .reactor
                    .register_timer(0, cx.waker())
                    .expect("the reactor is running");
                self.entry = Some(entry);
                false
            }
        };
        if fired {
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

/// The real blocking pool behind `run_in_executor`, whose threads are
/// started as loom threads of the model.
///
/// Under loom a zero keep-alive runs out as soon as the idle thread has let
/// the others run, and any other keep-alive never runs out: a model picks
/// keep-alive expiry, or idle threads that wait for a wake-up.
pub struct BlockingPool {
    pool: crate::blocking::Pool,
    /// The loop that the pool's threads run in: one that only records.
    entered: EnteredLoop,
}

/// Where a job's outcome arrives (see [`BlockingPool::submit`]).
pub struct JobOutcome<R>(crate::blocking::JobOutcome<R>);

impl BlockingPool {
    /// A pool of at most `max_threads` threads, each exiting once idle for
    /// `keep_alive` (see above for what that means under loom).
    pub fn new(max_threads: usize, keep_alive: std::time::Duration) -> BlockingPool {
        BlockingPool {
            pool: crate::blocking::Pool::new(max_threads, keep_alive, "model".to_string()),
            entered: EnteredLoop {
                scheduler: StdArc::new(Recorder::new()),
                reactor: StdArc::new(()),
                runtime: StdArc::new(()),
            },
        }
    }

    /// Submits `work` as `run_in_executor` does: to an idle thread, a new
    /// thread or the queue; refused once the pool shuts down.
    pub fn submit<F, R>(&self, work: F) -> JobOutcome<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let (job, outcome) = crate::blocking::job(work);
        self.pool.submit(job, || self.entered.clone());
        JobOutcome(outcome)
    }

    /// Refuses queued and later jobs and lets idle threads exit (the first
    /// step of closing the loop).
    pub fn begin_shutdown(&self) {
        self.pool.begin_shutdown();
    }

    /// Waits until no job runs (the loop's close, with no deadline).
    pub fn wait_for_running_jobs(&self) {
        assert!(self.pool.wait_for_running_jobs(None));
    }

    /// Live pool threads.
    pub fn threads(&self) -> usize {
        self.pool.figures().0
    }

    /// Jobs queued for a thread to come free.
    pub fn queued(&self) -> usize {
        self.pool.figures().1
    }
}

impl<R> JobOutcome<R> {
    /// Waits for the job's outcome: its value, or the error of its panic
    /// or of the pool's refusal. `None` when the job was dropped without a
    /// word (which a model treats as a lost job).
    pub fn wait(self) -> Option<Result<R, TaskError>> {
        self.0.recv().ok()
    }
}
