//! `Promise<T>`: a result that something else will provide (asyncio's
//! `Future`, from `loop.create_future()`).
//!
//! All clones share one state behind a lock (the outcome, and the clones
//! being awaited: one entry per clone in a `WaitList`, kept across its
//! polls) and the done-callback list. Setting the outcome takes the wakers out
//! under the lock; after releasing it, it wakes them and closes and runs
//! the done callbacks, so user code never runs under the lock. Each waker
//! and callback runs with its panic contained, so one that panics keeps
//! neither the others from running nor the setter's thread alive.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::loom::Mutex;
use crate::task::TaskError;
use crate::util::wait_list::{WaitList, WaiterKey, WakeList};
use crate::util::{DoneCallbacks, lock, run_done_callback};

/// A result that is set later, by anyone holding a clone (asyncio's
/// `Future` made by `loop.create_future()`).
///
/// Awaiting any clone yields `Ok(value)` once [`set_result`](Promise::set_result)
/// was called (a clone of the value, so `T: Clone`), or a cancelled
/// [`TaskError`] once [`cancel`](Promise::cancel) was. Any number of clones
/// may wait at once, on any workers, and the result may be set from any
/// thread, inside the loop or not.
///
/// Differences from asyncio: there is no `set_exception`; to carry an
/// error, make `T` a `Result`. Done callbacks run at once on the thread that
/// sets the outcome (asyncio schedules them with `call_soon`), and a
/// promise does not belong to a loop.
///
/// Cancelling a task that awaits a promise does not cancel the promise
/// (asyncio cancels the future a cancelled task awaits). A promise is shared:
/// every clone is an equal handle, other tasks may be awaiting it, and the
/// code that will set its result may still run, so one waiter giving up only
/// drops that waiter's clone. Call [`cancel`](Promise::cancel) to cancel the
/// promise itself.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let promise = evloop::Promise::new();
///     let waiter = evloop::spawn({
///         let promise = promise.clone();
///         async move { promise.await.unwrap() * 2 }
///     });
///     promise.set_result(21).unwrap();
///     assert_eq!(waiter.await.unwrap(), 42);
/// });
/// ```
pub struct Promise<T> {
    shared: Arc<Shared<T>>,
    /// This clone's entry among the waiters, once it was polled while
    /// pending.
    waiter: Option<WaiterKey>,
}

struct Shared<T> {
    state: Mutex<State<T>>,
    /// Closed by whoever sets the outcome, after setting it.
    callbacks: DoneCallbacks<Promise<T>>,
}

struct State<T> {
    outcome: Outcome<T>,
    /// The clones being awaited; "notified" means "saw the outcome".
    waiters: WaitList<()>,
}

enum Outcome<T> {
    Pending,
    Value(T),
    Cancelled,
}

/// [`Promise::set_result`] was called on a promise that already has an
/// outcome (asyncio's `InvalidStateError`). The first outcome is kept; the
/// refused value is given back.
///
/// # Examples
///
/// ```
/// let promise = evloop::Promise::new();
/// promise.set_result(1).unwrap();
/// let refused = promise.set_result(2).unwrap_err();
/// assert!(!refused.was_cancelled());
/// assert_eq!(refused.into_value(), 2);
/// assert_eq!(promise.try_result().unwrap().unwrap(), 1);
/// ```
pub struct InvalidStateError<T> {
    value: T,
    cancelled: bool,
}

impl<T> InvalidStateError<T> {
    /// The value that was refused.
    pub fn into_value(self) -> T {
        self.value
    }

    /// True when the promise had been cancelled, false when it already had
    /// a result.
    pub fn was_cancelled(&self) -> bool {
        self.cancelled
    }
}

impl<T> fmt::Debug for InvalidStateError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvalidStateError")
            .field("cancelled", &self.cancelled)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for InvalidStateError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.cancelled {
            f.write_str("the promise was cancelled; its result can no longer be set")
        } else {
            f.write_str("the promise already has a result; a result can be set only once")
        }
    }
}

impl<T> Error for InvalidStateError<T> {}

impl<T> Promise<T> {
    /// A pending promise.
    ///
    /// # Examples
    ///
    /// ```
    /// let promise: evloop::Promise<u8> = evloop::Promise::new();
    /// assert!(!promise.done());
    /// ```
    pub fn new() -> Promise<T> {
        Promise {
            shared: Arc::new(Shared {
                state: Mutex::new(State {
                    outcome: Outcome::Pending,
                    waiters: WaitList::new(),
                }),
                callbacks: DoneCallbacks::new(),
            }),
            waiter: None,
        }
    }

    /// Sets the result, wakes every clone being awaited and runs the done
    /// callbacks (asyncio's `set_result`).
    ///
    /// # Errors
    ///
    /// [`InvalidStateError`], holding `value`, when the promise already has
    /// a result or was cancelled; the first outcome is kept.
    ///
    /// # Examples
    ///
    /// ```
    /// let promise = evloop::Promise::new();
    /// assert!(promise.set_result("first").is_ok());
    /// assert!(promise.set_result("second").is_err());
    /// assert_eq!(promise.try_result().unwrap().unwrap(), "first");
    /// ```
    pub fn set_result(&self, value: T) -> Result<(), InvalidStateError<T>> {
        self.complete(Outcome::Value(value))
            .map_err(|(outcome, cancelled)| match outcome {
                Outcome::Value(value) => InvalidStateError { value, cancelled },
                _ => unreachable!("complete gives back the outcome it was given"),
            })
    }

