//! The per-core work-stealing scheduler.
//!
//! N workers, each with a local FIFO queue (`queue.rs`) plus a one-task
//! LIFO slot for the task most recently woken or spawned by the running
//! task; a global injector for work that comes from other threads; stealing
//! of half a victim's queue when a worker runs dry; and parking of idle
//! workers (`idle.rs` decides who sleeps and who is woken, `park.rs` is how
//! a worker sleeps). `worker.rs` is the worker loop.
//!
//! Fairness: a worker takes from the injector first every
//! `GLOBAL_QUEUE_INTERVAL` ticks even when its local queue stays busy; a
//! task that wakes itself goes to the back of the local queue (never the
//! LIFO slot); and the LIFO slot serves at most `MAX_LIFO_POLLS` tasks in a
//! row before its occupant goes to the back of the queue.
//!
//! The LIFO slot is stealable, like the local queue: a task woken or spawned
//! by a task that then blocks its worker thread (a blocking syscall,
//! `std::thread::sleep`) would otherwise wait until that poll returns while
//! another worker is idle. Filling the slot wakes a sleeping worker when
//! nobody is searching, and searching workers look in the other workers'
//! slots after their queues. A sleeping worker may be blocked in the
//! reactor's OS poller (`park.rs`); the wake reaches it through the
//! poller's waker all the same. The tasks that poller wakes on the worker
//! driving it wake nobody: that worker runs the slot's task first, straight
//! out of its park, and wakes a sibling only for the rest. Blocking work
//! still belongs in [`run_in_executor`](crate::Handle::run_in_executor): it
//! holds a worker that other tasks could use.

mod idle;
mod park;
mod queue;
mod stats;
mod worker;

use std::future::Future;
use std::sync::Arc as StdArc;

use crate::loom::{AtomicBool, Ordering};
use crate::task::context;
use crate::task::info::PollCounting;
use crate::task::list::TaskList;
use crate::task::{Notified, Schedule, Spawner, Task, TaskInfo, TaskRef, spawn_with};
use idle::Idle;
use park::{Parker, Unparker};

pub(crate) use park::Driver;
use queue::{Injector, LocalQueue, Stealer};
use stats::SchedulerStats;

pub(crate) use stats::WorkerFigures;

pub(crate) use worker::{is_worker_of, is_worker_thread, run_worker};

/// A batch of wake-ups from a thread that is not a worker (the reactor
/// after a poll): while it is open, a task woken on this thread is queued
/// without waking a worker, and [`flush`](WakeBatch::flush) then notifies
/// each loop that received work once, instead of once per task. The woken
/// worker wakes the next one if it finds more work than it can take (see
/// `Idle`), so parallelism still ramps up.
///
/// Batches nest: an inner batch flushes its own schedulers and reopens the
/// outer one.
pub(crate) struct WakeBatch {
    outer: Option<Option<Vec<StdArc<dyn Schedule>>>>,
}

impl WakeBatch {
    /// Opens a batch on this thread.
    pub(crate) fn open() -> WakeBatch {
        WakeBatch {
            outer: Some(context::open_wake_batch()),
        }
    }

    /// Closes the batch and notifies each scheduler that received work.
    pub(crate) fn flush(mut self) {
        self.close();
    }

    fn close(&mut self) {
        if let Some(outer) = self.outer.take() {
            for scheduler in context::close_wake_batch(outer) {
                scheduler.notify_parked();
            }
        }
    }
}

impl Drop for WakeBatch {
    fn drop(&mut self) {
        self.close();
    }
}

/// What a worker thread needs to start: its queue and its parker.
pub(crate) struct WorkerSeed {
    index: usize,
    local: LocalQueue<Notified>,
    lifo: LocalQueue<Notified>,
    parker: Parker,
}

