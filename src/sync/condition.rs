//! [`Condition`]: asyncio's `Condition`, a [`Lock`] plus a queue of tasks
//! waiting to be notified.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::lock::{Lock, LockGuard};
use super::permits::AcquirePermit;
use crate::loom::Mutex;
use crate::util::lock;
use crate::util::wait_list::{WaitList, WaiterKey, WakeList};

/// A condition variable for tasks, like `asyncio.Condition`.
///
/// A task takes the condition's lock with [`acquire`](Condition::acquire),
/// checks some shared state, and if it must wait, hands its guard to
/// [`wait`](Condition::wait): the lock is released while the task waits and
/// taken again before `wait` returns the new guard. Another task changes the
/// state and calls [`notify`](Condition::notify) or
/// [`notify_all`](Condition::notify_all). [`wait_for`](Condition::wait_for)
/// loops until a predicate holds.
///
/// Waiters are notified in the order they started waiting, and get the lock
/// back in that order too, whichever of them runs first (as in asyncio): a
/// notified waiter is queued for the lock at the moment it is notified. A
/// waiter whose `wait` future is dropped (cancelled) after it was notified,
/// while waiting for the lock or holding it unseen, passes the notification
/// on to the next waiter, so `notify(1)` is never swallowed (as in Python
/// 3.13).
///
/// A `Condition` is a handle: [`Clone`] gives another handle to the same
/// condition and lock (an `Arc` inside). It is `Send + Sync`.
///
/// Differences from asyncio:
/// - `wait` and `wait_for` take the guard and give it back, so "waiting without
///   holding the lock" cannot be written (asyncio raises `RuntimeError`);
/// - `notify` and `notify_all` do not require the lock (asyncio raises
///   `RuntimeError` when it is not held); they return how many waiters they woke;
/// - `wait_for` returns the guard, not the predicate's value (the predicate is
///   `true` when it returns);
/// - if a `wait` future is dropped, the lock is not taken again: the task gave
///   its guard to `wait` and gets none back.
///
/// # Examples
///
/// ```
/// use evloop::sync::Condition;
/// use std::sync::Arc;
/// use std::sync::atomic::{AtomicBool, Ordering};
///
/// evloop::run(async {
///     let cond = Condition::new();
///     let ready = Arc::new(AtomicBool::new(false));
///     let waiter = evloop::spawn({
///         let (cond, ready) = (cond.clone(), ready.clone());
///         async move {
///             let guard = cond.acquire().await;
///             let _guard = cond.wait_for(guard, || ready.load(Ordering::SeqCst)).await;
///         }
///     });
///     {
///         let _guard = cond.acquire().await;
///         ready.store(true, Ordering::SeqCst);
///         cond.notify_all();
///     }
///     waiter.await.unwrap();
/// });
/// ```
#[derive(Clone)]
pub struct Condition {
    lock: Lock,
    /// Tasks waiting to be notified, in the order they started waiting.
    waiters: Arc<Mutex<WaitList<Notified>>>,
}

impl Condition {
    /// Creates a condition with a lock of its own (`asyncio.Condition()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = evloop::sync::Condition::new();
    /// assert!(!cond.locked());
    /// ```
    pub fn new() -> Self {
        Self::with_lock(Lock::new())
    }

    /// Creates a condition around an existing lock (`asyncio.Condition(lock)`),
    /// so several conditions can share one lock.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::{Condition, Lock};
    ///
    /// let lock = Lock::new();
    /// let cond = Condition::with_lock(lock.clone());
    /// assert!(cond.lock().same_lock(&lock));
    /// ```
    pub fn with_lock(lock: Lock) -> Self {
        Self {
            lock,
            waiters: Arc::new(Mutex::new(WaitList::new())),
        }
    }

    /// The condition's lock.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = evloop::sync::Condition::new();
    /// let guard = cond.lock().try_lock();
    /// assert!(cond.locked());
    /// drop(guard);
    /// ```
    pub fn lock(&self) -> &Lock {
        &self.lock
    }

