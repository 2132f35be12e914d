//! How a worker sleeps: a parker with a single wake-up token.
//!
//! `unpark` leaves a token when the worker is not asleep yet, so an unpark
//! that races ahead of `park` is never lost: the next `park` consumes the
//! token and returns at once. Built on the loom-switchable Mutex and
//! Condvar so the models see it.

use crate::loom::{Arc, AtomicUsize, Condvar, Mutex, Ordering};
use crate::util::{ignore_poison, lock};

const EMPTY: usize = 0;
const PARKED: usize = 1;
const NOTIFIED: usize = 2;

struct Inner {
    state: AtomicUsize,
    lock: Mutex<()>,
    condvar: Condvar,
}

/// Owned by the sleeping worker.
pub(crate) struct Parker {
    inner: Arc<Inner>,
}

/// Wakes a `Parker`; any thread may hold one.
#[derive(Clone)]
pub(crate) struct Unparker {
    inner: Arc<Inner>,
}

impl Parker {
    pub(crate) fn new() -> Parker {
        Parker {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(EMPTY),
                lock: Mutex::new(()),
                condvar: Condvar::new(),
            }),
        }
    }

    pub(crate) fn unparker(&self) -> Unparker {
        Unparker {
            inner: self.inner.clone(),
        }
    }

    /// Blocks until a token is available, then consumes it.
    pub(crate) fn park(&self) {
        let inner = &*self.inner;
        if inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
        let mut guard = lock(&inner.lock);
        match inner
            .state
            .compare_exchange(EMPTY, PARKED, Ordering::SeqCst, Ordering::SeqCst)
        {
            Ok(_) => {}
            Err(_) => {
                // A token arrived between the fast path and the lock.
                // Consume it with a read-modify-write, not a store: another
                // `unpark` may have come since the failed exchange read the
                // state, and only reading the latest value synchronises
                // with it, making what that thread did before unparking
                // (setting the shutdown flag, say) visible here.
                inner.state.swap(EMPTY, Ordering::SeqCst);
                return;
            }
        }
        loop {
            guard = ignore_poison(inner.condvar.wait(guard));
            if inner
                .state
                .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                return;
            }
            // Spurious condvar wake-up: keep sleeping.
        }
    }
}

impl Unparker {
    /// Leaves a token and wakes the parker if it sleeps.
    pub(crate) fn unpark(&self) {
        let inner = &*self.inner;
        if inner.state.swap(NOTIFIED, Ordering::SeqCst) == PARKED {
            // Taking the lock orders this notify after the sleeper's wait began.
            drop(lock(&inner.lock));
            inner.condvar.notify_one();
        }
    }
}