/// The scheduler state shared by the workers, the handles and the tasks.
pub(crate) struct Shared {
    injector: Injector<Notified>,
    stealers: Box<[Stealer<Notified>]>,
    /// The stealing ends of the workers' LIFO slots.
    lifo_stealers: Box<[Stealer<Notified>]>,
    unparkers: Box<[Unparker]>,
    idle: Idle,
    tasks: TaskList,
    shutdown: AtomicBool,
    /// The OS poller idle workers sleep in, when the loop has one.
    driver: Option<StdArc<dyn Driver>>,
    stats: SchedulerStats,
}

impl Shared {
    /// A scheduler for `workers` workers; the seeds go to the worker
    /// threads. With a `driver`, idle workers sleep in it (see `park.rs`).
    /// Its workers count polls as by default, on a coarse clock that no
    /// thread advances (the counters are invisible to loom).
    #[cfg(loom)]
    pub(crate) fn new(
        workers: usize,
        driver: Option<StdArc<dyn Driver>>,
    ) -> (StdArc<Shared>, Vec<WorkerSeed>) {
        let clock = StdArc::new(crate::task::info::CoarseClock::new());
        Shared::with_counting(workers, driver, PollCounting::Coarse(clock))
    }

    /// A scheduler whose idle workers sleep in `driver`, when there is one,
    /// and whose workers count and time polls as `counting` says.
    pub(crate) fn with_counting(
        workers: usize,
        driver: Option<StdArc<dyn Driver>>,
        counting: PollCounting,
    ) -> (StdArc<Shared>, Vec<WorkerSeed>) {
        let seeds: Vec<WorkerSeed> = (0..workers)
            .map(|index| WorkerSeed {
                index,
                local: LocalQueue::new(),
                lifo: LocalQueue::new(),
                parker: Parker::new(driver.clone()),
            })
            .collect();
        let shared = Shared {
            injector: Injector::new(),
            stealers: seeds.iter().map(|s| s.local.stealer()).collect(),
            lifo_stealers: seeds.iter().map(|s| s.lifo.stealer()).collect(),
            unparkers: seeds.iter().map(|s| s.parker.unparker()).collect(),
            idle: Idle::new(workers),
            tasks: TaskList::new(),
            shutdown: AtomicBool::new(false),
            driver,
            stats: SchedulerStats::new(workers, &counting),
        };
        (StdArc::new(shared), seeds)
    }

