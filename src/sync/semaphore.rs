//! [`Semaphore`] and [`BoundedSemaphore`]: asyncio's counting semaphores.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

use super::permits::Permits;

/// A counting semaphore, like `asyncio.Semaphore`.
///
/// It holds a number of permits. [`acquire`](Semaphore::acquire) waits for one
/// and returns a [`SemaphorePermit`] that gives it back on drop (`async with
/// sem:`). Tasks that wait are served in the order they started waiting: a
/// returned permit goes straight to the first waiter, so nobody overtakes a
/// queued task, not even [`try_acquire`](Semaphore::try_acquire).
///
/// The asyncio style also works: [`SemaphorePermit::forget`] keeps the permit
/// taken, and a later [`release`](Semaphore::release) returns one. As in asyncio,
/// `release` may be called more often than `acquire` (each call adds a permit);
/// use [`BoundedSemaphore`] to have that reported as an error.
///
/// A `Semaphore` is a handle: [`Clone`] gives another handle to the same
/// semaphore (an `Arc` inside). It is `Send + Sync`.
///
/// Differences from asyncio: a dropped (cancelled) `acquire()` future that had
/// already been handed a permit passes it on to the next waiter.
///
/// # Examples
///
/// ```
/// use evloop::sync::Semaphore;
///
/// evloop::run(async {
///     let sem = Semaphore::new(2);
///     let a = sem.acquire().await;
///     let b = sem.acquire().await;
///     assert!(sem.locked());
///     drop(a);
///     assert_eq!(sem.available_permits(), 1);
///     drop(b);
/// });
/// ```
#[derive(Clone)]
pub struct Semaphore {
    permits: Arc<Permits>,
}

impl Semaphore {
    /// Creates a semaphore with `permits` free permits (`asyncio.Semaphore(value)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::Semaphore::new(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn new(permits: usize) -> Self {
        Self {
            permits: Arc::new(Permits::new(permits)),
        }
    }

    /// Waits, first come first served, for a free permit and takes it.
    ///
    /// Dropping the future before it completes leaves the queue; if a permit had
    /// already been handed to it, that permit goes to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::Semaphore;
    ///
    /// evloop::run(async {
    ///     let sem = Semaphore::new(1);
    ///     let permit = sem.acquire().await;
    ///     assert_eq!(sem.available_permits(), 0);
    ///     drop(permit);
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub async fn acquire(&self) -> SemaphorePermit<'_> {
        self.permits.acquire().await;
        SemaphorePermit {
            permits: &self.permits,
            bound: None,
        }
    }

    /// Takes a permit if one is free right now, without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::Semaphore::new(1);
    /// let permit = sem.try_acquire().expect("one permit is free");
    /// assert!(sem.try_acquire().is_none());
    /// drop(permit);
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.permits.try_acquire().then(|| SemaphorePermit {
            permits: &self.permits,
            bound: None,
        })
    }

    /// Returns one permit (`Semaphore.release()`): it goes to the first waiting
    /// task, or becomes free. Never fails; calling it more often than permits
    /// were taken raises the count, as in asyncio.
    ///
    /// The count saturates: a semaphore with `usize::MAX` free permits keeps
    /// `usize::MAX` (Python's integers have no ceiling; a `usize` does, and
    /// wrapping to 0 would lock the semaphore up). This holds in debug and
    /// release builds alike.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::Semaphore::new(0);
    /// sem.release();
    /// assert_eq!(sem.available_permits(), 1);
    ///
    /// let full = evloop::sync::Semaphore::new(usize::MAX);
    /// full.release();
    /// assert_eq!(full.available_permits(), usize::MAX);
    /// ```
    pub fn release(&self) {
        // Without a bound, release always succeeds.
        let _ = self.permits.release(None);
    }

    /// Whether no permit can be taken right now (`Semaphore.locked()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::Semaphore::new(1);
    /// let permit = sem.try_acquire();
    /// assert!(sem.locked());
    /// drop(permit);
    /// assert!(!sem.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.permits.available() == 0
    }

    /// Number of free permits (asyncio's private `_value`).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::Semaphore::new(2);
    /// let _permit = sem.try_acquire();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.permits.available()
    }
}

impl fmt::Debug for Semaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Semaphore")
            .field("available_permits", &self.permits.available())
            .field("waiters", &self.permits.waiting())
            .finish()
    }
}

/// A semaphore that refuses to be released above its initial value, like
/// `asyncio.BoundedSemaphore`.
///
/// Everything works as for [`Semaphore`], except that
/// [`release`](BoundedSemaphore::release) returns [`OverReleaseError`] (asyncio
/// raises `ValueError`) instead of adding a permit past the bound. A
/// [`SemaphorePermit`] dropped while all permits are already free (possible only
/// if the task also called `release` for it) does not raise the count either.
///
/// # Examples
///
/// ```
/// use evloop::sync::BoundedSemaphore;
///
/// evloop::run(async {
///     let sem = BoundedSemaphore::new(1);
///     sem.acquire().await.forget();
///     assert!(sem.release().is_ok());
///     assert!(sem.release().is_err());
/// });
/// ```
#[derive(Clone)]
pub struct BoundedSemaphore {
    permits: Arc<Permits>,
    bound: usize,
}

