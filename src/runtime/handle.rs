//! `Handle`: the `Send + Sync` reference to a loop that any thread may
//! hold. Every public method of the loop lives here and delegates to the
//! part that does the work, through that part's own handle: the scheduler
//! (tasks), the callbacks, the bridge (`ConcurrentFuture`), the reactor
//! (the clock, timers), the blocking pool and the signal handlers.

use std::fmt;
use std::future::Future;
use std::io;
use std::os::raw::c_int;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{EnterGuard, LoopInner, context};
use crate::blocking;
use crate::bridge::{self, ConcurrentFuture};
use crate::callbacks::CallbackHandle;
use crate::signal;
use crate::task::{Task, TaskBuilder, TaskInfo};

/// A reference to an event loop, cheap to clone, usable from any thread:
/// spawn tasks, schedule callbacks, submit work from plain threads and wait
/// for it ([`run_coroutine_threadsafe`](Handle::run_coroutine_threadsafe)),
/// run blocking closures, stop the loop, and [`enter`](Handle::enter) it.
///
/// # Examples
///
/// ```
/// let lp = evloop::EventLoop::new().unwrap();
/// let handle = lp.handle();
/// let answer = std::thread::spawn(move || {
///     handle.spawn(async { 40 + 2 })
/// })
/// .join()
/// .unwrap();
/// assert_eq!(lp.run_until_complete(answer).unwrap(), 42);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(super) inner: Arc<LoopInner>,
}