    /// Allocates a task, links it into the live-task list and queues its
    /// first run. On a closed scheduler the task is completed at once with a
    /// "loop closed" error.
    #[track_caller]
    pub(crate) fn spawn<F>(
        self: &StdArc<Self>,
        future: F,
        name: Option<Box<str>>,
    ) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn_with(self.clone(), future, name)
    }

    /// Queues work from a thread that is not one of our workers and wakes a
    /// sleeping worker if nobody is looking for work.
    ///
    /// Also called from a thread-local's destructor (a waker dropped or
    /// woken as a thread exits), after the thread's context may be gone:
    /// every context read on this path (`schedule_local`, `defer_notify`)
    /// uses `try_with` and falls back to this queue and an immediate wake,
    /// so the task is queued and nothing panics (which would abort).
    fn schedule_remote(&self, task: Notified) {
        // Inside a `WakeBatch` the worker is woken when the batch flushes.
        let deferred = context::defer_notify(&task.header().scheduler);
        self.injector.push(task);
        if !deferred {
            self.notify_one();
        }
        if self.shutdown.load(Ordering::SeqCst) {
            // The workers are gone or going: nobody will pop this queue
            // again, and a queued reference must not outlive the loop.
            self.drain_injector();
        }
    }

    /// Wakes one sleeping worker, when nobody is searching.
    pub(crate) fn notify_one(&self) {
        if let Some(worker) = self.idle.worker_to_notify() {
            self.unparkers[worker].unpark();
        }
    }

    /// Whether any queue holds work (the re-check before parking).
    fn has_queued_work(&self) -> bool {
        !self.injector.is_empty()
            || self.stealers.iter().any(|s| !s.is_empty())
            || self.lifo_stealers.iter().any(|s| !s.is_empty())
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::SeqCst)
    }

    /// Tells every worker to stop after its current poll, and refuses new
    /// tasks from now on.
    pub(crate) fn begin_shutdown(&self) {
        self.tasks.close();
        self.shutdown.store(true, Ordering::SeqCst);
        for unparker in self.unparkers.iter() {
            unparker.unpark();
        }
    }

    /// After the workers stopped: drops every remaining task's future
    /// exactly once (on this thread) and empties the queues. Tasks that a
    /// stuck worker is still polling are flagged cancelled; that worker drops
    /// their future when its poll returns.
    pub(crate) fn drop_remaining_tasks(&self) {
        for task in self.tasks.close_and_take_all() {
            task.shutdown();
        }
        self.drain_injector();
        for stealer in self.stealers.iter().chain(self.lifo_stealers.iter()) {
            while stealer.steal().is_some() {}
        }
    }

    fn drain_injector(&self) {
        while self.injector.steal().is_some() {}
    }

    /// Marks this thread as the one closing this scheduler's loop until the
    /// guard drops: code that would wait on this thread for one of the
    /// loop's tasks (a destructor the close runs) must not, as the close
    /// drops those tasks only after it returns.
    pub(crate) fn enter_closing(&self) -> context::EnterClosing {
        context::enter_closing((self as *const Shared).cast())
    }

    /// Whether this thread is closing this scheduler's loop (see
    /// [`enter_closing`](Shared::enter_closing)).
    pub(crate) fn is_closing_on_this_thread(&self) -> bool {
        std::ptr::eq(context::closing(), (self as *const Shared).cast())
    }

    /// How many workers are registered as sleeping.
    #[cfg(loom)]
    pub(crate) fn sleeping_workers(&self) -> usize {
        self.idle.sleeping()
    }

    /// How many tasks are alive (linked in the live-task list).
    pub(crate) fn live_tasks(&self) -> usize {
        self.tasks.len()
    }

    /// Each worker's counters and local queue depth: its queue and the
    /// task in its LIFO slot, each length read on its own.
    pub(crate) fn worker_figures(&self) -> Vec<WorkerFigures> {
        (0..self.stats.len())
            .map(|i| {
                let depth = self.stealers[i].len() + self.lifo_stealers[i].len();
                self.stats.figures(i, depth)
            })
            .collect()
    }

    /// Whether any worker is awake (for the loop's coarse clock thread).
    pub(crate) fn any_worker_awake(&self) -> bool {
        self.stats.any_awake()
    }

    /// Tasks waiting in the global injector.
    pub(crate) fn injector_depth(&self) -> usize {
        self.injector.len()
    }

    /// The figures of every live task.
    pub(crate) fn dump(&self) -> Vec<TaskInfo> {
        self.tasks.dump()
    }

    /// The figures of the live task `id`.
    pub(crate) fn task_info(&self, id: u64) -> Option<TaskInfo> {
        self.tasks.info(id)
    }

    /// For each worker in a timed poll: the worker, the task's id and the
    /// poll's start stamp.
    pub(crate) fn polls_in_progress(&self) -> Vec<(usize, u64, u64)> {
        (0..self.stats.len())
            .filter_map(|i| {
                let (task, started) = self.stats.worker(i).poll_in_progress()?;
                Some((i, task, started))
            })
            .collect()
    }

    /// Whether new tasks are refused.
    pub(crate) fn is_closed(&self) -> bool {
        self.tasks.is_closed()
    }
}

impl Spawner for Shared {
    fn schedule_target(self: StdArc<Self>) -> StdArc<dyn Schedule> {
        self
    }

    fn tasks(&self) -> &TaskList {
        &self.tasks
    }
}

impl Schedule for Shared {
    fn schedule(&self, task: Notified) {
        if let Err(task) = worker::schedule_local(self, task, false) {
            self.schedule_remote(task);
        }
    }

    fn yield_now(&self, task: Notified) {
        if let Err(task) = worker::schedule_local(self, task, true) {
            self.schedule_remote(task);
        }
    }

    fn release(&self, task: &TaskRef) -> Option<TaskRef> {
        self.tasks.remove(task)
    }

    fn notify_parked(&self) {
        self.notify_one();
    }
}