impl BoundedSemaphore {
    /// Creates a semaphore with `permits` free permits, which is also the most it
    /// will ever hold.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::BoundedSemaphore::new(2);
    /// assert_eq!(sem.bound(), 2);
    /// ```
    pub fn new(permits: usize) -> Self {
        Self {
            permits: Arc::new(Permits::new(permits)),
            bound: permits,
        }
    }

    /// Waits, first come first served, for a free permit and takes it. See
    /// [`Semaphore::acquire`].
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::BoundedSemaphore;
    ///
    /// evloop::run(async {
    ///     let sem = BoundedSemaphore::new(1);
    ///     let permit = sem.acquire().await;
    ///     assert!(sem.locked());
    ///     drop(permit);
    /// });
    /// ```
    pub async fn acquire(&self) -> SemaphorePermit<'_> {
        self.permits.acquire().await;
        SemaphorePermit {
            permits: &self.permits,
            bound: Some(self.bound),
        }
    }

    /// Takes a permit if one is free right now, without waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::BoundedSemaphore::new(1);
    /// assert!(sem.try_acquire().is_some());
    /// ```
    pub fn try_acquire(&self) -> Option<SemaphorePermit<'_>> {
        self.permits.try_acquire().then(|| SemaphorePermit {
            permits: &self.permits,
            bound: Some(self.bound),
        })
    }

    /// Returns one permit, or fails with [`OverReleaseError`] if all
    /// [`bound`](Self::bound) permits are already free.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::BoundedSemaphore::new(1);
    /// let err = sem.release().unwrap_err();
    /// assert_eq!(err.bound(), 1);
    /// ```
    pub fn release(&self) -> Result<(), OverReleaseError> {
        self.permits
            .release(Some(self.bound))
            .map_err(|_| OverReleaseError { bound: self.bound })
    }

    /// Whether no permit can be taken right now.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::BoundedSemaphore::new(0);
    /// assert!(sem.locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.permits.available() == 0
    }

    /// Number of free permits.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::BoundedSemaphore::new(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub fn available_permits(&self) -> usize {
        self.permits.available()
    }

    /// The most permits this semaphore holds: its initial value.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(evloop::sync::BoundedSemaphore::new(4).bound(), 4);
    /// ```
    pub fn bound(&self) -> usize {
        self.bound
    }
}

impl fmt::Debug for BoundedSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BoundedSemaphore")
            .field("available_permits", &self.permits.available())
            .field("bound", &self.bound)
            .field("waiters", &self.permits.waiting())
            .finish()
    }
}

/// A permit taken from a [`Semaphore`] or [`BoundedSemaphore`]; dropping it
/// returns the permit.
///
/// # Examples
///
/// ```
/// use evloop::sync::Semaphore;
///
/// evloop::run(async {
///     let sem = Semaphore::new(1);
///     let permit = sem.acquire().await;
///     drop(permit); // sem.release()
///     assert_eq!(sem.available_permits(), 1);
/// });
/// ```
#[must_use = "the permit is returned as soon as it is dropped"]
pub struct SemaphorePermit<'a> {
    permits: &'a Permits,
    bound: Option<usize>,
}

impl SemaphorePermit<'_> {
    /// Keeps the permit taken without returning it on drop, for asyncio-style
    /// code that pairs `acquire` with an explicit `release` later.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::Semaphore::new(1);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// sem.release();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(self) {
        std::mem::forget(self);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        // A bounded semaphore can only be at its bound here if the task also
        // released this permit by hand; the permit then adds nothing.
        let _ = self.permits.release(self.bound);
    }
}

impl fmt::Debug for SemaphorePermit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SemaphorePermit").finish_non_exhaustive()
    }
}

/// [`BoundedSemaphore::release`] was called while all its permits were free
/// (asyncio's `ValueError: BoundedSemaphore released too many times`).
///
/// # Examples
///
/// ```
/// let sem = evloop::sync::BoundedSemaphore::new(2);
/// let err = sem.release().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "BoundedSemaphore released too many times: all 2 of its permits are already free"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OverReleaseError {
    bound: usize,
}

impl OverReleaseError {
    /// The bound of the semaphore that refused the release.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = evloop::sync::BoundedSemaphore::new(3);
    /// assert_eq!(sem.release().unwrap_err().bound(), 3);
    /// ```
    pub fn bound(&self) -> usize {
        self.bound
    }
}

impl fmt::Display for OverReleaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BoundedSemaphore released too many times: all {} of its permits are already free",
            self.bound
        )
    }
}

impl Error for OverReleaseError {}
