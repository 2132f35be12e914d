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
//!   shutdown, a drainer finishing, and a drainer cancelled and restarted.
//! - [`callback`] and [`set_task`] make a timed callback's handle and tie
//!   its sleeping task to it, as `call_at` does, for models of `set_task`
//!   racing `cancel`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc as StdArc, Mutex as StdMutex};

use super::{ConcurrentFuture, concurrent};
use crate::callbacks::CallbackHandle;
use crate::callbacks::ready::{self as call_soon, Drainer, Pushed};
use crate::task::{Task, TaskError};

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

/// A pending callback carrying `callback`, as `call_soon` and `call_at`
/// make it.
pub fn callback<F>(callback: F) -> CallbackHandle
where
    F: FnOnce() + Send + 'static,
{
    CallbackHandle::with_closure(callback)
}

/// Ties the task that sleeps until the callback is due to its handle, as
/// `call_at` does right after spawning it; a cancel of the handle cancels
/// the task.
pub fn set_task(handle: &CallbackHandle, task: Task<()>) {
    handle.set_task(task);
}

/// A loop's queue of ready callbacks, without the loop. Clones share it.
///
/// It counts the drainers that have not finished: starting a second one
/// while another lives fails the model. A drainer dropped before it
/// finished (its task cancelled) asks for a successor when callbacks are
/// left, as the loop's drainer does; the successor waits in
/// [`take_restarted`](CallSoonQueue::take_restarted).
#[derive(Clone)]
pub struct CallSoonQueue {
    queue: std::sync::Arc<call_soon::ReadyQueue>,
    drainers: StdArc<Drainers>,
}

/// The drainers of one queue: how many have not finished, and the
/// successors started by lost ones.
///
/// Plain atomics and locks: they observe the code under test and must not
/// add interleavings of their own.
#[derive(Default)]
struct Drainers {
    active: AtomicUsize,
    restarted: StdMutex<Vec<CallbackDrainer>>,
}

/// The drainer a submission asked for (see [`CallSoonQueue::submit`]).
pub struct CallbackDrainer {
    drainer: Drainer<std::sync::Arc<call_soon::ReadyQueue>>,
    drainers: StdArc<Drainers>,
    finished: bool,
}

impl CallSoonQueue {
    /// An empty, open queue.
    pub fn new() -> CallSoonQueue {
        CallSoonQueue {
            queue: std::sync::Arc::new(call_soon::ReadyQueue::new()),
            drainers: StdArc::default(),
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
            Pushed::StartDrainer => Some(self.start_drainer()),
            Pushed::Queued | Pushed::Refused => None,
        };
        (handle, drainer)
    }

    fn start_drainer(&self) -> CallbackDrainer {
        let previous = self.drainers.active.fetch_add(1, Ordering::Relaxed);
        assert_eq!(previous, 0, "two drainers for one queue");
        let successor = self.clone();
        let on_lost = Box::new(move |restart: bool| {
            successor.drainers.active.fetch_sub(1, Ordering::Relaxed);
            if restart {
                let drainer = successor.start_drainer();
                successor
                    .drainers
                    .restarted
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(drainer);
            }
        });
        CallbackDrainer {
            drainer: Drainer::new(self.queue.clone(), on_lost),
            drainers: self.drainers.clone(),
            finished: false,
        }
    }

    /// The drainers started because an unfinished one was dropped.
    pub fn take_restarted(&self) -> Vec<CallbackDrainer> {
        std::mem::take(
            &mut *self
                .drainers
                .restarted
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
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
        let finished = self.drainer.drain_some();
        if finished && !self.finished {
            self.finished = true;
            self.drainers.active.fetch_sub(1, Ordering::Relaxed);
        }
        finished
    }

    /// Polls until the drainer finishes.
    pub fn drain_all(mut self) {
        while !self.drain_some() {}
    }
}
