//! What a task tells about itself while it lives: where it was spawned, how
//! often and how long it was polled ([`TaskStats`], in the task header), the
//! one-line [`TaskInfo`] that `Handle::dump` lists, and the [`PollObserver`]
//! through which a worker counts and times the polls it runs and reports
//! slow ones.
//!
//! # How the figures are counted
//!
//! Only the thread that polls a task writes its figures, and a task is
//! polled by one thread at a time (rule 1 in `task/mod.rs`), so every write
//! is a Relaxed load and store of an atomic, never a read-modify-write that
//! other threads contend on. Readers (`dump`, the slow-poll watchdog) load
//! them with Relaxed: a figure read during a poll may be one poll behind.
//!
//! The counters are plain `std` atomics even under loom: they order nothing
//! (no thread decides anything from them), so the models have nothing to
//! explore in them, and leaving them out of loom keeps the models small.
//!
//! A poll is counted before it starts. How it is timed depends on the mode
//! the loop's `Builder` chose ([`PollCounting`]):
//!
//! - **Coarse (the default): one load of the loop's coarse clock per
//!   poll.** A thread of the loop (`<name>-clock`) sets a stamp, the
//!   [`CoarseClock`], to the time every millisecond while any worker is
//!   awake, and sleeps once every worker has slept for 10 ms. When a poll
//!   returns, the worker loads that stamp: it is both the end of this poll
//!   and the start of the next one on the same worker. When the worker
//!   wakes from a sleep it reads the precise clock (it does anyway, for
//!   its busy time), starts the next poll there and pushes the coarse
//!   clock up to it, so the sleep is nobody's poll. A load costs about a
//!   nanosecond; a clock read costs 20-30 ns and stalls the pipeline
//!   (`rdtsc` behind a fence), as much as a whole short poll: one per poll
//!   made a loop of empty polls 40-55% slower, and even the kernel's
//!   coarse clock (`CLOCK_MONOTONIC_COARSE`, 3-4 ns a read) 7-9% slower
//!   (`benches/README.md`).
//!
//!   Error: each stamp is late by less than one tick (1 ms, plus however
//!   long the clock thread waits for a CPU when the machine is
//!   overloaded), so a poll of true length `d` counts as more than
//!   `d - tick` and less than `d + tick`, plus the worker's own work since
//!   the previous poll returned, which is counted to this poll: finishing
//!   that task (waking its waiter, running its done callbacks, dropping
//!   its future), taking this one from a queue or stealing it, and
//!   spinning for work (at most 50 µs) when it found some that way instead
//!   of going to sleep. Short polls mostly count zero and now and then one
//!   tick: summed over many polls that is the true time on average (a tick
//!   lands in a poll as often as the poll is long), as a sampling
//!   profiler's would be. Between two sleeps of a worker the stamps chain,
//!   so the sum of its polls' times there is exact to within one tick. A
//!   task's time since its last poll is long by less than one tick.
//! - **Precise (`Builder::time_polls`, or a slow-poll threshold): two reads
//!   of the precise clock per poll**, one before and one after, so each
//!   poll's time is exact to the clock's resolution, and counts nothing of
//!   the worker's own work. The slow-poll report needs it: it must name
//!   the poll that was slow and no other.
//! - **Off (`Builder::count_polls(false)`)**: nothing is counted or timed;
//!   the worker runs its tasks without an observer.

use std::fmt;
use std::panic::Location;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed, Ordering::SeqCst};

use crossbeam_utils::CachePadded;
use std::time::Duration;

/// A stamp: nanoseconds of the monotonic clock, never zero, so that zero
/// can mean "never". Comparable between threads, and with the stamps of a
/// [`CoarseClock`].
#[cfg(unix)]
#[inline]
pub(crate) fn now_stamp() -> u64 {
    crate::util::sys::monotonic_nanos()
}

