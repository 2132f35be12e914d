//! The event loop: its owner (`EventLoop`), its configuration (`Builder`)
//! and the reference any thread may hold (`Handle`).
//!
//! Unlike asyncio's loop, which runs on the one thread that calls
//! `run_forever`, an evloop loop runs its tasks on worker threads from the
//! moment it is built. `run_until_complete` and `run_forever` block the
//! calling thread (the first polls its future there), and `close` stops
//! everything.

mod builder;
pub(crate) mod context;
mod handle;
mod metrics;
mod watchdog;

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, mpsc};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::task::Task;
use crate::task::info::{CoarseClock, PollCounting};

pub use builder::Builder;
pub use context::EnterGuard;
pub use handle::Handle;
pub use metrics::{Metrics, WorkerMetrics};

use crate::callbacks::Callbacks;
// `handle.rs` takes `super::lock` too.
use crate::util::{ignore_poison, lock_std as lock};
use crate::{blocking, reactor, scheduler};

/// What the handles share: the loop's parts, each reached through its own
/// handle, and the loop's own state.
struct LoopInner {
    scheduler: Arc<scheduler::Shared>,
    workers: usize,
    reactor: reactor::Handle,
    /// `call_soon`, `call_soon_threadsafe`, `call_later`, `call_at`.
    callbacks: Callbacks,
    /// The threads behind `run_in_executor`.
    blocking: blocking::Pool,
    closed: AtomicBool,
    /// Who drives the loop: [`RUNNING_FOREVER`] while a thread is in
    /// `run_forever`, plus one per thread in `run_until_complete`.
    drivers: AtomicUsize,
    stop_requested: Mutex<bool>,
    stop_signal: Condvar,
}

/// An event loop (asyncio's `new_event_loop()`): worker threads running
/// tasks on a work-stealing scheduler, a reactor thread for IO and timers,
/// and a blocking pool. Dropping it closes it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let lp = evloop::EventLoop::new().unwrap();
/// let total = lp.run_until_complete(async {
///     let a = evloop::spawn(async { 1 });
///     let b = evloop::spawn(async {
///         evloop::sleep(Duration::from_millis(10)).await;
///         2
///     });
///     a.await.unwrap() + b.await.unwrap()
/// });
/// assert_eq!(total, 3);
/// lp.close();
/// ```
pub struct EventLoop {
    handle: Handle,
    threads: Vec<(usize, JoinHandle<()>)>,
    /// The coarse clock whose thread is among `threads`, when the loop
    /// counts polls the default way.
    clock: Option<Arc<CoarseClock>>,
    /// Behind a mutex only to make the loop `Sync`; only `shutdown` reads it.
    exited: Mutex<mpsc::Receiver<usize>>,
    reactor: Option<reactor::Reactor>,
    closed: bool,
}

/// The bit of `LoopInner::drivers` set while a thread is in `run_forever`.
const RUNNING_FOREVER: usize = 1 << (usize::BITS - 1);

/// The error of [`EventLoop::try_run_forever`]: another thread already runs
/// the loop (asyncio's "This event loop is already running").
///
/// # Examples
///
/// ```
/// let lp = std::sync::Arc::new(evloop::EventLoop::new().unwrap());
/// let runner = std::thread::spawn({
///     let lp = lp.clone();
///     move || lp.run_forever()
/// });
/// while !lp.handle().is_running() {
///     std::thread::yield_now();
/// }
/// let err = lp.try_run_forever().unwrap_err();
/// assert!(err.to_string().contains("already running"));
/// lp.stop();
/// runner.join().unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlreadyRunningError {
    /// What was called: `run_forever` or `run_until_complete`.
    called: &'static str,
}

impl std::fmt::Display for AlreadyRunningError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "This event loop is already running: EventLoop::{} was called while another \
             thread runs the loop in run_forever (or, for run_forever, in \
             run_until_complete); stop() it first, or submit work through a Handle",
            self.called
        )
    }
}

impl std::error::Error for AlreadyRunningError {}

/// Reports a worker's exit (also when it unwinds) to the closing thread.
struct ExitSignal {
    index: usize,
    sender: mpsc::Sender<usize>,
}

impl Drop for ExitSignal {
    fn drop(&mut self) {
        let _ = self.sender.send(self.index);
    }
}

