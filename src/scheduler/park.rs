//! How a worker sleeps: a parker with a single wake-up token, that sleeps
//! either on its own condition variable or inside the OS poller.
//!
//! `unpark` leaves a token when the worker is not asleep yet, so an unpark
//! that races ahead of `park` is never lost: the next `park` consumes the
//! token and returns at once. Built on the loom-switchable Mutex and
//! Condvar so the models see it.
//!
//! With a [`Driver`] (the reactor's poller, handed in by the runtime), a
//! parking worker first tries to take the poller and sleep in it: then a
//! readiness event or a timer wakes it directly, and it runs the tasks it
//! woke itself. Only when another thread holds the poller does it sleep on
//! its condition variable. The state word says where it sleeps, so that
//! `unpark` knows how to reach it: a condvar notify, or the driver's
//! `unpark` (which interrupts the blocked poll).

use std::sync::Arc as StdArc;

use crate::loom::{Arc, AtomicUsize, Condvar, Mutex, Ordering};
use crate::util::{ignore_poison, lock};

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// The OS poller as the scheduler sees it: a resource that one idle worker
/// at a time may block in. The reactor implements it, and documents the
/// protocol of who holds the poller.
pub(crate) trait Driver: Send + Sync {
    /// Takes the poller if nobody holds it and blocks in it until a
    /// readiness event, the next timer deadline or [`unpark`](Driver::unpark),
    /// then wakes the tasks that are ready, on the calling thread. Just
    /// before blocking it calls `may_block`; when that returns false (a
    /// wake-up token was there), it gives the poller back without blocking.
    /// Returns false at once when the poller is held elsewhere or shut down.
    fn park(&self, may_block: &mut dyn FnMut() -> bool) -> bool;

    /// Interrupts the thread blocked in the poller, or the next one to
    /// block in it.
    fn unpark(&self);

    /// Whether a `park` now would likely find the poller free.
    fn is_free(&self) -> bool;
}

struct Inner {
    state: AtomicUsize,
    lock: Mutex<()>,
    condvar: Condvar,
    driver: Option<StdArc<dyn Driver>>,
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
    /// A parker that sleeps in `driver` when it can, on its condvar
    /// otherwise.
    pub(crate) fn new(driver: Option<StdArc<dyn Driver>>) -> Parker {
        Parker {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(EMPTY),
                lock: Mutex::new(()),
                condvar: Condvar::new(),
                driver,
            }),
        }
    }

    pub(crate) fn unparker(&self) -> Unparker {
        Unparker {
            inner: self.inner.clone(),
        }
    }

    /// Blocks until a token is available, then consumes it; or, when it
    /// could take the poller, until the poller returned (the tasks it woke
    /// are then queued on this thread).
    pub(crate) fn park(&self) {
        let inner = &*self.inner;
        if inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
        {
            return;
        }
        if let Some(driver) = &inner.driver {
            let mut blocked = false;
            let held = driver.park(&mut || {
                blocked = match inner.state.compare_exchange(
                    EMPTY,
                    PARKED_DRIVER,
                    Ordering::SeqCst,
                    Ordering::SeqCst,
                ) {
                    Ok(_) => true,
                    Err(_) => {
                        // A token arrived: consume it (a read-modify-write,
                        // for the reason given below) and do not block.
                        inner.state.swap(EMPTY, Ordering::SeqCst);
                        false
                    }
                };
                blocked
            });
            if blocked {
                // PARKED_DRIVER, or NOTIFIED by an unpark that interrupted
                // the poll: either way this park is over.
                inner.state.swap(EMPTY, Ordering::SeqCst);
            }
            if held {
                return;
            }
        }
        let mut guard = lock(&inner.lock);
        match inner.state.compare_exchange(
            EMPTY,
            PARKED_CONDVAR,
            Ordering::SeqCst,
            Ordering::SeqCst,
        ) {
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
        match inner.state.swap(NOTIFIED, Ordering::SeqCst) {
            PARKED_CONDVAR => {
                // Taking the lock orders this notify after the sleeper's
                // wait began.
                drop(lock(&inner.lock));
                inner.condvar.notify_one();
            }
            PARKED_DRIVER => {
                if let Some(driver) = &inner.driver {
                    driver.unpark();
                }
            }
            _ => {}
        }
    }
}
