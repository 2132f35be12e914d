//! Timed callbacks: `Handle::call_later`, `Handle::call_at`, `Handle::time`.
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
use std::time::Instant;

use super::lock;

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