impl EventLoop {
    /// A loop with one worker per CPU (see [`Builder`] for more control).
    ///
    /// # Errors
    ///
    /// The OS's error when a thread or the poller cannot be created.
    pub fn new() -> io::Result<EventLoop> {
        Builder::new().build()
    }

    /// A [`Builder`] to configure the loop.
    pub fn builder() -> Builder {
        Builder::new()
    }

    fn start(config: Builder) -> io::Result<EventLoop> {
        let workers = config.worker_threads;
        let counting = config.poll_counting();
        let reactor = reactor::Reactor::start(&config.thread_name)?;
        let (scheduler, seeds) = scheduler::Shared::with_counting(
            workers,
            Some(reactor.handle().driver()),
            counting.clone(),
        );
        if let PollCounting::Precise(timing) = &counting {
            watchdog::Watchdog::start(&scheduler, &reactor.handle(), timing);
        }
        let handle = Handle {
            inner: Arc::new(LoopInner {
                callbacks: Callbacks::new(scheduler.clone()),
                scheduler,
                workers,
                reactor: reactor.handle(),
                blocking: blocking::Pool::new(
                    config.max_blocking_threads,
                    config.thread_keep_alive,
                    config.thread_name.clone(),
                ),
                closed: AtomicBool::new(false),
                drivers: AtomicUsize::new(0),
                stop_requested: Mutex::new(false),
                stop_signal: Condvar::new(),
            }),
        };
        let (sender, exited) = mpsc::channel();
        let mut event_loop = EventLoop {
            handle: handle.clone(),
            threads: Vec::with_capacity(workers),
            exited: Mutex::new(exited),
            reactor: Some(reactor),
            clock: None,
            closed: false,
        };
        for seed in seeds {
            let index = event_loop.threads.len();
            let handle = handle.clone();
            let signal = ExitSignal {
                index,
                sender: sender.clone(),
            };
            let spawned = thread::Builder::new()
                .name(format!("{}-worker-{index}", config.thread_name))
                .spawn(move || {
                    let _signal = signal;
                    let _context = handle.enter();
                    scheduler::run_worker(handle.inner.scheduler.clone(), seed);
                });
            match spawned {
                Ok(thread) => event_loop.threads.push((index, thread)),
                // Dropping the half-built loop stops the workers started so far.
                Err(err) => return Err(err),
            }
        }
        if let PollCounting::Coarse(clock) = counting {
            // The thread that keeps the workers' coarse clock (`task::info`).
            let index = event_loop.threads.len();
            let signal = ExitSignal {
                index,
                sender: sender.clone(),
            };
            let scheduler = handle.inner.scheduler.clone();
            let ticking = clock.clone();
            event_loop.clock = Some(clock);
            let thread = thread::Builder::new()
                .name(format!("{}-clock", config.thread_name))
                .spawn(move || {
                    let _signal = signal;
                    ticking.run(|| scheduler.any_worker_awake());
                })?;
            event_loop.threads.push((index, thread));
        }
        Ok(event_loop)
    }

    /// A handle to this loop, for other threads and for tasks.
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Runs `future` on the calling thread until it completes, while spawned
    /// tasks run on the workers (asyncio's `run_until_complete`). The future
    /// need not be `Send`. Inside it, [`spawn`](crate::spawn),
    /// [`sleep`](crate::sleep) and [`Handle::current`] refer to this loop.
    ///
    /// Several threads may each run a future of the same loop with
    /// `run_until_complete` at once (asyncio allows one), but not while a
    /// thread runs the loop with [`run_forever`](EventLoop::run_forever).
    ///
    /// # Panics
    ///
    /// When called from inside a task of a loop, or from inside another
    /// `run_until_complete` on this thread: blocking there would deadlock,
    /// so it panics with a message saying to `await` instead. While another
    /// thread is in `run_forever`, it panics with asyncio's "This event loop
    /// is already running" (see [`AlreadyRunningError`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::rc::Rc;
    /// let lp = evloop::EventLoop::new().unwrap();
    /// let local = Rc::new(5); // not Send: fine here
    /// let doubled = lp.run_until_complete(async move { *local * 2 });
    /// assert_eq!(doubled, 10);
    /// ```
    #[track_caller]
    pub fn run_until_complete<F: Future>(&self, future: F) -> F::Output {
        let _driving = match self.begin_driving("run_until_complete") {
            Ok(driving) => driving,
            Err(err) => panic!("{err}"),
        };
        let _context = self.handle.enter();
        crate::util::block_on(future)
    }