    /// Cancels the promise: clones being awaited yield a cancelled
    /// [`TaskError`], and the done callbacks run. Returns false when the
    /// promise already had an outcome (asyncio's `cancel`).
    ///
    /// # Examples
    ///
    /// ```
    /// let promise: evloop::Promise<()> = evloop::Promise::new();
    /// assert!(promise.cancel());
    /// assert!(!promise.cancel());
    /// assert!(promise.cancelled() && promise.done());
    /// assert!(promise.try_result().unwrap().unwrap_err().is_cancelled());
    /// ```
    pub fn cancel(&self) -> bool {
        self.complete(Outcome::Cancelled).is_ok()
    }

    /// True once the promise has a result or was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// let promise = evloop::Promise::new();
    /// promise.set_result(()).unwrap();
    /// assert!(promise.done() && !promise.cancelled());
    /// ```
    pub fn done(&self) -> bool {
        !matches!(lock(&self.shared.state).outcome, Outcome::Pending)
    }

    /// True once the promise was cancelled.
    pub fn cancelled(&self) -> bool {
        matches!(lock(&self.shared.state).outcome, Outcome::Cancelled)
    }

    /// Registers `callback`, run once with the promise when it gets its
    /// outcome, on the thread that sets it; or at once on this thread if it
    /// has one already (asyncio's `add_done_callback`). Callbacks run in the
    /// order they were added; a panicking callback is contained.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    ///
    /// let promise = evloop::Promise::new();
    /// let (tx, rx) = mpsc::channel();
    /// promise.add_done_callback(move |p| tx.send(p.try_result().unwrap().unwrap()).unwrap());
    /// promise.set_result(5).unwrap();
    /// assert_eq!(rx.recv().unwrap(), 5);
    /// ```
    pub fn add_done_callback<F>(&self, callback: F)
    where
        F: FnOnce(&Promise<T>) + Send + 'static,
    {
        if let Err(callback) = self.shared.callbacks.push(Box::new(callback)) {
            run_done_callback(callback, self);
        }
    }

    /// Stores `outcome` if none is set yet and notifies everyone; gives it
    /// back, with whether the promise was cancelled, otherwise.
    fn complete(&self, outcome: Outcome<T>) -> Result<(), (Outcome<T>, bool)> {
        let mut wakers = WakeList::new();
        {
            let mut state = lock(&self.shared.state);
            match state.outcome {
                Outcome::Pending => {}
                Outcome::Value(_) => return Err((outcome, false)),
                Outcome::Cancelled => return Err((outcome, true)),
            }
            state.outcome = outcome;
            state.waiters.notify_all(|_| {}, &mut wakers);
        }
        wakers.wake_all();
        self.shared.callbacks.close_and_run(self);
        Ok(())
    }
}

impl<T: Clone> Promise<T> {
    /// The outcome without waiting: `None` while pending, else what
    /// awaiting a clone would yield (asyncio's `result()`, which raises
    /// `InvalidStateError` while pending).
    ///
    /// # Examples
    ///
    /// ```
    /// let promise = evloop::Promise::new();
    /// assert!(promise.try_result().is_none());
    /// promise.set_result(3).unwrap();
    /// assert_eq!(promise.try_result().unwrap().unwrap(), 3);
    /// ```
    pub fn try_result(&self) -> Option<Result<T, TaskError>> {
        match &lock(&self.shared.state).outcome {
            Outcome::Pending => None,
            Outcome::Value(value) => Some(Ok(value.clone())),
            Outcome::Cancelled => Some(Err(TaskError::cancelled_untracked())),
        }
    }
}

impl<T: Clone> Future for Promise<T> {
    type Output = Result<T, TaskError>;

    /// Yields the outcome once there is one; polling again after that
    /// yields it again.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut state = lock(&this.shared.state);
        match &state.outcome {
            Outcome::Value(value) => return Poll::Ready(Ok(value.clone())),
            Outcome::Cancelled => return Poll::Ready(Err(TaskError::cancelled_untracked())),
            Outcome::Pending => {}
        }
        match this.waiter {
            Some(key) => state.waiters.update_waker(key, cx.waker()),
            None => this.waiter = Some(state.waiters.push_back((), cx.waker())),
        }
        Poll::Pending
    }
}

impl<T> Clone for Promise<T> {
    /// Another handle on the same promise (with a place of its own among
    /// the waiters).
    fn clone(&self) -> Promise<T> {
        Promise {
            shared: self.shared.clone(),
            waiter: None,
        }
    }
}

impl<T> Drop for Promise<T> {
    fn drop(&mut self) {
        if let Some(key) = self.waiter {
            lock(&self.shared.state).waiters.remove(key);
        }
    }
}

impl<T> Default for Promise<T> {
    fn default() -> Promise<T> {
        Promise::new()
    }
}

impl<T> fmt::Debug for Promise<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match lock(&self.shared.state).outcome {
            Outcome::Pending => "pending",
            Outcome::Value(_) => "finished",
            Outcome::Cancelled => "cancelled",
        };
        f.debug_struct("Promise").field("state", &state).finish()
    }
}
