//! `ConcurrentFuture`: the result of work submitted to a loop from another
//! thread (Python's `concurrent.futures.Future`).
//!
//! # The protocol
//!
//! Two parties race to settle the future: the **completer** (the done
//! callback of the task in the loop, on a worker) and the **owner**'s
//! `cancel()` (on the owner's thread). Each settles it with one CAS of the
//! state byte out of PENDING; the loser does nothing but drop what it holds.
//!
//! - The completer CASes PENDING -> RETURNED / FAILED / CANCELLED (by the
//!   task's outcome), *then* sends the outcome on the oneshot channel. A
//!   reader that sees a settled state other than a cancel by the owner may
//!   therefore wait for the value: it is being sent, with no user code in
//!   between.
//! - `cancel()` CASes PENDING -> CANCELLED and marks the future cancelled
//!   by its owner, then asks the task to cancel (its future is dropped on a
//!   worker). The completer then loses its CAS and drops the outcome and
//!   the sender. The owner never waits for the channel after that.
//! - The winner closes the done-callback list right after its CAS (before
//!   sending), and runs what it took on its thread; a callback added after
//!   that runs at once on the adder's thread. So each done callback runs
//!   exactly once, and one added by an owner who already holds the value
//!   runs at once.
//!
//! The owner's methods all take `&self`/`&mut self`/`self` of one value, so
//! the owner never races with itself: the only cross-thread handoffs are
//! the state byte, the channel and the callback list.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Weak;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::loom::{Arc, AtomicU8, Ordering};
use crate::scheduler;
use crate::task::{TaskError, TaskRef};
use crate::time::ResultTimeoutError;
use crate::util::{self, DoneCallbacks, Taken};

const PENDING: u8 = 0;
const RETURNED: u8 = 1;
const FAILED: u8 = 2;
const CANCELLED: u8 = 3;
/// CANCELLED, by the owner's `cancel()`: the channel will carry nothing.
const CANCELLED_BY_OWNER: u8 = 4;

/// How a [`ConcurrentFuture`] ended, as told to its done callbacks.
///
/// # Examples
///
/// ```
/// use std::sync::mpsc;
/// use evloop::bridge::Outcome;
///
/// let lp = evloop::EventLoop::new().unwrap();
/// let (tx, rx) = mpsc::channel();
/// let future = lp.handle().run_coroutine_threadsafe(async { 1 });
/// future.add_done_callback(move |outcome| tx.send(outcome).unwrap());
/// assert_eq!(rx.recv().unwrap(), Outcome::Returned);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The work produced a value.
    Returned,
    /// The work panicked, or its loop was closed before it could run.
    Failed,
    /// The future or the task behind it was cancelled (also by the loop's
    /// shutdown).
    Cancelled,
}

/// The error of [`ConcurrentFuture::result_timeout`], under its old name.
#[deprecated(
    note = "renamed `evloop::ResultTimeoutError`: it is not the error of `wait()`; \
            `as_completed` shares it"
)]
pub type WaitError = ResultTimeoutError;

/// What the owner and the completer share.
struct Core {
    state: AtomicU8,
    /// Closed by whoever settles the future.
    callbacks: DoneCallbacks<Outcome>,
}

impl Core {
    fn state(&self) -> u8 {
        self.state.load(Ordering::Acquire)
    }

    /// Settles the future: true for the one caller that moves it out of
    /// PENDING, which then gets the done callbacks to run (the list is
    /// closed before anyone can see the outcome, so a callback added by
    /// someone who saw it runs at once).
    fn settle(&self, to: u8) -> Option<Taken<Outcome>> {
        self.state
            .compare_exchange(PENDING, to, Ordering::AcqRel, Ordering::Acquire)
            .ok()?;
        Some(self.callbacks.close())
    }
}

fn outcome_of(state: u8) -> Option<Outcome> {
    match state {
        PENDING => None,
        RETURNED => Some(Outcome::Returned),
        FAILED => Some(Outcome::Failed),
        _ => Some(Outcome::Cancelled),
    }
}

/// The loop side of a [`ConcurrentFuture`]: settles it with the work's
/// outcome.
pub(crate) struct Completer<T> {
    sender: oneshot::Sender<Result<T, TaskError>>,
    core: Arc<Core>,
}