    /// Blocks the calling thread until [`stop`](EventLoop::stop) (or
    /// [`Handle::stop`]) is called, while tasks run on the workers (asyncio's
    /// `run_forever`). The seed pattern: move the loop into a thread that
    /// runs it forever, submit work from other threads through a
    /// [`Handle`], then stop it.
    ///
    /// One thread at a time runs the loop this way; see
    /// [`try_run_forever`](EventLoop::try_run_forever) for the form that
    /// returns an error instead of panicking.
    ///
    /// # Panics
    ///
    /// When called from inside a task or a running `run_until_complete`
    /// (see there), and with asyncio's message "This event loop is already
    /// running" when another thread is in `run_forever` or
    /// `run_until_complete` of this loop.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = evloop::EventLoop::new().unwrap();
    /// let handle = lp.handle();
    /// let runner = std::thread::spawn(move || {
    ///     lp.run_forever();
    ///     lp
    /// });
    /// handle.spawn(async {}).add_done_callback({
    ///     let handle = handle.clone();
    ///     move |_| handle.stop()
    /// });
    /// let lp = runner.join().unwrap();
    /// lp.close();
    /// ```
    #[track_caller]
    pub fn run_forever(&self) {
        if let Err(err) = self.try_run_forever() {
            panic!("{err}");
        }
    }

    /// Like [`run_forever`](EventLoop::run_forever), but returns an error
    /// when another thread already runs the loop (in `run_forever` or
    /// `run_until_complete`), as asyncio raises "This event loop is already
    /// running".
    ///
    /// # Errors
    ///
    /// [`AlreadyRunningError`] when the loop is running on another thread.
    ///
    /// # Panics
    ///
    /// When called from inside a task or a running `run_until_complete` on
    /// this thread (see [`run_until_complete`](EventLoop::run_until_complete)).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = evloop::EventLoop::new().unwrap();
    /// lp.stop();
    /// // Not running anywhere else: runs until the stop.
    /// assert!(lp.try_run_forever().is_ok());
    /// ```
    #[track_caller]
    pub fn try_run_forever(&self) -> Result<(), AlreadyRunningError> {
        let _driving = self.begin_driving("run_forever")?;
        let _context = self.handle.enter();
        let inner = &self.handle.inner;
        let mut stop = lock(&inner.stop_requested);
        while !*stop {
            stop = ignore_poison(inner.stop_signal.wait(stop));
        }
        *stop = false;
        Ok(())
    }

    /// Makes [`run_forever`](EventLoop::run_forever) return (see
    /// [`Handle::stop`]).
    pub fn stop(&self) {
        self.handle.stop();
    }

    /// Closes the loop (asyncio's `close()`, plus the cancellation that
    /// `asyncio.run` does): new work is refused from now on, the workers
    /// finish their current poll and stop, every task that has not finished
    /// has its future dropped exactly once (so its destructors run), and
    /// every thread is joined. Callbacks and blocking jobs that have not
    /// started are refused; running blocking jobs are waited for. Dropping
    /// the loop does the same.
    pub fn close(mut self) {
        self.shutdown(None);
    }

    /// Like [`close`](EventLoop::close), but waits at most `timeout` for
    /// the workers to finish their current poll and the blocking pool to
    /// finish its running jobs (a task blocking its worker thread would
    /// otherwise hold the close up). Workers still busy after
    /// the timeout are left to finish in the background: their tasks'
    /// futures are dropped when the poll in progress returns.
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    #[track_caller]
    fn begin_driving(&self, what: &'static str) -> Result<DriverGuard<'_>, AlreadyRunningError> {
        if scheduler::is_worker_thread() {
            panic!(
                "EventLoop::{what} was called from inside a task on a loop's worker thread: \
                 this would block the worker and deadlock; `.await` the future instead"
            );
        }
        let Some(thread_guard) = context::begin_driving() else {
            panic!(
                "EventLoop::{what} was called while this thread already drives an event loop \
                 (asyncio: 'This event loop is already running'); `.await` the future instead"
            );
        };
        let forever = what == "run_forever";
        let drivers = &self.handle.inner.drivers;
        let entered = drivers.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |word| {
            match (forever, word) {
                (true, 0) => Some(RUNNING_FOREVER),
                (false, word) if word & RUNNING_FOREVER == 0 => Some(word + 1),
                _ => None,
            }
        });
        if entered.is_err() {
            return Err(AlreadyRunningError { called: what });
        }
        Ok(DriverGuard {
            inner: &self.handle.inner,
            leave: if forever { RUNNING_FOREVER } else { 1 },
            _thread: thread_guard,
        })
    }

