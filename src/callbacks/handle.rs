//! `CallbackHandle`: the handle of a scheduled callback (asyncio's `Handle`
//! / `TimerHandle`).
//!
//! The handle's state is one atomic byte that leaves PENDING exactly once:
//! to STARTED (`claim`, by whoever runs the callback), CANCELLED (`cancel`,
//! by the user) or REFUSED (`refuse`, by a closing loop). Whoever wins that
//! compare-and-swap owns the closure stored in the handle (when there is
//! one): the runner calls it, the others drop it. So a callback runs at most
//! once, and never after it was cancelled or refused.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use crate::loom::{AtomicU8, Mutex, Ordering};
use crate::task::Task;
use crate::util::lock;

const PENDING: u8 = 0;
const STARTED: u8 = 1;
const CANCELLED: u8 = 2;
const REFUSED: u8 = 3;

/// The handle of a callback scheduled with
/// [`call_soon_threadsafe`](crate::Handle::call_soon_threadsafe),
/// [`call_soon`](crate::Handle::call_soon),
/// [`call_later`](crate::Handle::call_later) or
/// [`call_at`](crate::Handle::call_at): cancel it before it runs and it
/// never runs.
///
/// A callback refused by a closed loop never runs either:
/// [`is_loop_closed`](CallbackHandle::is_loop_closed) tells that case apart.
///
/// # Examples
///
/// ```
/// use std::sync::mpsc;
///
/// let lp = evloop::EventLoop::new().unwrap();
/// let (tx, rx) = mpsc::channel();
/// let callback = lp.handle().call_soon_threadsafe(move || tx.send("ran").unwrap());
/// assert_eq!(rx.recv().unwrap(), "ran");
/// assert!(callback.started());
/// lp.close();
/// ```
#[derive(Clone)]
pub struct CallbackHandle {
    inner: Arc<Inner<dyn Slot>>,
}

struct Inner<S: ?Sized> {
    state: AtomicU8,
    /// The task that sleeps until a timed callback is due: cancelling the
    /// callback cancels it, so a pending timer is freed at once.
    task: Mutex<Option<Task<()>>>,
    /// The closure, until it runs or is discarded. Last, so that the handle
    /// is one allocation.
    slot: S,
}

/// Where a callback's closure waits until it runs or is discarded.
trait Slot: Send + Sync {
    /// Calls the closure. Only the thread that won `claim` calls this.
    fn call(&self);
    /// Drops the closure. Only the thread that cancelled or refused the
    /// callback calls this.
    fn discard(&self);
}

/// A handle without a closure: a callback refused before it was queued.
struct NoClosure;

impl Slot for NoClosure {
    fn call(&self) {}
    fn discard(&self) {}
}

/// The closure itself. The mutex is never contended (the state's CAS picks
/// the one thread that touches it); it makes the handoff safe without
/// `unsafe`.
struct Closure<F>(Mutex<Option<F>>);

impl<F: FnOnce() + Send> Slot for Closure<F> {
    fn call(&self) {
        let callback = lock(&self.0).take();
        if let Some(callback) = callback {
            callback();
        }
    }

    fn discard(&self) {
        let callback = lock(&self.0).take();
        drop(callback);
    }
}

impl CallbackHandle {
    fn with_state(state: u8) -> CallbackHandle {
        CallbackHandle {
            inner: Arc::new(Inner {
                state: AtomicU8::new(state),
                task: Mutex::new(None),
                slot: NoClosure,
            }),
        }
    }

    /// A callback that a closed loop refused.
    pub(crate) fn refused() -> CallbackHandle {
        CallbackHandle::with_state(REFUSED)
    }

    /// A pending callback without a closure: its work is the task given to
    /// [`set_task`](CallbackHandle::set_task) (a signal handler's), which
    /// cancelling the handle cancels.
    pub(crate) fn pending() -> CallbackHandle {
        CallbackHandle::with_state(PENDING)
    }

    /// A pending callback that carries its closure, for
    /// [`run_if_pending`](CallbackHandle::run_if_pending).
    pub(crate) fn with_closure<F>(callback: F) -> CallbackHandle
    where
        F: FnOnce() + Send + 'static,
    {
        CallbackHandle {
            inner: Arc::new(Inner {
                state: AtomicU8::new(PENDING),
                task: Mutex::new(None),
                slot: Closure(Mutex::new(Some(callback))),
            }),
        }
    }