/// A stamp: nanoseconds since the first time any loop of the process read
/// the clock, plus one, so that zero can mean "never".
#[cfg(not(unix))]
pub(crate) fn now_stamp() -> u64 {
    use std::sync::OnceLock;
    use std::time::Instant;
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    let epoch = *EPOCH.get_or_init(Instant::now);
    u64::try_from(epoch.elapsed().as_nanos())
        .unwrap_or(u64::MAX - 1)
        .saturating_add(1)
}

/// Adds `value` to a counter that only the calling thread writes.
#[inline]
fn bump(counter: &AtomicU64, value: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(value), Relaxed);
}

/// The figures of one task, kept in its header.
#[repr(C)]
pub(crate) struct TaskStats {
    /// First: the one figure every poll writes.
    polls: AtomicU64,
    /// Nanoseconds spent in `poll`, over every timed poll.
    busy_nanos: AtomicU64,
    /// Stamp (see [`now_stamp`]) of the start of the last timed poll.
    poll_started: AtomicU64,
    /// Stamp of the end of the last timed poll; behind `poll_started`
    /// while a poll runs.
    poll_ended: AtomicU64,
    /// Where the task was spawned (`#[track_caller]` through every spawn).
    location: &'static Location<'static>,
}

impl TaskStats {
    pub(crate) fn new(location: &'static Location<'static>) -> TaskStats {
        TaskStats {
            location,
            polls: AtomicU64::new(0),
            busy_nanos: AtomicU64::new(0),
            poll_started: AtomicU64::new(0),
            poll_ended: AtomicU64::new(0),
        }
    }
}

/// What a task is doing, as [`Handle::dump`](crate::Handle::dump) saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskState {
    /// Waiting for a wake-up (IO, a timer, another task...).
    Idle,
    /// Woken and waiting in a run queue for a worker.
    Scheduled,
    /// Being polled by a worker right now.
    Running,
    /// Finished; about to leave the live-task list.
    Complete,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskState::Idle => "idle",
            TaskState::Scheduled => "scheduled",
            TaskState::Running => "running",
            TaskState::Complete => "complete",
        })
    }
}

/// One task of a loop, as [`Handle::dump`](crate::Handle::dump) lists it
/// (asyncio's `all_tasks()` with the stack replaced by the spawn site), and
/// as the slow-poll hook ([`Builder::on_slow_poll`](crate::Builder::on_slow_poll))
/// receives it. `Display` writes a one-line summary.
///
/// How the figures are counted: the poll count before each poll starts;
/// the times from a millisecond clock that a thread of the loop keeps
/// while its workers are awake, read once per poll, the end of one poll on
/// a worker being the start of the next. So each poll's time is right to
/// within one tick (1 ms, more on an overloaded machine) plus the worker's
/// own work since the poll before it on that worker (a few hundred
/// nanoseconds, unless a done callback or a destructor there runs long),
/// never short by a whole tick, and a task's total over many short polls
/// is right on average, as a sampling profiler's would be (a poll shorter
/// than a tick mostly counts zero, now and then one tick).
/// [`Builder::time_polls`](crate::Builder::time_polls) times each poll
/// exactly, with two reads of the precise clock per poll; with
/// [`Builder::count_polls(false)`](crate::Builder::count_polls) nothing is
/// counted: zero polls, and the times are `None`.
///
/// # Examples
///
/// ```
/// let lp = evloop::EventLoop::new().unwrap();
/// let task = evloop::task::TaskBuilder::new()
///     .name("sleeper")
///     .spawn_on(evloop::sleep(std::time::Duration::from_secs(60)), &lp.handle());
/// let dump = lp.handle().dump();
/// let info = dump.iter().find(|t| t.name() == "sleeper").unwrap();
/// assert_eq!(info.location().file(), file!());
/// println!("{info}"); // e.g. "#1 sleeper  idle  polls 1  busy 12µs  last poll 80µs ago  at src/main.rs:4:6"
/// task.cancel();
/// # lp.close();
/// ```
#[derive(Debug, Clone)]
pub struct TaskInfo {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) state: TaskState,
    pub(crate) location: &'static Location<'static>,
    pub(crate) polls: u64,
    pub(crate) time_in_poll: Option<Duration>,
    pub(crate) since_last_poll: Option<Duration>,
    pub(crate) running_for: Option<Duration>,
}