    /// Takes the condition's lock (`async with cond:`); see [`Lock::lock`].
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let cond = evloop::sync::Condition::new();
    ///     let guard = cond.acquire().await;
    ///     assert!(cond.locked());
    ///     drop(guard);
    /// });
    /// ```
    pub async fn acquire(&self) -> LockGuard<'_> {
        self.lock.lock().await
    }

    /// Whether the condition's lock is held.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!evloop::sync::Condition::new().locked());
    /// ```
    pub fn locked(&self) -> bool {
        self.lock.locked()
    }

    /// Releases the lock, waits until notified, takes the lock again and
    /// returns the new guard.
    ///
    /// The task is queued for notification *before* the lock is released, so a
    /// `notify` made by whoever takes the lock next cannot be missed.
    ///
    /// # Panics
    ///
    /// If `guard` holds a different lock than this condition's.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::Condition;
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicBool, Ordering};
    ///
    /// evloop::run(async {
    ///     let cond = Condition::new();
    ///     let ready = Arc::new(AtomicBool::new(false));
    ///     let waiter = evloop::spawn({
    ///         let (cond, ready) = (cond.clone(), ready.clone());
    ///         async move {
    ///             let mut guard = cond.acquire().await;
    ///             while !ready.load(Ordering::SeqCst) {
    ///                 guard = cond.wait(guard).await;
    ///             }
    ///         }
    ///     });
    ///     let guard = cond.acquire().await;
    ///     ready.store(true, Ordering::SeqCst);
    ///     cond.notify(1);
    ///     drop(guard);
    ///     waiter.await.unwrap();
    /// });
    /// ```
    pub async fn wait<'a>(&'a self, guard: LockGuard<'a>) -> LockGuard<'a> {
        assert!(
            guard.lock().same_lock(&self.lock),
            "Condition::wait was given the guard of a lock that is not the condition's lock"
        );
        Wait {
            condition: self,
            guard: Some(guard),
            phase: Phase::Start,
        }
        .await
    }

    /// Waits until `predicate` returns `true`: checks it, and while it is false
    /// [`wait`](Self::wait)s and checks again. The predicate always runs with
    /// the lock held.
    ///
    /// # Panics
    ///
    /// If `guard` holds a different lock than this condition's.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let cond = evloop::sync::Condition::new();
    ///     let guard = cond.acquire().await;
    ///     // A predicate that already holds returns at once.
    ///     let _guard = cond.wait_for(guard, || true).await;
    /// });
    /// ```
    pub async fn wait_for<'a>(
        &'a self,
        mut guard: LockGuard<'a>,
        mut predicate: impl FnMut() -> bool,
    ) -> LockGuard<'a> {
        while !predicate() {
            guard = self.wait(guard).await;
        }
        guard
    }

    /// Wakes up to `n` waiting tasks, first come first served, and returns how
    /// many it woke.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = evloop::sync::Condition::new();
    /// assert_eq!(cond.notify(1), 0); // nobody waits
    /// ```
    pub fn notify(&self, n: usize) -> usize {
        let mut wakers = WakeList::new();
        let mut woken = 0;
        {
            let mut waiters = lock(&self.waiters);
            while woken < n {
                // The notified waiter is queued for the lock right here, so
                // waiters get the lock back in the order they were notified
                // (the order they started waiting), whichever runs first.
                let mut owns_the_lock = false;
                let notified = waiters.notify_front_with(|slot, waker| {
                    let permit = self.lock.permits().enqueue(waker);
                    owns_the_lock = permit.is_none();
                    *slot = Notified::QueuedForLock(permit);
                });
                let Some(waker) = notified else { break };
                woken += 1;
                // A waiter queued for a held lock is woken by its release.
                if owns_the_lock {
                    wakers.push(waker);
                }
            }
        }
        wakers.wake_all();
        woken
    }

    /// Wakes every waiting task and returns how many it woke.
    ///
    /// # Examples
    ///
    /// ```
    /// let cond = evloop::sync::Condition::new();
    /// assert_eq!(cond.notify_all(), 0);
    /// ```
    pub fn notify_all(&self) -> usize {
        self.notify(usize::MAX)
    }

    /// Number of tasks waiting to be notified.
    fn waiting(&self) -> usize {
        lock(&self.waiters).len()
    }
}

