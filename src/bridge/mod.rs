//! The thread-loop bridge: submitting work into a loop from any thread
//! (asyncio's `run_coroutine_threadsafe` and `call_soon_threadsafe`).
//!
//! - [`Handle::run_coroutine_threadsafe`] runs a future as a task of the
//!   loop and gives back a [`ConcurrentFuture`]: block on it from a plain
//!   thread, poll it with a timeout, cancel it, or `.await` it from a task
//!   of another loop.
//! - [`Handle::call_soon_threadsafe`] queues a plain closure. The loop's
//!   callbacks wait in one queue that a single task drains in batches, so a
//!   burst of submissions costs one task and one wake-up (see
//!   `call_soon.rs` for the protocol).
//!
//! A closed loop refuses both at once, without blocking and without
//! panicking: the future is done with a "loop closed" error
//! ([`TaskError::is_loop_closed`]), the callback handle
//! [`is_refused`](CallbackHandle::is_refused).
//!
//! # Examples
//!
//! The seed pattern: a loop running on its own thread, fed by another.
//!
//! ```
//! let lp = evloop::EventLoop::new().unwrap();
//! let handle = lp.handle();
//! let runner = std::thread::spawn(move || {
//!     lp.run_forever();
//!     lp.close();
//! });
//!
//! let futures: Vec<_> = (0..10)
//!     .map(|i| handle.run_coroutine_threadsafe(async move { i * i }))
//!     .collect();
//! let squares: Vec<i32> = futures.into_iter().map(|f| f.result().unwrap()).collect();
//! assert_eq!(squares[9], 81);
//!
//! handle.stop();
//! runner.join().unwrap();
//! ```

mod call_soon;
mod callback;
mod concurrent;
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_hooks;

use std::future::Future;
use std::sync::Arc;

pub use callback::CallbackHandle;
#[allow(deprecated)]
pub use concurrent::WaitError;
pub use concurrent::{ConcurrentFuture, Outcome};

pub(crate) use call_soon::CallSoonQueue;
use call_soon::{Drainer, Pushed};

use crate::runtime::{Handle, LoopInner};
#[cfg(doc)]
use crate::task::TaskError;

impl Handle {
    /// Runs `future` as a task of this loop, from any thread, and returns a
    /// [`ConcurrentFuture`] for its result (asyncio's
    /// `run_coroutine_threadsafe`).
    ///
    /// On a closed loop the future is dropped and the returned
    /// `ConcurrentFuture` is already done with a "loop closed"
    /// [`TaskError`].
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
    pub fn run_coroutine_threadsafe<F>(&self, future: F) -> ConcurrentFuture<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let mut task = self.spawn(future);
        let task_ref = task.task_ref();
        let (completer, mut concurrent) = concurrent::pair(None, Some(Arc::downgrade(&self.inner)));
        concurrent.set_task(task_ref.clone());
        // The callback owns the task handle, so it can take the output; it
        // runs once, when the task completes (or now, if it already did).
        task_ref.add_done_callback(move |_| {
            let outcome = task
                .try_result()
                .unwrap_or_else(|| Err(crate::task::TaskError::cancelled_untracked()));
            completer.complete(outcome);
        });
        concurrent
    }

    /// Queues `callback` to run soon on one of the loop's workers, from any
    /// thread (asyncio's `call_soon_threadsafe`).
    ///
    /// Callbacks submitted by one thread run in the order they were
    /// submitted. Cancel the returned handle before the callback runs and it
    /// never runs. A panic in the callback is caught (the panic hook reports
    /// it) and the worker carries on. On a closed loop, or when the loop
    /// closes before the callback got to run, the callback is dropped
    /// without running and the handle [`is_refused`](CallbackHandle::is_refused).
    ///
    /// The callback runs inside a task of the loop (one task drains all
    /// queued callbacks), so [`current_task`](crate::current_task) there
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
        let handle = CallbackHandle::with_closure(callback);
        if self.inner.call_soon.push(handle.clone()) == Pushed::StartDrainer {
            start_drainer(&self.inner);
        }
        handle
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
}

/// Spawns the task that drains the loop's callback queue. If that task is
/// cancelled before the queue is empty, a new one takes over.
fn start_drainer(inner: &Arc<LoopInner>) {
    let weak = Arc::downgrade(inner);
    let on_lost = Box::new(move |restart: bool| {
        if let Some(inner) = weak.upgrade() {
            // A refused spawn (closed loop) drops the new drainer at once;
            // the queue is closed by then, so it asks for no successor.
            if restart && !inner.scheduler.is_closed() {
                start_drainer(&inner);
            }
        }
    });
    let drainer = Drainer::new(inner.call_soon.clone(), on_lost);
    let handle = Handle {
        inner: inner.clone(),
    };
    drop(handle.spawn_named(drainer, Some("evloop-callbacks".into())));
}

/// Begins the loop's shutdown on the bridge's side: every queued callback
/// and every later one is refused.
pub(crate) fn close(inner: &LoopInner) {
    inner.call_soon.close();
}