impl TaskInfo {
    /// The task's id (as [`Task::id`](crate::Task::id)).
    pub fn id(&self) -> u64 {
        self.id
    }

    /// The task's name (as [`Task::name`](crate::Task::name)).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// What the task was doing when the snapshot was taken.
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// Where the task was spawned: the caller of `spawn`,
    /// `Handle::spawn`, `TaskBuilder::spawn`, `run_coroutine_threadsafe`,
    /// `run_in_executor`, `TaskGroup::spawn`...
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// How many times the task was polled (started polls, including the
    /// one in progress).
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// Total time spent inside the task's `poll`, the poll in progress
    /// included: to within a millisecond tick per poll by default,
    /// exact with [`Builder::time_polls`](crate::Builder::time_polls) (see
    /// [`TaskInfo`]). `None` before the first poll, and when the loop does
    /// not [count polls](crate::Builder::count_polls).
    pub fn time_in_poll(&self) -> Option<Duration> {
        self.time_in_poll
    }

    /// Time since the task's last poll returned; zero while a poll runs
    /// (see [`running_for`](TaskInfo::running_for)). By default the poll's
    /// end is read from the loop's millisecond clock, so this is long by
    /// less than one of its ticks. `None` when the task was never polled, or the loop
    /// does not [count polls](crate::Builder::count_polls).
    pub fn since_last_poll(&self) -> Option<Duration> {
        self.since_last_poll
    }

    /// How long the poll in progress has been running (counted as
    /// [`time_in_poll`](TaskInfo::time_in_poll) counts it); `None` when
    /// the task is not being polled, or the loop does not count polls.
    pub fn running_for(&self) -> Option<Duration> {
        self.running_for
    }
}

/// Formats a duration briefly: `950ns`, `12µs`, `3.4ms`, `1.25s`.
pub(crate) struct Brief(pub(crate) Duration);

impl fmt::Display for Brief {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let nanos = self.0.as_nanos();
        if nanos < 1_000 {
            write!(f, "{nanos}ns")
        } else if nanos < 1_000_000 {
            write!(f, "{}µs", nanos / 1_000)
        } else if nanos < 1_000_000_000 {
            write!(f, "{:.1}ms", nanos as f64 / 1e6)
        } else {
            write!(f, "{:.2}s", self.0.as_secs_f64())
        }
    }
}

impl fmt::Display for TaskInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {}  {}  polls {}",
            self.id, self.name, self.state, self.polls
        )?;
        if let Some(busy) = self.time_in_poll {
            write!(f, "  busy {}", Brief(busy))?;
        }
        if let Some(running) = self.running_for {
            write!(f, "  in poll for {}", Brief(running))?;
        } else if let Some(since) = self.since_last_poll {
            write!(f, "  last poll {} ago", Brief(since))?;
        }
        write!(f, "  at {}", self.location)
    }
}

impl TaskInfo {
    /// Reads a task's figures; `name` and `state` come from the header.
    pub(crate) fn read(
        id: u64,
        name: String,
        state: TaskState,
        stats: &TaskStats,
        now: u64,
    ) -> TaskInfo {
        let started = stats.poll_started.load(Relaxed);
        let ended = stats.poll_ended.load(Relaxed);
        let timed = started != 0;
        // Equal stamps are common with the coarse clock (a poll within one
        // tick): a running task is in its poll unless the poll ended
        // after it started.
        let in_poll = timed && state == TaskState::Running && started >= ended;
        let nanos = |from: u64| Duration::from_nanos(now.saturating_sub(from));
        TaskInfo {
            id,
            name,
            state,
            location: stats.location,
            polls: stats.polls.load(Relaxed),
            time_in_poll: timed.then(|| {
                let done = Duration::from_nanos(stats.busy_nanos.load(Relaxed));
                if in_poll { done + nanos(started) } else { done }
            }),
            since_last_poll: timed.then(|| {
                if in_poll {
                    Duration::ZERO
                } else {
                    nanos(ended)
                }
            }),
            running_for: in_poll.then(|| nanos(started)),
        }
    }
}

