//! `Builder`: how many workers, what the threads are called, and how the
//! loop watches its polls.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use super::EventLoop;
use crate::task::TaskInfo;
use crate::task::info::{CoarseClock, PollCounting, PollTiming, SlowPollHook};

/// The slow-poll threshold that `EVLOOP_DEBUG=1` sets (asyncio's
/// `slow_callback_duration` in debug mode).
const DEBUG_SLOW_POLL_THRESHOLD: Duration = Duration::from_millis(100);

/// Configures an [`EventLoop`] before it starts (asyncio has no such thing:
/// its loop is one thread; evloop's has workers, a reactor thread and a
/// blocking pool).
///
/// # Examples
///
/// ```
/// let lp = evloop::EventLoop::builder()
///     .worker_threads(2)
///     .thread_name("app")
///     .build()
///     .unwrap();
/// assert_eq!(lp.run_until_complete(async { 1 + 1 }), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    pub(crate) worker_threads: usize,
    pub(crate) max_blocking_threads: usize,
    pub(crate) thread_keep_alive: Duration,
    pub(crate) thread_name: String,
    pub(crate) count_polls: bool,
    pub(crate) time_polls: bool,
    pub(crate) slow_poll_threshold: Option<Duration>,
    pub(crate) on_slow_poll: OnSlowPoll,
}

/// The slow-poll hook, printable so that `Builder` stays `Debug`.
#[derive(Clone)]
pub(crate) struct OnSlowPoll(pub(crate) Arc<SlowPollHook>);

impl fmt::Debug for OnSlowPoll {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OnSlowPoll(..)")
    }
}

/// Whether `EVLOOP_DEBUG` asks for debug mode (set, and not `0` or empty).
fn debug_mode_from_env() -> bool {
    std::env::var_os("EVLOOP_DEBUG").is_some_and(|v| !v.is_empty() && v != "0")
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            worker_threads: num_cpus::get().max(1),
            max_blocking_threads: 512,
            thread_keep_alive: Duration::from_secs(10),
            thread_name: "evloop".to_owned(),
            count_polls: true,
            time_polls: false,
            slow_poll_threshold: debug_mode_from_env().then_some(DEBUG_SLOW_POLL_THRESHOLD),
            on_slow_poll: OnSlowPoll(Arc::new(super::watchdog::report_to_stderr)),
        }
    }
}

impl Builder {
    /// A builder with the defaults: one worker per CPU, at most 512
    /// blocking threads, threads named "evloop-...".
    pub fn new() -> Builder {
        Builder::default()
    }

    /// How many worker threads run tasks (default: the number of CPUs).
    /// Zero makes [`build`](Builder::build) fail.
    pub fn worker_threads(mut self, count: usize) -> Builder {
        self.worker_threads = count;
        self
    }

    /// The most threads the blocking pool behind
    /// [`run_in_executor`](crate::Handle::run_in_executor) may grow to
    /// (default 512). Zero makes [`build`](Builder::build) fail.
    pub fn max_blocking_threads(mut self, count: usize) -> Builder {
        self.max_blocking_threads = count;
        self
    }

    /// How long an idle thread of the blocking pool waits for a new job
    /// before it exits (default 10 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// let lp = evloop::EventLoop::builder()
    ///     .thread_keep_alive(Duration::from_millis(100))
    ///     .build()
    ///     .unwrap();
    /// # lp.close();
    /// ```
    pub fn thread_keep_alive(mut self, keep_alive: Duration) -> Builder {
        self.thread_keep_alive = keep_alive;
        self
    }

