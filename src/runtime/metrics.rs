//! `Metrics`: a snapshot of a loop's counters, taken from any thread.
//!
//! Each figure is counted where the work happens, by the thread doing it,
//! without a counter that threads contend on; a snapshot only reads. So a
//! snapshot is cheap and never waits for a busy worker, and its figures are
//! each exact for its own instant but not taken at one common instant.

use std::fmt;
use std::time::Duration;

use super::LoopInner;
use crate::scheduler::WorkerFigures;

/// A snapshot of a loop's counters: see [`Handle::metrics`](crate::Handle::metrics).
///
/// Counters (`polls`, `steals`, `parks`, `busy`, `callbacks_run`) only
/// grow: subtract two snapshots for a rate. The rest are levels at the
/// instant they were read.
///
/// # Examples
///
/// ```
/// let lp = evloop::EventLoop::builder().worker_threads(2).build().unwrap();
/// let tasks: Vec<_> = (0..10).map(|i| lp.handle().spawn(async move { i })).collect();
/// for task in tasks {
///     lp.run_until_complete(task).unwrap();
/// }
/// let metrics = lp.handle().metrics();
/// assert_eq!(metrics.workers.len(), 2);
/// assert!(metrics.total_polls() >= 10);
/// println!("{metrics}");
/// # lp.close();
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Metrics {
    /// One entry per worker thread, in worker order.
    pub workers: Vec<WorkerMetrics>,
    /// Tasks waiting in the global injector (work from threads that are not
    /// workers, and timer and IO wake-ups): its length when read.
    pub injector_depth: usize,
    /// Tasks spawned and not finished: the sum of the live-task list's
    /// shards, each read under its lock.
    pub live_tasks: usize,
    /// Timers (sleeps, timeouts, timed callbacks) registered that have
    /// neither fired nor been cancelled, at this instant: counted up when a
    /// timer is registered and down by whichever comes first of its firing
    /// and its cancellation. With slow-poll detection on, the watchdog's own
    /// timer counts too.
    pub pending_timers: usize,
    /// Sockets, pipes and other IO sources registered with the reactor.
    pub io_sources: usize,
    /// Threads of the blocking pool (running a job or waiting for one).
    pub blocking_threads: usize,
    /// Blocking jobs queued because every pool thread is busy and the pool
    /// is at its [`max_blocking_threads`](crate::Builder::max_blocking_threads).
    pub blocking_queue_depth: usize,
    /// Callbacks (`call_soon`, `call_later`, ...) that have run: counted by
    /// the task that runs them, once per batch.
    pub callbacks_run: u64,
}

/// One worker's counters, within [`Metrics`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WorkerMetrics {
    /// Task polls run by this worker, counted before each poll (zero when
    /// the loop does not [count polls](crate::Builder::count_polls), as
    /// are `steals`, `parks` and `busy`).
    pub polls: u64,
    /// Times this worker took tasks from another worker's queue (each steal
    /// moves about half of the victim's queue).
    pub steals: u64,
    /// Times this worker went to sleep for lack of work, on its own or
    /// blocked in the OS poller. A worker that wakes from the poller with
    /// tasks it woke itself counts one park, and its polls of those tasks
    /// count as any other.
    pub parks: u64,
    /// Time this worker was awake (not parked, and not blocked in the OS
    /// poller): read from the clock when it parks and when it wakes, plus
    /// the current stretch. Divide its growth by the wall time between two
    /// snapshots for the worker's utilisation.
    pub busy: Duration,
    /// Time this worker spent inside task polls, the poll in progress
    /// included, counted as each task's
    /// [`time_in_poll`](crate::TaskInfo::time_in_poll) is. By default that
    /// is with the loop's millisecond clock, whose stamps chain from poll to
    /// poll: everything an awake worker does counts to the poll that
    /// follows (its bookkeeping between polls, and spins of at most 50 µs
    /// looking for work), so this is `busy` less the looking for work that
    /// ended in a sleep, to within one tick. With [`time_polls`](crate::Builder::time_polls)
    /// it is exact and, unlike `busy`, leaves out the time spent looking
    /// for work. `None` when the loop does not
    /// [count polls](crate::Builder::count_polls).
    pub poll_time: Option<Duration>,
    /// Tasks waiting to run on this worker: its local queue plus the task
    /// in its LIFO slot (the task it will run next, woken or spawned by
    /// the task it runs now), each length read on its own.
    pub local_queue_depth: usize,
    /// Whether the worker was asleep when read; always false when the
    /// loop does not [count polls](crate::Builder::count_polls).
    pub parked: bool,
}

impl Metrics {
    /// Polls run by all the workers.
    pub fn total_polls(&self) -> u64 {
        self.workers.iter().map(|w| w.polls).sum()
    }

    /// Steals by all the workers.
    pub fn total_steals(&self) -> u64 {
        self.workers.iter().map(|w| w.steals).sum()
    }
}

impl From<WorkerFigures> for WorkerMetrics {
    fn from(figures: WorkerFigures) -> WorkerMetrics {
        WorkerMetrics {
            polls: figures.polls,
            steals: figures.steals,
            parks: figures.parks,
            busy: figures.busy,
            poll_time: figures.poll_time,
            local_queue_depth: figures.local_queue,
            parked: figures.parked,
        }
    }
}

/// Reads every part's counters.
pub(super) fn snapshot(inner: &LoopInner) -> Metrics {
    let (blocking_threads, blocking_queue_depth) = inner.blocking.figures();
    Metrics {
        workers: inner
            .scheduler
            .worker_figures()
            .into_iter()
            .map(WorkerMetrics::from)
            .collect(),
        injector_depth: inner.scheduler.injector_depth(),
        live_tasks: inner.scheduler.live_tasks(),
        pending_timers: inner.reactor.pending_timers(),
        io_sources: inner.reactor.io_sources(),
        blocking_threads,
        blocking_queue_depth,
        callbacks_run: inner.callbacks.ran(),
    }
}

impl fmt::Display for Metrics {
    /// A few lines: one per worker, then the loop's levels.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, w) in self.workers.iter().enumerate() {
            writeln!(
                f,
                "worker {i}: polls {}  steals {}  parks {}  busy {:.3}s  queue {}{}",
                w.polls,
                w.steals,
                w.parks,
                w.busy.as_secs_f64(),
                w.local_queue_depth,
                if w.parked { "  (parked)" } else { "" },
            )?;
        }
        write!(
            f,
            "injector {}  tasks {}  timers {}  io sources {}  blocking threads {} (queued {})  callbacks run {}",
            self.injector_depth,
            self.live_tasks,
            self.pending_timers,
            self.io_sources,
            self.blocking_threads,
            self.blocking_queue_depth,
            self.callbacks_run,
        )
    }
}