/// Called with a task that was polled for longer than the threshold, and
/// how long that poll took (see `Builder::on_slow_poll`).
pub(crate) type SlowPollHook = dyn Fn(&TaskInfo, Duration) + Send + Sync;

/// The precise mode's settings, shared by a loop's workers.
pub(crate) struct PollTiming {
    /// A poll longer than this is reported; `None`: no reports.
    pub(crate) slow_poll_threshold: Option<Duration>,
    pub(crate) on_slow_poll: std::sync::Arc<SlowPollHook>,
}

/// What a loop's workers count about each poll (chosen by its `Builder`).
#[derive(Clone)]
pub(crate) enum PollCounting {
    /// Nothing per poll (`Builder::count_polls(false)`).
    Off,
    /// Counts, and one load of the loop's coarse clock per poll (the
    /// default).
    Coarse(std::sync::Arc<CoarseClock>),
    /// Counts, and two precise clock reads per poll (`Builder::time_polls`,
    /// or a slow-poll threshold).
    Precise(std::sync::Arc<PollTiming>),
}

/// How often a loop's clock thread advances its [`CoarseClock`].
pub(crate) const CLOCK_TICK: Duration = Duration::from_millis(1);

/// Ticks with every worker asleep after which the clock thread sleeps too.
const IDLE_TICKS: u32 = 10;

/// A loop's coarse clock: a stamp that the loop's clock thread sets to
/// [`now_stamp`] every [`CLOCK_TICK`] while any worker of the loop is
/// awake, so that a worker reads the time with one load of a line that
/// changes once a millisecond, instead of a clock read (20-30 ns behind a
/// fence that stalls the pipeline, as much as a short poll). A worker that
/// wakes pushes the stamp to the time it read when it woke, and wakes the
/// clock thread if that sleeps.
///
/// The stamp only moves forward, and is never ahead of [`now_stamp`]: it
/// is late by less than one tick plus however long the clock thread waits
/// for a CPU when it wakes.
///
/// # The clock thread's sleep
///
/// After [`IDLE_TICKS`] ticks with every worker asleep, the clock thread
/// sets `sleeping` and then checks once more that no worker is awake
/// before it parks; a worker that wakes marks itself awake and then reads
/// `sleeping`. All four accesses are SeqCst, so at least one side sees the
/// other's write: either the clock thread sees the worker awake and keeps
/// ticking, or the worker sees `sleeping` and unparks it.
pub(crate) struct CoarseClock {
    now: CachePadded<AtomicU64>,
    sleeping: AtomicBool,
    stopping: AtomicBool,
    thread: OnceLock<std::thread::Thread>,
}

impl CoarseClock {
    pub(crate) fn new() -> CoarseClock {
        CoarseClock {
            now: CachePadded::new(AtomicU64::new(now_stamp())),
            sleeping: AtomicBool::new(false),
            stopping: AtomicBool::new(false),
            thread: OnceLock::new(),
        }
    }

    /// The time, late by less than a tick (plus the clock thread's wait
    /// for a CPU).
    #[inline]
    pub(crate) fn now(&self) -> u64 {
        self.now.load(Relaxed)
    }

    fn advance_to(&self, stamp: u64) {
        self.now.fetch_max(stamp, Relaxed);
    }

    /// A worker woke at `stamp`, after it marked itself awake (SeqCst):
    /// the clock is at least there, and its thread ticks again.
    pub(crate) fn worker_woke(&self, stamp: u64) {
        self.advance_to(stamp);
        if self.sleeping.load(SeqCst) && self.sleeping.swap(false, SeqCst) {
            if let Some(thread) = self.thread.get() {
                thread.unpark();
            }
        }
    }