    /// The prefix of every thread's name: `<name>-worker-<i>`,
    /// `<name>-reactor`, `<name>-blocking`, and `<name>-clock` (the thread
    /// that keeps the millisecond clock polls are timed with; see
    /// [`count_polls`](Builder::count_polls)).
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.thread_name = name.into();
        self
    }

    /// Whether workers count their polls, steals and parks and time their
    /// polls (default: on). This is what [`Handle::metrics`]'s per-worker
    /// counters and [`Handle::dump`]'s poll counts and times are made of;
    /// see [`TaskInfo`] for how each is counted. Counting costs a worker a
    /// few stores to its own cache lines per poll, and the loop one more
    /// thread (`<name>-clock`), which keeps a millisecond clock while a
    /// worker is awake and sleeps when they all do: 1 to 3% of a loop of
    /// the shortest polls (a `yield_now` each), less of real ones
    /// (`benches/README.md` says how it is measured).
    ///
    /// Off, workers count nothing: [`WorkerMetrics`](crate::WorkerMetrics)'
    /// `polls`, `steals`, `parks` and `busy` stay zero and its `poll_time`
    /// `None`, and every task shows zero polls and no times. The levels
    /// `Handle::metrics` reads when asked (queue depths, live tasks,
    /// timers, IO sources, the blocking pool, callbacks run) are there all
    /// the same. [`time_polls`](Builder::time_polls) and a
    /// [slow-poll threshold](Builder::slow_poll_threshold) need the counts,
    /// and turn counting back on.
    ///
    /// [`Handle::metrics`]: crate::Handle::metrics
    /// [`Handle::dump`]: crate::Handle::dump
    ///
    /// ```
    /// let lp = evloop::EventLoop::builder().count_polls(false).build().unwrap();
    /// lp.run_until_complete(lp.handle().spawn(async {})).unwrap();
    /// assert_eq!(lp.handle().metrics().total_polls(), 0);
    /// # lp.close();
    /// ```
    pub fn count_polls(mut self, on: bool) -> Builder {
        self.count_polls = on;
        self
    }

    /// Times every poll on its own, with a read of the precise clock when
    /// it starts and one when it ends (default: off, or on with a
    /// slow-poll threshold).
    ///
    /// Without it, a worker times polls with the loop's millisecond clock,
    /// loaded once per poll when the poll returns, and takes the end of one
    /// poll as the start of the next: each poll's time is then right to
    /// within one tick, and a task's total over many short polls right on
    /// average (see [`TaskInfo`]). With it, each poll's time is exact and leaves
    /// out the worker's own work between polls, at the cost of two precise
    /// clock reads per poll (20-30 ns each, as much as a short poll takes).
    ///
    /// ```
    /// let lp = evloop::EventLoop::builder().time_polls(true).build().unwrap();
    /// let task = lp.handle().spawn(async {});
    /// lp.run_until_complete(task).unwrap();
    /// # lp.close();
    /// ```
    pub fn time_polls(mut self, on: bool) -> Builder {
        self.time_polls = on;
        self
    }

    /// Reports every poll that takes longer than `threshold` (asyncio's
    /// debug mode: "Executing <Task ...> took 0.2 seconds"), with the
    /// task's name, spawn site and the poll's duration, through
    /// [`on_slow_poll`](Builder::on_slow_poll) (default: a line on stderr).
    /// Turns on [`time_polls`](Builder::time_polls), so that a report
    /// names the poll that was slow and no other.
    ///
    /// Off by default; with the environment variable `EVLOOP_DEBUG=1` it
    /// is on at 100 ms. A poll that has not returned after `threshold` is
    /// reported while it still runs, once, by the reactor thread (so a
    /// task stuck in a blocking call is named even if it never returns);
    /// the hook then sees [`TaskInfo::running_for`] set. `Duration::MAX`
    /// turns reports off again.
    ///
    /// ```
    /// use std::time::Duration;
    /// let lp = evloop::EventLoop::builder()
    ///     .slow_poll_threshold(Duration::from_millis(50))
    ///     .build()
    ///     .unwrap();
    /// # lp.close();
    /// ```
    pub fn slow_poll_threshold(mut self, threshold: Duration) -> Builder {
        self.slow_poll_threshold = (threshold != Duration::MAX).then_some(threshold);
        self
    }

    /// Where slow polls are reported (see
    /// [`slow_poll_threshold`](Builder::slow_poll_threshold)): `hook` gets
    /// the task and how long its poll took (or, for a poll still running,
    /// has run so far). It runs on the worker that ran the poll, or on the
    /// reactor thread for a poll still running; a panic in it is caught.
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use std::time::Duration;
    ///
    /// let (tx, rx) = mpsc::channel();
    /// let tx = std::sync::Mutex::new(tx);
    /// let lp = evloop::EventLoop::builder()
    ///     .slow_poll_threshold(Duration::from_millis(20))
    ///     .on_slow_poll(move |task, took| {
    ///         let _ = tx.lock().unwrap().send((task.name().to_owned(), took));
    ///     })
    ///     .build()
    ///     .unwrap();
    /// let task = evloop::task::TaskBuilder::new()
    ///     .name("blocker")
    ///     .spawn_on(async { std::thread::sleep(Duration::from_millis(50)) }, &lp.handle());
    /// lp.run_until_complete(task).unwrap();
    /// let (name, took) = rx.recv().unwrap();
    /// assert_eq!(name, "blocker");
    /// assert!(took >= Duration::from_millis(20));
    /// # lp.close();
    /// ```
    pub fn on_slow_poll<F>(mut self, hook: F) -> Builder
    where
        F: Fn(&TaskInfo, Duration) + Send + Sync + 'static,
    {
        self.on_slow_poll = OnSlowPoll(Arc::new(hook));
        self
    }

    /// How the workers will count polls: see `count_polls` and `time_polls`.
    pub(crate) fn poll_counting(&self) -> PollCounting {
        if self.time_polls || self.slow_poll_threshold.is_some() {
            PollCounting::Precise(Arc::new(PollTiming {
                slow_poll_threshold: self.slow_poll_threshold,
                on_slow_poll: self.on_slow_poll.0.clone(),
            }))
        } else if self.count_polls {
            PollCounting::Coarse(Arc::new(CoarseClock::new()))
        } else {
            PollCounting::Off
        }
    }

    /// Starts the loop's threads.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for zero workers or zero blocking threads; the OS's
    /// error when a thread or the poller cannot be created.
    ///
    /// ```
    /// let err = evloop::EventLoop::builder().worker_threads(0).build().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn build(self) -> io::Result<EventLoop> {
        if self.worker_threads == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "worker_threads must be at least 1: a loop without workers cannot run tasks",
            ));
        }
        if self.max_blocking_threads == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "max_blocking_threads must be at least 1: run_in_executor needs a thread",
            ));
        }
        EventLoop::start(self)
    }
}
