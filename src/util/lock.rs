//! Locking without poisoning.
//!
//! Every critical section in evloop leaves its data consistent before
//! anything that could panic runs, and no user code runs under an evloop
//! lock, so a poisoned lock holds consistent data: ignore the poison.

use std::sync::{LockResult, PoisonError};

use crate::loom::{Mutex, MutexGuard};

/// Locks `mutex`, ignoring poisoning (see the module docs). The mutex is
/// the loom-switched one: std's, or loom's under `cfg(loom)`.
pub(crate) fn lock<T: ?Sized>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    ignore_poison(mutex.lock())
}

/// [`lock`] for the mutexes that stay std's under `cfg(loom)`: those of
/// the parts no model runs (the loop's owner, sockets' streams, signals,
/// subprocesses). Without loom the two are the same.
pub(crate) fn lock_std<T: ?Sized>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    ignore_poison(mutex.lock())
}

/// The guard of a lock, or of a condition-variable wait, whether or not a
/// panic poisoned it.
pub(crate) fn ignore_poison<G>(result: LockResult<G>) -> G {
    result.unwrap_or_else(PoisonError::into_inner)
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::lock;

    #[test]
    fn a_poisoned_mutex_still_locks_with_its_data() {
        let mutex = Arc::new(Mutex::new(1));
        let poisoner = mutex.clone();
        let _ = std::thread::spawn(move || {
            let mut guard = poisoner.lock().unwrap();
            *guard = 2;
            panic!("poison the mutex");
        })
        .join();
        assert!(mutex.is_poisoned());
        assert_eq!(*lock(&mutex), 2);
    }
}
