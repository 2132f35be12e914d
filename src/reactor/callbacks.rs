//! Timed callbacks and the loop's clock: `Handle::call_later`,
//! `Handle::call_at`, `Handle::time`, `Handle::pending_timers`.
//!
//! Each callback is a small task that sleeps until the callback's deadline
//! and then runs the loop's *due* callbacks. The callbacks themselves sit in
//! one queue per loop, ordered by `(deadline, scheduling order)`, and run
//! one at a time under a "runner" flag: whichever task wakes first runs every
//! due callback in order, later ones find the work done. So callbacks due at
//! the same instant run in the order they were scheduled, even though the
//! waking tasks may be polled on different workers at once, and a callback
//! always runs on a worker, never on the reactor thread.
//!
//! Cancelling the `CallbackHandle` cancels the task; the task's drop guard
//! removes its queue entry, so a cancelled callback costs no memory later.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::lock;
use crate::bridge::CallbackHandle;
use crate::time::sleep_until;

impl crate::runtime::Handle {
    /// Runs `f` on the loop after `delay` (asyncio's `loop.call_later`),
    /// from any thread. Returns a handle to cancel it.
    ///
    /// `f` runs on a worker thread, never before the delay has elapsed.
    /// Callbacks due at the same instant run in the order they were
    /// scheduled; a zero delay runs as soon as possible. A panic in `f` is
    /// caught and reported by the panic hook; the loop goes on. On a closed
    /// loop the callback is refused and never runs.
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
        let handle = CallbackHandle::pending();
        let claim = handle.clone();
        let reactor = self.reactor().clone();
        let key = reactor.callbacks().schedule(
            when,
            Box::new(move || {
                if claim.claim() {
                    f();
                }
            }),
        );
        let mut slot = QueuedCallback {
            reactor,
            key: Some(key),
        };
        let task = self.spawn(async move {
            sleep_until(when).await;
            // The callback is due: it is ours to run, or the running
            // runner's, which picks it up before it stops.
            slot.key = None;
            slot.reactor.callbacks().run_due();
        });
        handle.set_task(task);
        handle
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

    /// How many timers the loop's reactor holds: sleeps (and timeouts,
    /// and timed callbacks) that are registered and have neither fired nor
    /// been dropped, as of the reactor's last wake-up. A diagnostic: a count
    /// that keeps growing points at leaked timers.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// evloop::run(async {
    ///     evloop::sleep(Duration::from_millis(1)).await;
    ///     assert_eq!(evloop::Handle::current().pending_timers(), 0);
    /// });
    /// ```
    pub fn pending_timers(&self) -> usize {
        self.reactor().timers_in_wheel()
    }
}

/// An instant so far ahead it is never reached, for delays that overflow.
fn sleep_forever_from(now: Instant) -> Instant {
    crate::time::sleep(Duration::MAX).deadline().max(now)
}

/// A callback's entry in the queue, removed when its task goes away before
/// the callback was due (cancelled, or dropped when the loop closed).
struct QueuedCallback {
    reactor: super::Handle,
    /// `None` once the callback is due and left to the runners.
    key: Option<CallbackKey>,
}

impl Drop for QueuedCallback {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.reactor.callbacks().remove(key);
        }
    }
}

/// A scheduled callback, already wrapped with its "not cancelled" check.
pub(crate) type Callback = Box<dyn FnOnce() + Send + 'static>;

/// Position of a callback in the queue.
pub(crate) type CallbackKey = (Instant, u64);

#[derive(Default)]
struct State {
    scheduled: BTreeMap<CallbackKey, Callback>,
    next_seq: u64,
    /// A task is running due callbacks; others leave the work to it.
    running: bool,
}

/// One loop's queue of timed callbacks.
#[derive(Default)]
pub(crate) struct CallbackQueue {
    state: Mutex<State>,
}

impl std::fmt::Debug for CallbackQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("CallbackQueue")
            .field("scheduled", &state.scheduled.len())
            .field("running", &state.running)
            .finish()
    }
}

impl CallbackQueue {
    /// Queues `callback` to run at `when`.
    pub(crate) fn schedule(&self, when: Instant, callback: Callback) -> CallbackKey {
        let mut state = lock(&self.state);
        let key = (when, state.next_seq);
        state.next_seq += 1;
        state.scheduled.insert(key, callback);
        key
    }

    /// Forgets a callback that will not run (its task was cancelled).
    pub(crate) fn remove(&self, key: CallbackKey) {
        let removed = lock(&self.state).scheduled.remove(&key);
        // The closure may own anything; drop it outside the lock.
        drop(removed);
    }

    /// Number of queued callbacks.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.state).scheduled.len()
    }

    /// Runs every callback that is due, in `(deadline, scheduling)` order,
    /// unless another thread is already doing so (it will pick ours up: the
    /// runner only stops, under the lock, once nothing due is left).
    ///
    /// A panicking callback is caught (the panic hook has reported it), and
    /// the callbacks after it still run.
    pub(crate) fn run_due(&self) {
        {
            let mut state = lock(&self.state);
            if state.running {
                return;
            }
            state.running = true;
        }
        loop {
            let due = {
                let mut state = lock(&self.state);
                let now = Instant::now();
                let later = match state.scheduled.keys().find(|(when, _)| *when > now) {
                    Some(&first_later) => state.scheduled.split_off(&first_later),
                    None => BTreeMap::new(),
                };
                let due = std::mem::replace(&mut state.scheduled, later);
                if due.is_empty() {
                    state.running = false;
                    return;
                }
                due
            };
            for callback in due.into_values() {
                let _ = catch_unwind(AssertUnwindSafe(callback));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn due_callbacks_run_in_deadline_then_scheduling_order() {
        let queue = CallbackQueue::default();
        let log = Arc::new(Mutex::new(Vec::new()));
        let now = Instant::now();
        for (name, offset) in [("b1", 2), ("a", 1), ("b2", 2), ("later", 60_000)] {
            let log = log.clone();
            queue.schedule(
                now + Duration::from_micros(offset),
                Box::new(move || lock(&log).push(name)),
            );
        }
        std::thread::sleep(Duration::from_millis(1));
        queue.run_due();
        assert_eq!(*lock(&log), ["a", "b1", "b2"]);
        assert_eq!(queue.len(), 1);
    }

    #[test]
    fn a_panicking_callback_does_not_stop_the_others() {
        let queue = CallbackQueue::default();
        let ran = Arc::new(Mutex::new(false));
        let now = Instant::now();
        queue.schedule(now, Box::new(|| panic!("callback failed")));
        let flag = ran.clone();
        queue.schedule(now, Box::new(move || *lock(&flag) = true));
        queue.run_due();
        assert!(*lock(&ran));
        // The runner flag was released: a later callback runs too.
        let flag = ran.clone();
        *lock(&ran) = false;
        queue.schedule(now, Box::new(move || *lock(&flag) = true));
        queue.run_due();
        assert!(*lock(&ran));
    }

    #[test]
    fn removed_callback_never_runs() {
        let queue = CallbackQueue::default();
        let key = queue.schedule(Instant::now(), Box::new(|| panic!("must not run")));
        queue.remove(key);
        queue.run_due();
        assert_eq!(queue.len(), 0);
    }
}
