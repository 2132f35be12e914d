//! The wakers of the tasks waiting for a state change of a writer or a
//! server (`drain`, `wait_closed`, `serve_forever`).

use std::task::Waker;

/// Tasks to wake on the next state change; each re-checks the state when
/// polled, so being woken needlessly is harmless.
///
/// A task is kept once, however often it polls. A future dropped while
/// waiting leaves its waker behind until the next change (one spurious
/// wake-up), which bounds the list by the number of distinct tasks that
/// waited since then.
#[derive(Debug, Default)]
pub(super) struct Waiters(Vec<Waker>);

impl Waiters {
    /// Makes sure `waker` is woken on the next change.
    pub(super) fn register(&mut self, waker: &Waker) {
        if !self.0.iter().any(|known| known.will_wake(waker)) {
            self.0.push(waker.clone());
        }
    }

    /// Moves every waker into `wakers`, to wake once the lock is released.
    pub(super) fn take_into(&mut self, wakers: &mut Vec<Waker>) {
        wakers.append(&mut self.0);
    }
}

/// Wakes every waker of `wakers`.
pub(super) fn wake_all(wakers: Vec<Waker>) {
    for waker in wakers {
        waker.wake();
    }
}