    /// The clock thread: ticks until [`stop`](CoarseClock::stop), and
    /// sleeps while no worker is awake (`any_awake` loads with SeqCst).
    pub(crate) fn run(&self, any_awake: impl Fn() -> bool) {
        let _ = self.thread.set(std::thread::current());
        let mut idle_ticks = 0;
        while !self.stopping.load(SeqCst) {
            self.advance_to(now_stamp());
            if any_awake() {
                idle_ticks = 0;
            } else {
                idle_ticks += 1;
            }
            if idle_ticks < IDLE_TICKS {
                std::thread::sleep(CLOCK_TICK);
                continue;
            }
            self.sleeping.store(true, SeqCst);
            if !any_awake() && !self.stopping.load(SeqCst) {
                std::thread::park();
            }
            self.sleeping.store(false, SeqCst);
            idle_ticks = 0;
        }
    }

    /// Makes [`run`](CoarseClock::run) return soon (within a tick).
    pub(crate) fn stop(&self) {
        self.stopping.store(true, SeqCst);
        if let Some(thread) = self.thread.get() {
            thread.unpark();
        }
    }
}

/// How a worker's observer reads the time.
enum Stamps {
    Coarse(std::sync::Arc<CoarseClock>),
    Precise(std::sync::Arc<PollTiming>),
}

/// One worker's view of the polls it runs. Written only by its worker;
/// read by `Handle::metrics` and by the slow-poll watchdog.
pub(crate) struct PollObserver {
    stamps: Stamps,
    polls: AtomicU64,
    /// Nanoseconds in polls that ended.
    poll_nanos: AtomicU64,
    /// Precise mode: the stamp of the start of the poll in progress; zero
    /// between polls.
    current_started: AtomicU64,
    /// The id of the task being polled, in the precise mode (valid while
    /// `current_started` is not zero).
    current_task: AtomicU64,
    /// Coarse mode: the stamp the next poll starts at, the end of the
    /// last poll or the instant the worker last woke.
    next_start: AtomicU64,
}

/// What the observer remembers between the start and the end of one poll.
pub(crate) struct PollStart(u64);

impl PollObserver {
    /// An observer for a loop that counts polls (not `PollCounting::Off`,
    /// for which it stands in unused).
    pub(crate) fn new(counting: &PollCounting) -> PollObserver {
        let stamps = match counting {
            PollCounting::Precise(timing) => Stamps::Precise(timing.clone()),
            PollCounting::Coarse(clock) => Stamps::Coarse(clock.clone()),
            PollCounting::Off => Stamps::Coarse(std::sync::Arc::new(CoarseClock::new())),
        };
        PollObserver {
            stamps,
            polls: AtomicU64::new(0),
            poll_nanos: AtomicU64::new(0),
            current_started: AtomicU64::new(0),
            current_task: AtomicU64::new(0),
            next_start: AtomicU64::new(now_stamp()),
        }
    }

    fn timing(&self) -> Option<&PollTiming> {
        match &self.stamps {
            Stamps::Precise(timing) => Some(timing),
            Stamps::Coarse(_) => None,
        }
    }

    /// Polls run by this worker so far.
    pub(crate) fn polls(&self) -> u64 {
        self.polls.load(Relaxed)
    }