impl<T> Completer<T> {
    /// Settles the future with `outcome`, unless its owner cancelled it
    /// first (then `outcome` is dropped here). Runs the done callbacks.
    pub(crate) fn complete(self, outcome: Result<T, TaskError>) {
        let state = match &outcome {
            Ok(_) => RETURNED,
            Err(err) if err.is_cancelled() => CANCELLED,
            Err(_) => FAILED,
        };
        if let Some(callbacks) = self.core.settle(state) {
            // Sending wakes the owner's waker, user code that may panic; so
            // may dropping the value when the owner dropped its end. Neither
            // may keep the done callbacks from running.
            let sender = self.sender;
            util::contain_panic(move || drop(sender.send(outcome)));
            callbacks.run(&outcome_of(state).unwrap_or(Outcome::Failed));
        }
    }
}

/// The result of work submitted to a loop from any thread, like Python's
/// `concurrent.futures.Future`: wait for it with
/// [`result`](ConcurrentFuture::result) or
/// [`result_timeout`](ConcurrentFuture::result_timeout), cancel it, add done
/// callbacks, or `.await` it from a task of another loop.
///
/// Returned by [`Handle::run_coroutine_threadsafe`](crate::Handle::run_coroutine_threadsafe).
/// Dropping it detaches the work: the task keeps running in its loop.
///
/// # Examples
///
/// ```
/// let lp = evloop::EventLoop::new().unwrap();
/// let handle = lp.handle();
/// let runner = std::thread::spawn(move || lp.run_forever());
///
/// let future = handle.run_coroutine_threadsafe(async { 6 * 7 });
/// assert_eq!(future.result().unwrap(), 42);
///
/// handle.stop();
/// runner.join().unwrap();
/// ```
#[must_use = "dropping a ConcurrentFuture detaches the work; call result() to wait for it"]
pub struct ConcurrentFuture<T> {
    /// `None` once the outcome was taken.
    receiver: Option<oneshot::Receiver<Result<T, TaskError>>>,
    core: Arc<Core>,
    /// The task doing the work: cancelled by `cancel`, and named in errors.
    task: Option<TaskRef>,
    /// The scheduler of the loop running the work, to refuse a blocking
    /// wait on its own worker threads.
    event_loop: Option<Weak<scheduler::Shared>>,
    /// The receiver was polled as a future: its blocking `recv` methods may
    /// no longer be used.
    polled: bool,
}

/// A settled future's outcome, a pending future's receiver, and its
/// completer.
pub(crate) fn pair<T>(
    task: Option<TaskRef>,
    event_loop: Option<Weak<scheduler::Shared>>,
) -> (Completer<T>, ConcurrentFuture<T>) {
    let (sender, receiver) = oneshot::channel();
    let core = Arc::new(Core {
        state: AtomicU8::new(PENDING),
        callbacks: DoneCallbacks::new(),
    });
    (
        Completer {
            sender,
            core: core.clone(),
        },
        ConcurrentFuture {
            receiver: Some(receiver),
            core,
            task,
            event_loop,
            polled: false,
        },
    )
}

impl<T> ConcurrentFuture<T> {
    /// Ties the future to the task doing the work (for `cancel`).
    pub(crate) fn set_task(&mut self, task: TaskRef) {
        self.task = Some(task);
    }

    fn cancelled_error(&self) -> TaskError {
        match &self.task {
            Some(task) => TaskError::cancelled(task.id(), Some(&task.name())),
            None => TaskError::cancelled_untracked(),
        }
    }

    /// Blocks the calling thread until the work is done, and returns its
    /// value, or why there is none: cancelled, panicked (the
    /// [`TaskError`] carries the payload) or not run because its loop is
    /// closed.
    ///
    /// # Panics
    ///
    /// When called from a worker thread of the loop running the work (from
    /// inside one of its tasks or callbacks): blocking that worker could
    /// deadlock the loop, so it panics, saying to `.await` the future
    /// instead. Also when the outcome was already taken by
    /// [`result_timeout`](ConcurrentFuture::result_timeout) or an `.await`.
    ///
    /// On the thread that is closing the loop running the work (in a
    /// destructor that [`close`](crate::EventLoop::close) runs), the work
    /// could never finish while this waits: a future still pending there is
    /// cancelled (as the close is about to do) and the cancelled error is
    /// returned at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = evloop::EventLoop::new().unwrap();
    /// let future = lp.handle().run_coroutine_threadsafe(async { panic!("boom") });
    /// let err = future.result().unwrap_err();
    /// assert_eq!(err.panic_message(), Some("boom"));
    /// ```
    #[track_caller]
    pub fn result(mut self) -> Result<T, TaskError> {
        self.refuse_blocking_on_own_worker("result");
        self.cancel_if_closing_its_loop();
        match self.wait(None) {
            Ok(outcome) => outcome,
            // Without a deadline the wait ends with an outcome.
            Err(()) => unreachable!("an unbounded wait timed out"),
        }
    }

