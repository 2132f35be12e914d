//! The wakers of the tasks waiting for a state change of a writer or a
//! server (`drain`, `wait_closed`, `serve_forever`), kept in the crate's
//! waiter list.

use std::task::Waker;

use crate::util::wait_list::WaitList;
pub(super) use crate::util::wait_list::WakeList;

/// Tasks to wake on the next state change; each re-checks the state when
/// polled, so being woken needlessly is harmless.
///
/// A task is kept once, however often it polls. A future dropped while
/// waiting leaves its waker behind until the next change (one spurious
/// wake-up), which bounds the list by the number of distinct tasks that
/// waited since then.
#[derive(Debug, Default)]
pub(super) struct Waiters(WaitList<()>);

impl Waiters {
    /// Makes sure `waker` is woken on the next change.
    pub(super) fn register(&mut self, waker: &Waker) {
        self.0.register((), waker);
    }

    /// Moves every waker into `wakers`, to wake once the lock is released.
    pub(super) fn take_into(&mut self, wakers: &mut WakeList) {
        self.0.notify_all(|_| {}, wakers);
    }
}