    fn shutdown(&mut self, timeout: Option<Duration>) {
        if self.closed {
            return;
        }
        self.closed = true;
        let inner = &self.handle.inner;
        // Destructors run below (of refused callbacks and jobs, of dropped
        // tasks) must not wait on this thread for a task of this loop.
        let _closing = inner.scheduler.enter_closing();
        inner.closed.store(true, Ordering::SeqCst);
        inner.callbacks.close();
        inner.blocking.begin_shutdown();
        inner.scheduler.begin_shutdown();
        if let Some(clock) = &self.clock {
            clock.stop();
        }

        let deadline = timeout.map(|t| Instant::now().checked_add(t));
        let me = thread::current().id();
        let mut remaining: Vec<(usize, JoinHandle<()>)> = std::mem::take(&mut self.threads)
            .into_iter()
            .filter(|(_, thread)| thread.thread().id() != me)
            .collect();
        let exits = lock(&self.exited);
        while !remaining.is_empty() {
            let exited = match deadline {
                None | Some(None) => exits.recv().ok(),
                Some(Some(deadline)) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    exits.recv_timeout(left).ok()
                }
            };
            let Some(index) = exited else {
                // Timed out: the rest are detached and finish on their own.
                break;
            };
            if let Some(pos) = remaining.iter().position(|(i, _)| *i == index) {
                let (_, thread) = remaining.swap_remove(pos);
                let _ = thread.join();
            }
        }

        drop(exits);
        let _context = self.handle.enter();
        inner.scheduler.drop_remaining_tasks();
        inner.blocking.wait_for_running_jobs(deadline.flatten());
        if let Some(reactor) = self.reactor.take() {
            reactor.shutdown();
        }
    }
}

/// Counts the threads driving the loop, for `is_running` and to keep
/// `run_forever` to one thread.
struct DriverGuard<'a> {
    inner: &'a LoopInner,
    /// What this driver added to `drivers`.
    leave: usize,
    _thread: context::DrivingGuard,
}

impl Drop for DriverGuard<'_> {
    fn drop(&mut self) {
        self.inner.drivers.fetch_sub(self.leave, Ordering::SeqCst);
    }
}

impl Drop for EventLoop {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl std::fmt::Debug for EventLoop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLoop")
            .field("handle", &self.handle)
            .finish()
    }
}

/// Runs `future` to completion on a new loop with default settings, then
/// closes the loop (asyncio's `asyncio.run`): tasks still running at the
/// end are cancelled (their futures dropped).
///
/// # Panics
///
/// When the loop cannot be started (the OS refused a thread), or when
/// called from inside a loop (see
/// [`EventLoop::run_until_complete`]).
///
/// # Examples
///
/// ```
/// let answer = evloop::run(async {
///     evloop::spawn(async { 42 }).await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    let event_loop = match EventLoop::new() {
        Ok(event_loop) => event_loop,
        Err(err) => panic!("evloop::run could not start an event loop: {err}"),
    };
    let output = event_loop.run_until_complete(future);
    event_loop.close();
    output
}

/// Runs the blocking closure `work` on the current loop's blocking pool
/// (asyncio's `asyncio.to_thread`); see [`Handle::run_in_executor`].
///
/// # Panics
///
/// Outside a loop (use [`Handle::run_in_executor`] there).
///
/// # Examples
///
/// ```
/// let total = evloop::run(async {
///     evloop::to_thread(|| (1..=100).sum::<u64>()).await.unwrap()
/// });
/// assert_eq!(total, 5050);
/// ```
#[track_caller]
pub fn to_thread<F, R>(work: F) -> Task<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    Handle::current().run_in_executor(work)
}