    /// Waits at most `timeout` for the work to be done. On
    /// [`ResultTimeoutError::Timeout`] the future stays usable: wait again, or
    /// cancel it. `Duration::ZERO` never blocks: it polls.
    ///
    /// # Panics
    ///
    /// When called with a non-zero timeout from a worker thread of the loop
    /// running the work (see [`result`](ConcurrentFuture::result)), and when
    /// the outcome was already taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let lp = evloop::EventLoop::new().unwrap();
    /// let mut future = lp.handle().run_coroutine_threadsafe(async { "done" });
    /// assert_eq!(future.result_timeout(Duration::from_secs(60)).unwrap(), "done");
    /// ```
    #[track_caller]
    pub fn result_timeout(&mut self, timeout: Duration) -> Result<T, ResultTimeoutError> {
        if timeout.is_zero() {
            return match self.try_outcome() {
                Some(outcome) => outcome.map_err(ResultTimeoutError::Failed),
                None => Err(ResultTimeoutError::Timeout),
            };
        }
        self.refuse_blocking_on_own_worker("result_timeout");
        self.cancel_if_closing_its_loop();
        match self.wait(Instant::now().checked_add(timeout)) {
            Ok(outcome) => outcome.map_err(ResultTimeoutError::Failed),
            Err(()) => Err(ResultTimeoutError::Timeout),
        }
    }

    /// Cancels the work: the future reads as cancelled from now on, and the
    /// task in the loop is cancelled (its future is dropped on a worker, so
    /// its destructors run there). Returns false when the work was already
    /// done (or its outcome already taken).
    ///
    /// # Examples
    ///
    /// ```
    /// let lp = evloop::EventLoop::new().unwrap();
    /// let future = lp.handle().run_coroutine_threadsafe(std::future::pending::<()>());
    /// assert!(future.cancel());
    /// assert!(future.cancelled() && future.done());
    /// assert!(future.result().unwrap_err().is_cancelled());
    /// ```
    pub fn cancel(&self) -> bool {
        if self.receiver.is_none() {
            return false;
        }
        let Some(callbacks) = self.core.settle(CANCELLED_BY_OWNER) else {
            return false;
        };
        if let Some(task) = &self.task {
            task.cancel();
        }
        callbacks.run(&Outcome::Cancelled);
        true
    }

    /// True when the future was cancelled (by [`cancel`](ConcurrentFuture::cancel),
    /// or because its task was cancelled, e.g. by the loop's shutdown).
    ///
    /// ```
    /// let lp = evloop::EventLoop::new().unwrap();
    /// let future = lp.handle().run_coroutine_threadsafe(std::future::pending::<()>());
    /// assert!(!future.cancelled());
    /// future.cancel();
    /// assert!(future.cancelled());
    /// ```
    pub fn cancelled(&self) -> bool {
        matches!(self.core.state(), CANCELLED | CANCELLED_BY_OWNER)
    }

    /// True once the work is done: with a value, an error, or cancelled.
    ///
    /// ```
    /// let lp = evloop::EventLoop::new().unwrap();
    /// let handle = lp.handle();
    /// lp.close();
    /// // A closed loop runs no new work: the future is done at once.
    /// assert!(handle.run_coroutine_threadsafe(async {}).done());
    /// ```
    pub fn done(&self) -> bool {
        self.receiver.is_none() || self.core.state() != PENDING
    }

    /// Registers a callback run exactly once when the future is done: on
    /// the thread that completes or cancels it, or at once on this thread
    /// when it is done already. A panicking callback is contained.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// use evloop::bridge::Outcome;
    ///
    /// let lp = evloop::EventLoop::new().unwrap();
    /// let future = lp.handle().run_coroutine_threadsafe(std::future::pending::<()>());
    /// let (tx, rx) = mpsc::channel();
    /// future.add_done_callback(move |outcome| tx.send(outcome).unwrap());
    /// future.cancel();
    /// assert_eq!(rx.recv().unwrap(), Outcome::Cancelled);
    /// ```
    pub fn add_done_callback<F>(&self, callback: F)
    where
        F: FnOnce(Outcome) + Send + 'static,
    {
        let pushed = self
            .core
            .callbacks
            .push(Box::new(move |outcome: &Outcome| callback(*outcome)));
        if let Err(callback) = pushed {
            // The list is closed only after the state settled.
            let outcome = outcome_of(self.core.state()).unwrap_or(Outcome::Returned);
            util::run_done_callback(callback, &outcome);
        }
    }

