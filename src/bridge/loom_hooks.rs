//! Entry points for the bridge's loom models (`loom-tests/tests/bridge_*.rs`).
//!
//! Only built with `--cfg loom`, and not part of the public API. Each item
//! wraps the real bridge code without a loop around it, so that a model
//! drives the actual protocols on loom threads of its choosing:
//!
//! - [`concurrent_future`] gives a [`ConcurrentFuture`] and the
//!   [`Completer`] a task's done callback would hold, for models of
//!   completion racing `cancel()` and `result_timeout()`.
//! - [`CallSoonQueue`] is the loop's callback queue with its drainer and
//!   its close, for models of `call_soon_threadsafe` racing the loop's
//!   shutdown.

use super::{ConcurrentFuture, concurrent};
use crate::callbacks::CallbackHandle;
use crate::callbacks::ready::{self as call_soon, Drainer, Pushed};
use crate::task::TaskError;

/// The loop side of a [`ConcurrentFuture`] made by [`concurrent_future`].
pub struct Completer<T>(concurrent::Completer<T>);

/// A pending [`ConcurrentFuture`] not tied to any task, and its completer.
pub fn concurrent_future<T>() -> (ConcurrentFuture<T>, Completer<T>) {
    let (completer, future) = concurrent::pair(None, None);
    (future, Completer(completer))
}

impl<T> Completer<T> {
    /// Completes with a value, as a task that returned does.
    pub fn complete(self, value: T) {
        self.0.complete(Ok(value));
    }

    /// Completes as cancelled, as a task cancelled inside the loop (or by
    /// its shutdown) does.
    pub fn complete_cancelled(self) {
        self.0.complete(Err(TaskError::cancelled_untracked()));
    }

    /// Completes as refused, as a task spawned on a closed loop does.
    pub fn complete_refused(self) {
        self.0.complete(Err(TaskError::closed_untracked()));
    }
}

/// A loop's queue of ready callbacks, without the loop. Clones share it.
#[derive(Clone)]
pub struct CallSoonQueue {
    queue: std::sync::Arc<call_soon::ReadyQueue>,
}

/// The drainer a submission asked for (see [`CallSoonQueue::submit`]).
pub struct CallbackDrainer(Drainer<std::sync::Arc<call_soon::ReadyQueue>>);

impl CallSoonQueue {
    /// An empty, open queue.
    pub fn new() -> CallSoonQueue {
        CallSoonQueue {
            queue: std::sync::Arc::new(call_soon::ReadyQueue::new()),
        }
    }

    /// Submits `callback` as `call_soon_threadsafe` does. Returns its
    /// handle, and the drainer to run when this submission must start one
    /// (the real code spawns it as a task).
    pub fn submit<F>(&self, callback: F) -> (CallbackHandle, Option<CallbackDrainer>)
    where
        F: FnOnce() + Send + 'static,
    {
        let handle = CallbackHandle::with_closure(callback);
        let drainer = match self.queue.push(handle.clone()) {
            Pushed::StartDrainer => Some(CallbackDrainer(Drainer::new(
                self.queue.clone(),
                Box::new(|_| {}),
            ))),
            Pushed::Queued | Pushed::Refused => None,
        };
        (handle, drainer)
    }

    /// Closes the queue as the loop's shutdown does.
    pub fn close(&self) {
        self.queue.close();
    }
}

impl Default for CallSoonQueue {
    fn default() -> CallSoonQueue {
        CallSoonQueue::new()
    }
}

impl CallbackDrainer {
    /// One poll of the drainer task: true when it found the queue empty and
    /// finished, false when it spent its budget (it would yield).
    pub fn drain_some(&mut self) -> bool {
        self.0.drain_some()
    }

    /// Polls until the drainer finishes.
    pub fn drain_all(mut self) {
        while !self.drain_some() {}
    }
}
