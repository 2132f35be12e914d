//! Callbacks: `call_soon`, `call_soon_threadsafe`, `call_later` and
//! `call_at` (asyncio's `loop.call_*`), each giving back a
//! [`CallbackHandle`].
//!
//! A loop's callbacks have one runner. They wait in two queues:
//!
//! - the **ready queue** (`ready.rs`): callbacks that may run now. A single
//!   task, the drainer, runs them in queue order; it exists only while the
//!   queue holds work, and the push that finds no drainer starts one. The
//!   protocol (who starts the drainer, how it stops, how a closing loop
//!   refuses what is queued) is written at the top of `ready.rs`.
//! - the **timed queue** (`timed.rs`): callbacks of `call_later` /
//!   `call_at`, ordered by `(deadline, scheduling order)`. Each has a small
//!   task that sleeps until its deadline and then moves *every* due callback
//!   to the ready queue, in order, under the timed queue's lock; whichever
//!   of those tasks wakes first moves the lot, later ones find the work
//!   done. So callbacks due at the same instant run in the order they were
//!   scheduled, even when their tasks wake on different workers at once.
//!
//! Callbacks run on a worker thread, inside the drainer task (so
//! [`current_task`](crate::current_task) there returns it), never on the
//! reactor thread. A panicking callback is caught (the panic hook reports
//! it) and the next one runs.
//!
//! Cancelling a [`CallbackHandle`] makes the callback's closure go at once;
//! for a timed callback it also cancels the sleeping task, whose drop takes
//! the entry out of the timed queue, so a cancelled timer costs no memory
//! later. A closing loop refuses the callbacks still queued.

mod handle;
pub(crate) mod ready;
mod timed;

use std::sync::{Arc, Weak};
use std::time::Instant;

pub use handle::CallbackHandle;

use crate::scheduler;
use crate::time::sleep_until;
use ready::{Drainer, Pushed, ReadyQueue};
use timed::{CallbackKey, TimedQueue};

/// The name of the task that runs a loop's callbacks.
const DRAINER_NAME: &str = "evloop-callbacks";

/// One loop's callbacks: its two queues, and the scheduler their tasks run
/// on.
pub(crate) struct Callbacks {
    scheduler: Arc<scheduler::Shared>,
    ready: Arc<ReadyQueue>,
    timed: Arc<TimedQueue>,
}

impl Callbacks {
    /// The callbacks of the loop whose tasks run on `scheduler`.
    pub(crate) fn new(scheduler: Arc<scheduler::Shared>) -> Callbacks {
        Callbacks {
            scheduler,
            ready: Arc::new(ReadyQueue::new()),
            timed: Arc::new(TimedQueue::new()),
        }
    }

    /// Queues `callback` to run as soon as the drainer gets to it.
    pub(crate) fn call_soon<F>(&self, callback: F) -> CallbackHandle
    where
        F: FnOnce() + Send + 'static,
    {
        let handle = CallbackHandle::with_closure(callback);
        if self.ready.push(handle.clone()) == Pushed::StartDrainer {
            start_drainer(&self.scheduler, &self.ready);
        }
        handle
    }

    /// Queues `callback` to run once `when` has passed.
    pub(crate) fn call_at<F>(&self, when: Instant, callback: F) -> CallbackHandle
    where
        F: FnOnce() + Send + 'static,
    {
        let handle = CallbackHandle::with_closure(callback);
        let key = self.timed.schedule(when, handle.clone());
        let mut entry = TimedEntry {
            timed: self.timed.clone(),
            key: Some(key),
        };
        let ready = self.ready.clone();
        let scheduler = Arc::downgrade(&self.scheduler);
        let timer = self.scheduler.spawn(
            async move {
                sleep_until(when).await;
                // Due: this task or an earlier one moves it to the ready
                // queue now.
                entry.key = None;
                if entry.timed.move_due(Instant::now(), &ready) {
                    if let Some(scheduler) = scheduler.upgrade() {
                        start_drainer(&scheduler, &ready);
                    }
                }
            },
            None,
        );
        handle.set_task(timer);
        handle
    }

    /// How many callbacks have run.
    pub(crate) fn ran(&self) -> u64 {
        self.ready.ran()
    }

    /// Begins the loop's shutdown on the callbacks' side: every queued
    /// ready callback and every later one is refused. Timed callbacks are
    /// refused when the loop drops their sleeping tasks.
    pub(crate) fn close(&self) {
        self.ready.close();
    }
}

/// Spawns the drainer of `ready`. If that task is dropped before the queue
/// is empty (cancelled), a new one takes over.
fn start_drainer(scheduler: &Arc<scheduler::Shared>, ready: &Arc<ReadyQueue>) {
    let weak: Weak<scheduler::Shared> = Arc::downgrade(scheduler);
    let queue = ready.clone();
    let on_lost = Box::new(move |restart: bool| {
        if let Some(scheduler) = weak.upgrade() {
            // A refused spawn (closed loop) drops the new drainer at once;
            // the queue is closed by then, so it asks for no successor.
            if restart && !scheduler.is_closed() {
                start_drainer(&scheduler, &queue);
            }
        }
    });
    let drainer = Drainer::new(ready.clone(), on_lost);
    drop(scheduler.spawn(drainer, Some(DRAINER_NAME.into())));
}

/// A timed callback's entry in the timed queue, taken out when its task
/// goes away before the callback was due (cancelled, or dropped by a
/// closing loop, which refuses the callback).
struct TimedEntry {
    timed: Arc<TimedQueue>,
    /// `None` once the callback is due and left to the ready queue.
    key: Option<CallbackKey>,
}

impl Drop for TimedEntry {
    fn drop(&mut self) {
        if let Some(callback) = self.key.take().and_then(|key| self.timed.remove(key)) {
            callback.refuse();
        }
    }
}