    /// The outcome if the future is settled; never blocks for long (a
    /// settled future's value is on its way, see the module docs).
    fn try_outcome(&mut self) -> Option<Result<T, TaskError>> {
        match self.core.state() {
            PENDING => None,
            _ => self.wait(None).ok(),
        }
    }

    /// Waits for the outcome until `deadline` (`None`: no limit). Takes it.
    fn wait(&mut self, deadline: Option<Instant>) -> Result<Result<T, TaskError>, ()> {
        if self.core.state() == CANCELLED_BY_OWNER {
            self.receiver = None;
            return Ok(Err(self.cancelled_error()));
        }
        let Some(receiver) = self.receiver.as_mut() else {
            panic!("the result of this ConcurrentFuture was already taken");
        };
        let received = if self.polled {
            wait_polled(receiver, deadline)
        } else {
            match deadline {
                None => receiver.recv_ref().map_err(|_| Disconnected),
                Some(deadline) => receiver.recv_deadline(deadline).map_err(|err| match err {
                    oneshot::RecvTimeoutError::Timeout => Timeout,
                    oneshot::RecvTimeoutError::Disconnected => Disconnected,
                }),
            }
        };
        match received {
            Ok(outcome) => {
                self.receiver = None;
                Ok(outcome)
            }
            Err(Timeout) => Err(()),
            // The completer lost the race against `cancel` (a cancel by the
            // owner is caught above, so this is the loop dropping the task
            // without running its done callback: it was cancelled).
            Err(Disconnected) => {
                self.receiver = None;
                Ok(Err(self.cancelled_error()))
            }
        }
    }

    /// On the thread closing the work's loop, cancels a pending future: the
    /// close drops the loop's tasks only after the destructor waiting here
    /// returns, so the wait would never end.
    fn cancel_if_closing_its_loop(&self) {
        let closing = self
            .event_loop
            .as_ref()
            .and_then(Weak::upgrade)
            .is_some_and(|scheduler| scheduler.is_closing_on_this_thread());
        if closing {
            self.cancel();
        }
    }

    #[track_caller]
    fn refuse_blocking_on_own_worker(&self, what: &str) {
        let Some(event_loop) = &self.event_loop else {
            return;
        };
        let own = event_loop
            .upgrade()
            .is_some_and(|scheduler| scheduler::is_worker_of(&scheduler));
        if own {
            panic!(
                "ConcurrentFuture::{what} was called on a worker thread of the loop that runs \
                 the work: blocking there could deadlock the loop; `.await` the future instead"
            );
        }
    }
}

/// Why a blocking receive ended without a value.
enum WaitEnd {
    Timeout,
    Disconnected,
}
use WaitEnd::{Disconnected, Timeout};

/// A blocking receive on a receiver that was polled as a future (its own
/// blocking methods are off limits then): poll it with a waker that
/// unparks this thread.
fn wait_polled<T>(
    receiver: &mut oneshot::Receiver<T>,
    deadline: Option<Instant>,
) -> Result<T, WaitEnd> {
    match crate::util::block_on_until(receiver, deadline) {
        Some(Ok(value)) => Ok(value),
        Some(Err(_)) => Err(Disconnected),
        None => Err(Timeout),
    }
}

impl<T> Future for ConcurrentFuture<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        if this.core.state() == CANCELLED_BY_OWNER {
            this.receiver = None;
            return Poll::Ready(Err(this.cancelled_error()));
        }
        let Some(receiver) = this.receiver.as_mut() else {
            panic!("ConcurrentFuture polled after its result was taken");
        };
        let polled = Pin::new(receiver).poll(cx);
        this.polled = true;
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(received) => {
                this.receiver = None;
                Poll::Ready(received.unwrap_or_else(|_| Err(this.cancelled_error())))
            }
        }
    }
}

impl<T> fmt::Debug for ConcurrentFuture<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConcurrentFuture")
            .field("done", &self.done())
            .field("cancelled", &self.cancelled())
            .field("task", &self.task)
            .finish()
    }
}