impl Default for Condition {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Condition")
            .field("locked", &self.lock.locked())
            .field("waiters", &self.waiting())
            .finish()
    }
}

/// The state of a waiting task in the condition's queue.
enum Notified {
    Not,
    /// Notified and queued for the lock: `None` when the lock was free and
    /// is its own already, else its key in the lock's queue.
    QueuedForLock(Option<WaiterKey>),
}

/// The future of [`Condition::wait`].
struct Wait<'a> {
    condition: &'a Condition,
    /// Released right after queueing, on the first poll.
    guard: Option<LockGuard<'a>>,
    phase: Phase<'a>,
}

enum Phase<'a> {
    Start,
    /// Waiting for a notification under this key.
    Queued(WaiterKey),
    /// Notified; waiting for the lock.
    Acquiring(AcquirePermit<'a>),
    Done,
}

impl<'a> Future for Wait<'a> {
    type Output = LockGuard<'a>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<LockGuard<'a>> {
        let this = self.get_mut();
        let condition = this.condition;
        loop {
            match &mut this.phase {
                Phase::Start => {
                    let key = lock(&condition.waiters).push_back(Notified::Not, cx.waker());
                    this.phase = Phase::Queued(key);
                    // Queued before the release: a notify made by whoever
                    // takes the lock next cannot be missed.
                    this.guard = None;
                    return Poll::Pending;
                }
                Phase::Queued(key) => {
                    let mut key_slot = Some(*key);
                    let polled = lock(&condition.waiters).poll_queued(&mut key_slot, cx.waker());
                    this.phase = match polled {
                        Poll::Pending => return Poll::Pending,
                        Poll::Ready(Notified::QueuedForLock(Some(permit))) => {
                            Phase::Acquiring(condition.lock.permits().resume(permit))
                        }
                        Poll::Ready(Notified::QueuedForLock(None)) => Phase::Done,
                        Poll::Ready(Notified::Not) => {
                            unreachable!("a waiter leaves the queue only once notified")
                        }
                    };
                }
                Phase::Acquiring(acquire) => {
                    if Pin::new(acquire).poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                    this.phase = Phase::Done;
                }
                Phase::Done => return Poll::Ready(condition.lock.owned_guard()),
            }
        }
    }
}

/// Takes a waiter out of the queue (the mutex is released on return).
fn remove_waiter(condition: &Condition, key: WaiterKey) -> Notified {
    lock(&condition.waiters).remove(key)
}

impl Drop for Wait<'_> {
    fn drop(&mut self) {
        let condition = self.condition;
        let passed_on = match std::mem::replace(&mut self.phase, Phase::Done) {
            Phase::Start | Phase::Done => return,
            Phase::Queued(key) => match remove_waiter(condition, key) {
                Notified::Not => return,
                Notified::QueuedForLock(Some(permit)) => condition.lock.permits().resume(permit),
                Notified::QueuedForLock(None) => {
                    drop(condition.lock.owned_guard());
                    condition.notify(1);
                    return;
                }
            },
            Phase::Acquiring(acquire) => acquire,
        };
        // Leaves the lock's queue, or passes on a lock handed to it.
        drop(passed_on);
        // A notification this waiter did not live to act on goes to the next.
        condition.notify(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_util::Probe;

    #[test]
    fn notify_one_wakes_only_the_oldest_waiter() {
        let cond = Condition::new();
        let mut first = Probe::new(cond.wait(cond.lock().try_lock().unwrap()));
        first.pending();
        let mut second = Probe::new(cond.wait(cond.lock().try_lock().unwrap()));
        second.pending();
        assert_eq!(cond.notify(1), 1);
        assert!(first.woken());
        assert!(!second.woken());
        drop(first.ready());
        second.pending();
    }
}