impl Handle {
    /// The loop of the calling thread: inside a task, inside
    /// [`run_until_complete`](crate::EventLoop::run_until_complete), or
    /// while the guard of [`enter`](Handle::enter) lives.
    ///
    /// # Panics
    ///
    /// Outside a loop, with a message saying so; use
    /// [`try_current`](Handle::try_current) to check.
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Some(handle) => handle,
            None => context::no_current_loop(),
        }
    }

    /// The loop of the calling thread, or `None` outside a loop.
    ///
    /// ```
    /// assert!(evloop::Handle::try_current().is_none());
    /// evloop::run(async { assert!(evloop::Handle::try_current().is_some()) });
    /// ```
    pub fn try_current() -> Option<Handle> {
        context::current()
    }

    /// Spawns a task on this loop, from any thread (asyncio's
    /// `loop.create_task`). On a closed loop the returned task is already
    /// done with a "loop closed" [`TaskError`](crate::TaskError).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.scheduler.spawn(future, None)
    }

    /// Runs `future` as a task of this loop, from any thread, and returns a
    /// [`ConcurrentFuture`] for its result (asyncio's
    /// `run_coroutine_threadsafe`).
    ///
    /// On a closed loop the future is dropped and the returned
    /// `ConcurrentFuture` is already done with a "loop closed"
    /// [`TaskError`](crate::TaskError).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = evloop::EventLoop::new().unwrap();
    /// let handle = lp.handle();
    /// let answer = std::thread::spawn(move || {
    ///     handle.run_coroutine_threadsafe(async { 40 + 2 }).result()
    /// });
    /// assert_eq!(answer.join().unwrap().unwrap(), 42);
    /// ```
    #[track_caller]
    pub fn run_coroutine_threadsafe<F>(&self, future: F) -> ConcurrentFuture<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let task = self.inner.scheduler.spawn(future, None);
        bridge::concurrent_future(task, &self.inner.scheduler)
    }

    /// Queues `callback` to run soon on one of the loop's workers, from any
    /// thread (asyncio's `call_soon_threadsafe`).
    ///
    /// Callbacks submitted by one thread run in the order they were
    /// submitted. Cancel the returned handle before the callback runs and it
    /// never runs. A panic in the callback is caught (the panic hook reports
    /// it) and the worker carries on. On a closed loop, or when the loop
    /// closes before the callback got to run, the callback is dropped
    /// without running and the handle reads
    /// [`is_loop_closed`](CallbackHandle::is_loop_closed).
    ///
    /// The callback runs inside a task of the loop (one task runs all the
    /// loop's callbacks), so [`current_task`](crate::current_task) there
    /// returns that task.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// let lp = evloop::EventLoop::new().unwrap();
    /// let (tx, rx) = mpsc::channel();
    /// for i in 0..3 {
    ///     let tx = tx.clone();
    ///     lp.handle().call_soon_threadsafe(move || tx.send(i).unwrap());
    /// }
    /// let order: Vec<i32> = rx.iter().take(3).collect();
    /// assert_eq!(order, [0, 1, 2]);
    /// ```
    pub fn call_soon_threadsafe<F>(&self, callback: F) -> CallbackHandle
    where
        F: FnOnce() + Send + 'static,
    {
        if self.is_closed() {
            drop(callback);
            return CallbackHandle::refused();
        }
        self.inner.callbacks.call_soon(callback)
    }

    /// Queues `callback` to run soon on one of the loop's workers (asyncio's
    /// `call_soon`). Every evloop handle may be used from any thread, so
    /// this is [`call_soon_threadsafe`](Handle::call_soon_threadsafe) under
    /// the name asyncio code uses inside the loop.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let (tx, rx) = std::sync::mpsc::channel();
    ///     evloop::Handle::current().call_soon(move || tx.send("soon").unwrap());
    ///     let got = evloop::Handle::current()
    ///         .run_in_executor(move || rx.recv().unwrap())
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(got, "soon");
    /// });
    /// ```
    pub fn call_soon<F>(&self, callback: F) -> CallbackHandle
    where
        F: FnOnce() + Send + 'static,
    {
        self.call_soon_threadsafe(callback)
    }

    /// Runs `f` on the loop after `delay` (asyncio's `loop.call_later`),
    /// from any thread. Returns a handle to cancel it.
    ///
    /// `f` runs on a worker thread, never before the delay has elapsed,
    /// inside the task that runs the loop's callbacks (as for
    /// [`call_soon_threadsafe`](Handle::call_soon_threadsafe)). Callbacks due
    /// at the same instant run in the order they were scheduled; a zero
    /// delay runs as soon as possible. A panic in `f` is caught and reported
    /// by the panic hook; the loop goes on. On a closed loop the callback is
    /// refused and never runs, as is a callback still waiting when the loop
    /// closes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use std::time::{Duration, Instant};
    ///
    /// let lp = evloop::EventLoop::new().unwrap();
    /// let (sender, receiver) = mpsc::channel();
    /// let start = Instant::now();
    /// lp.handle().call_later(Duration::from_millis(5), move || {
    ///     sender.send(Instant::now()).unwrap();
    /// });
    /// let ran_at = receiver.recv().unwrap();
    /// assert!(ran_at - start >= Duration::from_millis(5));
    /// lp.close();
    /// ```
    pub fn call_later<F>(&self, delay: Duration, f: F) -> CallbackHandle
    where
        F: FnOnce() + Send + 'static,
    {
        let now = self.time();
        let when = now
            .checked_add(delay)
            .unwrap_or_else(|| sleep_forever_from(now));
        self.call_at(when, f)
    }

    /// Runs `f` on the loop at `when` (asyncio's `loop.call_at`), from any
    /// thread; see [`call_later`](crate::Handle::call_later). An instant in
    /// the past runs as soon as possible.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::{Arc, Mutex};
    /// use std::time::Duration;
    ///
    /// evloop::run(async {
    ///     let handle = evloop::Handle::current();
    ///     let order = Arc::new(Mutex::new(Vec::new()));
    ///     let when = handle.time() + Duration::from_millis(2);
    ///     for i in 0..3 {
    ///         let order = order.clone();
    ///         handle.call_at(when, move || order.lock().unwrap().push(i));
    ///     }
    ///     evloop::sleep(Duration::from_millis(20)).await;
    ///     assert_eq!(*order.lock().unwrap(), [0, 1, 2]);
    /// });
    /// ```
    pub fn call_at<F>(&self, when: Instant, f: F) -> CallbackHandle
    where
        F: FnOnce() + Send + 'static,
    {
        if self.is_closed() {
            return CallbackHandle::refused();
        }
        self.inner.callbacks.call_at(when, f)
    }

    /// The loop's clock (asyncio's `loop.time()`): a monotonic
    /// [`Instant`], the time base of [`call_at`](crate::Handle::call_at)
    /// and [`sleep_until`](crate::sleep_until).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = evloop::EventLoop::new().unwrap();
    /// let before = std::time::Instant::now();
    /// assert!(lp.handle().time() >= before);
    /// ```
    pub fn time(&self) -> Instant {
        Instant::now()
    }

    /// How many timers are pending: sleeps (and timeouts, and timed
    /// callbacks) that are registered with the loop's reactor and have
    /// neither fired nor been dropped. Exact at the time of the call. A
    /// diagnostic: a count that keeps growing points at leaked timers.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// evloop::run(async {
    ///     let handle = evloop::Handle::current();
    ///     let mut sleep = evloop::sleep(Duration::from_secs(60));
    ///     // Registered at its first poll.
    ///     assert!(evloop::timeout(Duration::ZERO, &mut sleep).await.is_err());
    ///     assert_eq!(handle.pending_timers(), 1);
    ///     drop(sleep);
    ///     assert_eq!(handle.pending_timers(), 0);
    /// });
    /// ```
    pub fn pending_timers(&self) -> usize {
        self.inner.reactor.pending_timers()
    }

    /// A snapshot of the loop's counters: per worker polls, steals, parks,
    /// busy time and queue depth; the injector's depth, live tasks, pending
    /// timers, IO sources, the blocking pool's threads and queue, and
    /// callbacks run. See [`Metrics`](crate::Metrics) for how each
    /// figure is counted.
    ///
    /// Callable from any thread, at any time: it reads counters that each
    /// worker and part keeps for itself, waits for no worker, and costs
    /// the loop nothing when nobody calls it.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = evloop::EventLoop::builder().worker_threads(2).build().unwrap();
    /// lp.run_until_complete(lp.handle().spawn(async {})).unwrap();
    /// let metrics = lp.handle().metrics();
    /// assert!(metrics.total_polls() >= 1);
    /// assert_eq!(metrics.workers.len(), 2);
    /// # lp.close();
    /// ```
    pub fn metrics(&self) -> super::Metrics {
        super::metrics::snapshot(&self.inner)
    }

    /// Every task of the loop that has not finished, in spawn order, with
    /// its name, state, spawn site, poll count, time in poll and time since
    /// its last poll ([`TaskInfo`] says how each is counted): asyncio's
    /// `all_tasks()` with the stack of each task replaced by where it was
    /// spawned.
    ///
    /// Callable from any thread, also while every worker is stuck in a
    /// poll: it reads the live-task list and each task's counters without
    /// waiting for a worker. [`TaskInfo`] prints as a one-line summary.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let lp = evloop::EventLoop::new().unwrap();
    /// let task = evloop::task::TaskBuilder::new()
    ///     .name("ticker")
    ///     .spawn_on(evloop::sleep(Duration::from_secs(60)), &lp.handle());
    /// for info in lp.handle().dump() {
    ///     println!("{info}");
    /// }
    /// assert!(lp.handle().dump().iter().any(|t| t.name() == "ticker"));
    /// task.cancel();
    /// # lp.close();
    /// ```
    pub fn dump(&self) -> Vec<TaskInfo> {
        self.inner.scheduler.dump()
    }

    /// Runs the blocking closure `work` on the loop's blocking pool, from
    /// any thread (asyncio's `loop.run_in_executor(None, work)`), and
    /// returns the [`Task`] that waits for it: awaiting it yields the
    /// closure's value, or a panic [`TaskError`](crate::TaskError) carrying the payload.
    ///
    /// Cancelling the task before the closure started means it never
    /// starts; a closure that is running cannot be stopped, its value is
    /// dropped when it returns. On a closed loop the task is already done
    /// with a "loop closed" error.
    ///
    /// The pool runs each closure on a thread named `"<name>-blocking"`,
    /// starting threads as needed up to
    /// [`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads)
    /// (further closures wait their turn); a thread idle for
    /// [`Builder::thread_keep_alive`](crate::Builder::thread_keep_alive)
    /// exits. Closing the loop waits for the running closures (within the
    /// [`shutdown_timeout`](crate::EventLoop::shutdown_timeout), if one is
    /// given) and refuses the queued ones.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let handle = evloop::Handle::current();
    ///     let name = handle
    ///         .run_in_executor(|| std::thread::current().name().map(str::to_owned))
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(name.as_deref(), Some("evloop-blocking"));
    /// });
    /// ```
    #[track_caller]
    pub fn run_in_executor<F, R>(&self, work: F) -> Task<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let inner = &self.inner;
        blocking::run_in_executor(
            &inner.blocking,
            &inner.scheduler,
            || context::entered_loop(inner),
            work,
        )
    }

    /// Makes [`run_forever`](crate::EventLoop::run_forever) return (asyncio's
    /// `loop.stop()`). Tasks keep running on the workers; stopping is not
    /// closing. When the loop is not running, the next `run_forever` returns
    /// at once.
    pub fn stop(&self) {
        let mut stop = super::lock(&self.inner.stop_requested);
        *stop = true;
        self.inner.stop_signal.notify_all();
    }

    /// True while a thread is inside `run_forever` or `run_until_complete`.
    pub fn is_running(&self) -> bool {
        self.inner.drivers.load(Ordering::SeqCst) != 0
    }

    /// True once the loop was closed: new work is refused from then on.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }

    /// Makes this loop the calling thread's current loop until the
    /// returned guard is dropped: meanwhile [`Handle::current`],
    /// [`spawn`](crate::spawn), [`sleep`](crate::sleep),
    /// [`to_thread`](crate::to_thread) and the sockets of `evloop::net`
    /// refer to this loop. It runs nothing itself: the
    /// loop's workers keep running its tasks. Guards nest: dropping one
    /// restores the loop that was current before.
    ///
    /// Use it to create a loop's timers and sockets on a plain thread, or to
    /// call code that expects a current loop.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = evloop::EventLoop::new().unwrap();
    /// let handle = lp.handle();
    /// std::thread::spawn(move || {
    ///     assert!(evloop::Handle::try_current().is_none());
    ///     let _guard = handle.enter();
    ///     let task = evloop::spawn(async { 6 * 7 });
    ///     let answer = handle.run_coroutine_threadsafe(task).result();
    ///     assert_eq!(answer.unwrap().unwrap(), 42);
    /// })
    /// .join()
    /// .unwrap();
    /// lp.close();
    /// ```
    pub fn enter(&self) -> EnterGuard {
        context::enter(self)
    }

    /// Calls `callback` in a task of this loop each time the signal `sig`
    /// arrives, until the returned handle is cancelled or
    /// [`remove_signal_handler`](Handle::remove_signal_handler) is called
    /// (asyncio's `loop.add_signal_handler`). A handler already set for
    /// `sig` on this loop is replaced. Every loop of the process with a
    /// handler for `sig` calls its own. A panic in the callback is reported
    /// and the handler stays.
    ///
    /// Fails with [`io::ErrorKind::InvalidInput`] for a number that is not
    /// a signal or cannot be caught (`SIGKILL`, `SIGSTOP`), and with an
    /// error on a closed loop. See [`signal`](crate::signal) for what
    /// catching a signal changes for the process.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::signal::SIGUSR2;
    ///
    /// evloop::run(async {
    ///     let (tx, rx) = std::sync::mpsc::channel();
    ///     let handle = evloop::Handle::current();
    ///     handle.add_signal_handler(SIGUSR2, move || tx.send("reloaded").unwrap())?;
    ///     // SAFETY: raise(3) has no preconditions; SIGUSR2 is caught from here on.
    ///     unsafe { libc::raise(SIGUSR2) };
    ///     let got = evloop::to_thread(move || rx.recv().unwrap()).await.unwrap();
    ///     assert_eq!(got, "reloaded");
    ///     assert!(handle.remove_signal_handler(SIGUSR2));
    ///     assert!(!handle.remove_signal_handler(SIGUSR2));
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn add_signal_handler<F>(&self, sig: c_int, callback: F) -> io::Result<CallbackHandle>
    where
        F: FnMut() + Send + 'static,
    {
        if self.is_closed() {
            return Err(io::Error::other(
                "cannot add a signal handler to a closed event loop",
            ));
        }
        signal::add_handler(&self.inner.scheduler, &self.inner.reactor, sig, callback)
    }

    /// Removes the handler of `sig` set on this loop with
    /// [`add_signal_handler`](Handle::add_signal_handler); returns whether
    /// there was one (asyncio's `loop.remove_signal_handler`).
    ///
    /// # Examples
    ///
    /// See [`add_signal_handler`](Handle::add_signal_handler).
    pub fn remove_signal_handler(&self, sig: c_int) -> bool {
        signal::remove_handler(&self.inner.scheduler, sig)
    }
}

impl TaskBuilder {
    /// Spawns the task on the loop behind `handle`, from any thread. (The
    /// task system knows no loops: this method lives with the loop.)
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = evloop::EventLoop::new().unwrap();
    /// let task = evloop::task::TaskBuilder::new()
    ///     .name("from-outside")
    ///     .spawn_on(async { 1 }, &lp.handle());
    /// assert_eq!(task.name(), "from-outside");
    /// assert_eq!(lp.run_until_complete(task).unwrap(), 1);
    /// ```
    #[track_caller]
    pub fn spawn_on<F>(self, future: F, handle: &Handle) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        handle.inner.scheduler.spawn(future, self.into_name())
    }
}

/// An instant so far ahead it is never reached, for delays that overflow.
fn sleep_forever_from(now: Instant) -> Instant {
    crate::time::sleep(Duration::MAX).deadline().max(now)
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.inner.workers)
            .field("running", &self.is_running())
            .field("closed", &self.is_closed())
            .finish()
    }
}
