//! [`Lock`]: asyncio's `Lock`, released by dropping its guard.

use std::fmt;
use std::sync::Arc;

use super::permits::Permits;

/// A mutual-exclusion lock for tasks, like `asyncio.Lock`.
///
/// `lock().await` suspends the task until the lock is free and returns a
/// [`LockGuard`]; dropping the guard releases the lock. Tasks that wait are
/// served strictly in the order they started waiting: a release hands the lock
/// straight to the first waiter, so a task that comes later can never take it
/// first, not even through [`try_lock`](Lock::try_lock).
///
/// A `Lock` is a handle: [`Clone`] gives another handle to the *same* lock (an
/// `Arc` inside), the way asyncio code passes one lock object around. It is
/// `Send + Sync`, so tasks on different worker threads can share it.
///
/// Like asyncio's lock it protects no data of its own; it guards a critical
/// section. To guard a value, keep it in a `std::sync::Mutex` (or an atomic)
/// that is only touched while the `LockGuard` is held; that inner lock is then
/// never contended.
///
/// Differences from asyncio:
/// - there is no `release()` method: the guard releases on drop, so a lock can
///   neither be released twice nor by code that never held it (asyncio's
///   `RuntimeError` cannot happen);
/// - a task whose `lock()` future is dropped (cancelled) after the lock was
///   handed to it passes the lock on to the next waiter at once.
///
/// # Examples
///
/// ```
/// use evloop::sync::Lock;
///
/// evloop::run(async {
///     let lock = Lock::new();
///     let guard = lock.lock().await;
///     assert!(lock.locked());
///     assert!(lock.try_lock().is_none());
///     drop(guard);
///     assert!(!lock.locked());
/// });
/// ```
#[derive(Clone)]
pub struct Lock {
    permits: Arc<Permits>,
}

impl Lock {
    /// Creates an unlocked lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = evloop::sync::Lock::new();
    /// assert!(!lock.locked());
    /// ```
    pub fn new() -> Self {
        Self {
            permits: Arc::new(Permits::new(1)),
        }
    }

    /// Waits until the lock is free, takes it and returns the guard that
    /// releases it on drop (`async with lock:` / `await lock.acquire()`).
    ///
    /// Waiters are served first come, first served. Dropping the returned
    /// future before it completes gives up the place in the queue, and if the
    /// lock had already been handed to it, hands it on to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::Lock;
    ///
    /// evloop::run(async {
    ///     let lock = Lock::new();
    ///     {
    ///         let _guard = lock.lock().await;
    ///         // critical section
    ///     }
    ///     assert!(!lock.locked());
    /// });
    /// ```
    pub async fn lock(&self) -> LockGuard<'_> {
        self.permits.acquire().await;
        LockGuard { lock: self }
    }

    /// Takes the lock if it is free right now, without waiting.
    ///
    /// Returns `None` when the lock is held (or handed to a waiter that has not
    /// run yet), so it never overtakes a queued task.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = evloop::sync::Lock::new();
    /// let guard = lock.try_lock().expect("a new lock is free");
    /// assert!(lock.try_lock().is_none());
    /// drop(guard);
    /// assert!(lock.try_lock().is_some());
    /// ```
    pub fn try_lock(&self) -> Option<LockGuard<'_>> {
        self.permits.try_acquire().then(|| LockGuard { lock: self })
    }

    /// Whether the lock is held (`Lock.locked()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = evloop::sync::Lock::new();
    /// let guard = lock.try_lock();
    /// assert!(lock.locked());
    /// drop(guard);
    /// assert!(!lock.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.permits.available() == 0
    }

    /// Whether `self` and `other` are handles to the same lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::Lock;
    ///
    /// let lock = Lock::new();
    /// assert!(lock.same_lock(&lock.clone()));
    /// assert!(!lock.same_lock(&Lock::new()));
    /// ```
    pub fn same_lock(&self, other: &Lock) -> bool {
        Arc::ptr_eq(&self.permits, &other.permits)
    }

    /// The permit behind the lock, for [`Condition`](super::Condition) to
    /// queue a notified waiter for the lock.
    pub(super) fn permits(&self) -> &Permits {
        &self.permits
    }

    /// The guard for a caller that already owns the lock's permit.
    pub(super) fn owned_guard(&self) -> LockGuard<'_> {
        LockGuard { lock: self }
    }

    fn unlock(&self) {
        // The guard held the only permit, so giving it back cannot exceed the
        // bound of one.
        let _ = self.permits.release(Some(1));
    }
}

impl Default for Lock {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Lock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Lock")
            .field("locked", &self.locked())
            .field("waiters", &self.permits.waiting())
            .finish()
    }
}

/// Proof that the task holds a [`Lock`]; dropping it releases the lock.
///
/// # Examples
///
/// ```
/// use evloop::sync::Lock;
///
/// evloop::run(async {
///     let lock = Lock::new();
///     let guard = lock.lock().await;
///     assert!(guard.lock().same_lock(&lock));
///     drop(guard); // lock.release()
///     assert!(!lock.locked());
/// });
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct LockGuard<'a> {
    lock: &'a Lock,
}

impl<'a> LockGuard<'a> {
    /// The lock this guard holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let lock = evloop::sync::Lock::new();
    /// let guard = lock.try_lock().unwrap();
    /// assert!(guard.lock().locked());
    /// ```
    pub fn lock(&self) -> &'a Lock {
        self.lock
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        self.lock.unlock();
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard").finish_non_exhaustive()
    }
}