    /// Time in polls, the one in progress included; `awake` says whether
    /// the worker is awake (not parked).
    pub(crate) fn poll_time(&self, awake: bool) -> Duration {
        // A poll ending between the loads would be counted twice or not at
        // all: read again until both loads saw the same poll.
        loop {
            let (mark, done, again) = match &self.stamps {
                // Whatever an awake worker does between two polls counts
                // to the next one: its time since the last stamp is that
                // poll's so far.
                Stamps::Coarse(_) => {
                    let mark = self.next_start.load(Relaxed);
                    let done = self.poll_nanos.load(Relaxed);
                    let mark_again = self.next_start.load(Relaxed);
                    (if awake { mark } else { 0 }, done, mark_again == mark)
                }
                Stamps::Precise(_) => {
                    let started = self.current_started.load(Relaxed);
                    let done = self.poll_nanos.load(Relaxed);
                    let again = self.current_started.load(Relaxed) == started;
                    (started, done, again)
                }
            };
            if again {
                let current = if mark == 0 {
                    0
                } else {
                    now_stamp().saturating_sub(mark)
                };
                return Duration::from_nanos(done + current);
            }
        }
    }

    /// The task this worker has been polling since the returned stamp, if
    /// it is in a poll; only in the precise mode (the watchdog's).
    pub(crate) fn current(&self) -> Option<(u64, u64)> {
        self.timing()?;
        let started = self.current_started.load(Relaxed);
        let task = self.current_task.load(Relaxed);
        (started != 0).then_some((task, started))
    }

    /// The worker woke from a sleep at `stamp` (read from the precise
    /// clock, after it marked itself awake with SeqCst): in the coarse
    /// mode, the next poll starts then, not at the end of the last one, and
    /// the loop's clock is woken. (Looking for work without sleeping, a
    /// steal or a spin of at most 50 µs, is counted to the next poll: far
    /// less than a tick of the coarse clock.)
    pub(crate) fn woke(&self, stamp: u64) {
        if let Stamps::Coarse(clock) = &self.stamps {
            self.next_start.store(stamp, Relaxed);
            clock.worker_woke(stamp);
        }
    }

    /// Before a poll of the task with `id` and `stats`.
    #[inline]
    pub(crate) fn begin(&self, id: u64, stats: &TaskStats) -> PollStart {
        bump(&self.polls, 1);
        bump(&stats.polls, 1);
        let start = match &self.stamps {
            Stamps::Coarse(_) => self.next_start.load(Relaxed),
            Stamps::Precise(_) => {
                let now = now_stamp();
                self.current_task.store(id, Relaxed);
                self.current_started.store(now, Relaxed);
                now
            }
        };
        stats.poll_started.store(start, Relaxed);
        PollStart(start)
    }

    /// After the poll: adds its time to the worker and the task, and
    /// returns how long it took when that exceeds the slow-poll threshold.
    #[inline]
    pub(crate) fn end(&self, start: PollStart, stats: &TaskStats) -> Option<Duration> {
        // One match, so that the default's path tests the mode once.
        match &self.stamps {
            Stamps::Coarse(clock) => {
                let now = clock.now();
                self.add_poll(stats, now, now.saturating_sub(start.0));
                self.next_start.store(now, Relaxed);
                None
            }
            Stamps::Precise(timing) => {
                let now = now_stamp();
                let took = now.saturating_sub(start.0);
                self.add_poll(stats, now, took);
                self.current_started.store(0, Relaxed);
                let threshold = timing.slow_poll_threshold?;
                let took = Duration::from_nanos(took);
                (took > threshold).then_some(took)
            }
        }
    }

    /// Records a poll that ended at `now` and took `took` nanoseconds.
    #[inline(always)]
    fn add_poll(&self, stats: &TaskStats, now: u64, took: u64) {
        // `poll_ended` first: a reader in between sees the poll over and
        // its time not yet added (counted short for a moment), rather than
        // the poll still running with its time already added (twice).
        stats.poll_ended.store(now, Relaxed);
        // Zero for most short polls on the coarse clock: nothing to add.
        if took != 0 {
            bump(&self.poll_nanos, took);
            bump(&stats.busy_nanos, took);
        }
    }

    /// Reports a slow poll through the loop's hook.
    pub(crate) fn report_slow(&self, info: &TaskInfo, took: Duration) {
        if let Some(timing) = self.timing() {
            // User code: a panic in the hook must not take the worker down.
            crate::util::contain_panic(|| (timing.on_slow_poll)(info, took));
        }
    }
}
