//! The timed queue: callbacks of `call_later` / `call_at`, ordered by
//! `(deadline, scheduling order)`, waiting for their deadline. The queue
//! runs nothing itself: due callbacks move to the ready queue, whose drainer
//! runs them (see the protocol in `callbacks/mod.rs`).

use std::collections::BTreeMap;
use std::time::Instant;

use super::CallbackHandle;
use super::ready::{Pushed, ReadyQueue};
use crate::loom::Mutex;
use crate::util::lock;

/// Position of a callback in the queue.
pub(crate) type CallbackKey = (Instant, u64);

#[derive(Default)]
struct State {
    scheduled: BTreeMap<CallbackKey, CallbackHandle>,
    next_seq: u64,
}

/// One loop's timed callbacks.
pub(crate) struct TimedQueue {
    state: Mutex<State>,
}

impl std::fmt::Debug for TimedQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimedQueue")
            .field("scheduled", &lock(&self.state).scheduled.len())
            .finish()
    }
}

impl TimedQueue {
    pub(crate) fn new() -> TimedQueue {
        TimedQueue {
            state: Mutex::new(State::default()),
        }
    }

    /// Queues `callback` to become due at `when`.
    pub(crate) fn schedule(&self, when: Instant, callback: CallbackHandle) -> CallbackKey {
        let mut state = lock(&self.state);
        let key = (when, state.next_seq);
        state.next_seq += 1;
        state.scheduled.insert(key, callback);
        key
    }

    /// Takes back a callback that will never become due (its timer went
    /// away first), if it is still queued.
    pub(crate) fn remove(&self, key: CallbackKey) -> Option<CallbackHandle> {
        lock(&self.state).scheduled.remove(&key)
    }

    /// Number of queued callbacks.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.state).scheduled.len()
    }

    /// Moves every callback due at `now` to `ready`, in `(deadline,
    /// scheduling)` order. The move happens under this queue's lock, so two
    /// threads moving at once cannot interleave their batches: a callback
    /// due later never lands in the ready queue before one due earlier.
    /// Returns true when the ready queue asks for a drainer.
    pub(crate) fn move_due(&self, now: Instant, ready: &ReadyQueue) -> bool {
        let mut state = lock(&self.state);
        let later = match state.scheduled.keys().find(|(when, _)| *when > now) {
            Some(&first_later) => state.scheduled.split_off(&first_later),
            None => BTreeMap::new(),
        };
        let due = std::mem::replace(&mut state.scheduled, later);
        let mut start_drainer = false;
        for callback in due.into_values() {
            start_drainer |= ready.push(callback) == Pushed::StartDrainer;
        }
        start_drainer
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use crate::callbacks::ready::Drainer;

    fn logging(log: &Arc<Mutex<Vec<&'static str>>>, name: &'static str) -> CallbackHandle {
        let log = log.clone();
        CallbackHandle::with_closure(move || lock(&log).push(name))
    }

    fn drain(ready: &Arc<ReadyQueue>) {
        let mut drainer = Drainer::new(ready.clone(), Box::new(|_| {}));
        while !drainer.drain_some() {}
    }

    #[test]
    fn due_callbacks_move_in_deadline_then_scheduling_order() {
        let timed = TimedQueue::new();
        let ready = Arc::new(ReadyQueue::new());
        let log = Arc::new(Mutex::new(Vec::new()));
        let now = Instant::now();
        for (name, offset) in [("b1", 2), ("a", 1), ("b2", 2), ("later", 3_600_000_000)] {
            timed.schedule(now + Duration::from_micros(offset), logging(&log, name));
        }
        assert!(timed.move_due(now + Duration::from_micros(2), &ready));
        drain(&ready);
        assert_eq!(*lock(&log), ["a", "b1", "b2"]);
        assert_eq!(timed.len(), 1);
    }

    #[test]
    fn a_panicking_callback_does_not_stop_the_others() {
        let timed = TimedQueue::new();
        let ready = Arc::new(ReadyQueue::new());
        let log = Arc::new(Mutex::new(Vec::new()));
        let now = Instant::now();
        timed.schedule(
            now,
            CallbackHandle::with_closure(|| panic!("callback failed")),
        );
        timed.schedule(now, logging(&log, "after"));
        timed.move_due(now, &ready);
        drain(&ready);
        assert_eq!(*lock(&log), ["after"]);
    }

    #[test]
    fn removed_callback_never_moves() {
        let timed = TimedQueue::new();
        let ready = Arc::new(ReadyQueue::new());
        let now = Instant::now();
        let key = timed.schedule(now, CallbackHandle::with_closure(|| panic!("must not run")));
        assert!(timed.remove(key).is_some());
        assert!(!timed.move_due(now, &ready));
        assert_eq!(timed.len(), 0);
    }
}