    /// Claims the right to run the callback: true exactly once, unless it
    /// was cancelled or refused first.
    pub(crate) fn claim(&self) -> bool {
        self.inner
            .state
            .compare_exchange(PENDING, STARTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Runs the stored closure unless the callback was cancelled or
    /// refused. A panic in the closure is caught (the panic hook has
    /// reported it): the caller, a worker, carries on. Returns whether the
    /// closure ran.
    pub(crate) fn run_if_pending(&self) -> bool {
        if !self.claim() {
            return false;
        }
        let _ = catch_unwind(AssertUnwindSafe(|| self.inner.slot.call()));
        true
    }

    /// Marks a pending callback refused (its loop closed before it ran) and
    /// drops its closure.
    pub(crate) fn refuse(&self) -> bool {
        let refused = self
            .inner
            .state
            .compare_exchange(PENDING, REFUSED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if refused {
            self.discard_closure();
        }
        refused
    }

    fn discard_closure(&self) {
        // The closure may own anything; its destructor must not take the
        // caller down.
        let _ = catch_unwind(AssertUnwindSafe(|| self.inner.slot.discard()));
    }

    /// Ties the callback's task to this handle, so that cancelling the
    /// handle cancels it: the task that sleeps until a timed callback is
    /// due, or the task of a signal handler.
    pub(crate) fn set_task(&self, task: Task<()>) {
        if self.inner.state.load(Ordering::Acquire) == CANCELLED {
            task.cancel();
            return;
        }
        *lock(&self.inner.task) = Some(task);
        if self.inner.state.load(Ordering::Acquire) == CANCELLED {
            self.cancel_task();
        }
    }

    fn cancel_task(&self) {
        let task = lock(&self.inner.task).take();
        if let Some(task) = task {
            task.cancel();
        }
    }

    /// Cancels the callback: true when it had not started yet (it will
    /// never run, and its closure is dropped now, on this thread), false
    /// when it already ran, is running, was cancelled or was refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// evloop::run(async {
    ///     let handle = evloop::Handle::current();
    ///     let callback = handle.call_later(Duration::from_secs(3600), || unreachable!());
    ///     assert!(callback.cancel());
    ///     assert!(callback.cancelled());
    ///     assert!(!callback.cancel());
    /// });
    /// ```
    pub fn cancel(&self) -> bool {
        let cancelled = self
            .inner
            .state
            .compare_exchange(PENDING, CANCELLED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if cancelled {
            self.discard_closure();
            self.cancel_task();
        }
        cancelled
    }

    /// True when the callback was cancelled before it ran.
    ///
    /// ```
    /// let lp = evloop::EventLoop::new().unwrap();
    /// let handle = lp.handle();
    /// lp.close();
    /// let callback = handle.call_soon_threadsafe(|| {});
    /// assert!(!callback.cancelled());
    /// assert!(!callback.cancel());
    /// ```
    pub fn cancelled(&self) -> bool {
        self.inner.state.load(Ordering::Acquire) == CANCELLED
    }

    /// True when the callback will never run because its loop is closed:
    /// it was submitted after the close, or was still waiting (queued, or
    /// timed and not yet due) when the loop closed.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let lp = evloop::EventLoop::new().unwrap();
    /// let handle = lp.handle();
    /// let waiting = handle.call_later(Duration::from_secs(3600), || unreachable!());
    /// lp.close();
    /// assert!(waiting.is_loop_closed());
    /// assert!(!waiting.cancel());
    /// assert!(handle.call_soon_threadsafe(|| unreachable!()).is_loop_closed());
    /// ```
    pub fn is_loop_closed(&self) -> bool {
        self.inner.state.load(Ordering::Acquire) == REFUSED
    }

    /// True when the callback was refused because its loop was closed: the
    /// old name of [`is_loop_closed`](CallbackHandle::is_loop_closed).
    #[deprecated(
        note = "renamed `is_loop_closed`: the loop's vocabulary says \"closed\" \
                (`Handle::is_closed`, `TaskError::is_loop_closed`)"
    )]
    pub fn is_refused(&self) -> bool {
        self.is_loop_closed()
    }

    /// True once the callback started running (it may still be running).
    ///
    /// ```
    /// use std::sync::mpsc;
    /// let lp = evloop::EventLoop::new().unwrap();
    /// let (tx, rx) = mpsc::channel();
    /// let callback = lp.handle().call_soon_threadsafe(move || tx.send(()).unwrap());
    /// rx.recv().unwrap();
    /// assert!(callback.started());
    /// ```
    pub fn started(&self) -> bool {
        self.inner.state.load(Ordering::Acquire) == STARTED
    }
}

impl fmt::Debug for CallbackHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.inner.state.load(Ordering::Acquire) {
            PENDING => "pending",
            STARTED => "started",
            CANCELLED => "cancelled",
            _ => "loop closed",
        };
        f.debug_struct("CallbackHandle")
            .field("state", &state)
            .finish()
    }
}
