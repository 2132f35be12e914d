//! `CallbackHandle`: the handle of a scheduled callback (asyncio's `Handle`
//! / `TimerHandle`).

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};

use crate::loom::{AtomicU8, Ordering};
use crate::task::Task;

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
/// [`is_refused`](CallbackHandle::is_refused) tells that case apart.
#[derive(Clone)]
pub struct CallbackHandle {
    inner: Arc<Inner>,
}

struct Inner {
    state: AtomicU8,
    /// The task that will run the callback, if it runs as one: cancelling
    /// the callback cancels it, so a pending timer is freed at once.
    task: Mutex<Option<Task<()>>>,
}

impl CallbackHandle {
    fn with_state(state: u8) -> CallbackHandle {
        CallbackHandle {
            inner: Arc::new(Inner {
                state: AtomicU8::new(state),
                task: Mutex::new(None),
            }),
        }
    }

    /// A callback that has not run yet.
    pub(crate) fn pending() -> CallbackHandle {
        CallbackHandle::with_state(PENDING)
    }

    /// A callback that a closed loop refused.
    pub(crate) fn refused() -> CallbackHandle {
        CallbackHandle::with_state(REFUSED)
    }

    /// Claims the right to run the callback: true exactly once, unless it
    /// was cancelled or refused first.
    pub(crate) fn claim(&self) -> bool {
        self.inner
            .state
            .compare_exchange(PENDING, STARTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Marks a pending callback refused (its loop closed before it ran).
    pub(crate) fn refuse(&self) -> bool {
        self.inner
            .state
            .compare_exchange(PENDING, REFUSED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// Ties the task that will run the callback to this handle.
    pub(crate) fn set_task(&self, task: Task<()>) {
        if self.inner.state.load(Ordering::Acquire) == CANCELLED {
            task.cancel();
            return;
        }
        *self
            .inner
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(task);
        if self.inner.state.load(Ordering::Acquire) == CANCELLED {
            self.cancel_task();
        }
    }

    fn cancel_task(&self) {
        let task = self
            .inner
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(task) = task {
            task.cancel();
        }
    }

    /// Cancels the callback: true when it had not started yet (it will
    /// never run), false when it already ran, is running, was cancelled or
    /// was refused.
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
            self.cancel_task();
        }
        cancelled
    }

    /// True when the callback was cancelled before it ran.
    pub fn cancelled(&self) -> bool {
        self.inner.state.load(Ordering::Acquire) == CANCELLED
    }

    /// True when the callback was refused because its loop was closed.
    pub fn is_refused(&self) -> bool {
        self.inner.state.load(Ordering::Acquire) == REFUSED
    }

    /// True once the callback started running (it may still be running).
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
            _ => "refused",
        };
        f.debug_struct("CallbackHandle")
            .field("state", &state)
            .finish()
    }
}
