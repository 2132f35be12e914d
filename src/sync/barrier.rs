//! [`Barrier`]: asyncio's `Barrier` (Python 3.11), where a fixed number of
//! tasks wait for each other.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::loom::Mutex;
use crate::util::lock;
use crate::util::wait_list::{WaitList, WaiterKey, WakeList};

/// A meeting point for a fixed number of tasks, like `asyncio.Barrier`.
///
/// Each of the [`parties`](Barrier::parties) tasks calls [`wait`](Barrier::wait);
/// the first `parties - 1` are suspended, and the last one to arrive releases
/// them all. `wait` returns the task's arrival index, from `0` to
/// `parties - 1`; the last to arrive gets `parties - 1`. The barrier can then
/// be used again for the next round.
///
/// [`abort`](Barrier::abort) breaks the barrier: current and future waiters fail
/// with [`BrokenBarrierError`] until [`reset`](Barrier::reset). `reset` also
/// fails the tasks currently waiting and starts an empty round.
///
/// A task whose `wait` future is dropped (cancelled) before the barrier
/// released leaves the round, which then needs one more arrival, as in asyncio.
///
/// A `Barrier` is a handle: [`Clone`] gives another handle to the same barrier
/// (an `Arc` inside). It is `Send + Sync`.
///
/// Differences from asyncio:
/// - `abort` and `reset` take effect at once and need no `await`;
/// - asyncio makes tasks that arrive while the previous round is still
///   "draining" wait until every task of that round has resumed. Here a round
///   ends the moment its last task arrives, so the next round starts filling at
///   once; [`n_waiting`](Barrier::n_waiting) counts the tasks of the new round.
///
/// # Examples
///
/// ```
/// use evloop::sync::Barrier;
///
/// evloop::run(async {
///     let barrier = Barrier::new(3);
///     let tasks: Vec<_> = (0..3)
///         .map(|_| {
///             let barrier = barrier.clone();
///             evloop::spawn(async move { barrier.wait().await })
///         })
///         .collect();
///     let mut indexes = Vec::new();
///     for task in tasks {
///         indexes.push(task.await.unwrap().unwrap());
///     }
///     indexes.sort();
///     assert_eq!(indexes, vec![0, 1, 2]);
/// });
/// ```
#[derive(Clone)]
pub struct Barrier {
    parties: usize,
    state: Arc<Mutex<BarrierState>>,
}

struct BarrierState {
    /// Tasks waiting in the current round.
    count: usize,
    broken: bool,
    waiters: WaitList<Outcome>,
}

/// What a waiter learns when it is notified.
#[derive(Clone, Copy)]
enum Outcome {
    Waiting,
    Passed,
    Broken(BrokenReason),
}

impl Barrier {
    /// Creates a barrier for `parties` tasks.
    ///
    /// # Panics
    ///
    /// If `parties` is 0 (asyncio raises `ValueError`).
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = evloop::sync::Barrier::new(2);
    /// assert_eq!(barrier.parties(), 2);
    /// ```
    pub fn new(parties: usize) -> Self {
        assert!(parties > 0, "a Barrier needs at least one party, got 0");
        Self {
            parties,
            state: Arc::new(Mutex::new(BarrierState {
                count: 0,
                broken: false,
                waiters: WaitList::new(),
            })),
        }
    }

    /// Waits until `parties` tasks are waiting, then returns this task's arrival
    /// index (`0..parties`), or fails if the barrier is broken, or is aborted or
    /// reset while this task waits.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let barrier = evloop::sync::Barrier::new(1);
    ///     // One party: the barrier passes at once, every round.
    ///     assert_eq!(barrier.wait().await, Ok(0));
    ///     assert_eq!(barrier.wait().await, Ok(0));
    /// });
    /// ```
    pub fn wait(&self) -> impl Future<Output = Result<usize, BrokenBarrierError>> + Send + '_ {
        BarrierWait {
            barrier: self,
            index: 0,
            key: None,
        }
    }

    /// Puts the barrier into the broken state: every waiting task and every
    /// later [`wait`](Self::wait) fails with [`BrokenBarrierError`] until
    /// [`reset`](Self::reset).
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let barrier = evloop::sync::Barrier::new(2);
    ///     barrier.abort();
    ///     assert!(barrier.broken());
    ///     assert!(barrier.wait().await.is_err());
    /// });
    /// ```
    pub fn abort(&self) {
        self.fail_waiters(BrokenReason::Aborted, true);
    }

    /// Returns the barrier to its empty, unbroken state. Tasks waiting in the
    /// current round fail with [`BrokenBarrierError`].
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let barrier = evloop::sync::Barrier::new(1);
    ///     barrier.abort();
    ///     barrier.reset();
    ///     assert!(!barrier.broken());
    ///     assert_eq!(barrier.wait().await, Ok(0));
    /// });
    /// ```
    pub fn reset(&self) {
        self.fail_waiters(BrokenReason::Reset, false);
    }

    /// Number of tasks it takes to pass the barrier.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(evloop::sync::Barrier::new(5).parties(), 5);
    /// ```
    pub fn parties(&self) -> usize {
        self.parties
    }

    /// Number of tasks waiting in the current round (0 while broken).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(evloop::sync::Barrier::new(2).n_waiting(), 0);
    /// ```
    pub fn n_waiting(&self) -> usize {
        let state = lock(&self.state);
        if state.broken { 0 } else { state.count }
    }

    /// Whether the barrier is broken (aborted and not yet reset).
    ///
    /// # Examples
    ///
    /// ```
    /// let barrier = evloop::sync::Barrier::new(2);
    /// assert!(!barrier.broken());
    /// barrier.abort();
    /// assert!(barrier.broken());
    /// ```
    pub fn broken(&self) -> bool {
        lock(&self.state).broken
    }

    fn fail_waiters(&self, reason: BrokenReason, broken: bool) {
        let mut wakers = WakeList::new();
        {
            let mut state = lock(&self.state);
            state.broken = broken;
            state.count = 0;
            state
                .waiters
                .notify_all(|outcome| *outcome = Outcome::Broken(reason), &mut wakers);
        }
        wakers.wake_all();
    }
}

impl fmt::Debug for Barrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Barrier")
            .field("parties", &self.parties)
            .field("n_waiting", &state.count)
            .field("broken", &state.broken)
            .finish()
    }
}

/// Future of [`Barrier::wait`].
struct BarrierWait<'a> {
    barrier: &'a Barrier,
    index: usize,
    key: Option<WaiterKey>,
}

impl Future for BarrierWait<'_> {
    type Output = Result<usize, BrokenBarrierError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let mut state = lock(&this.barrier.state);
        let Some(key) = this.key else {
            if state.broken {
                return Poll::Ready(Err(BrokenBarrierError {
                    reason: BrokenReason::Aborted,
                }));
            }
            let index = state.count;
            if index + 1 == this.barrier.parties {
                // The last arrival releases the round and starts the next.
                state.count = 0;
                let mut wakers = WakeList::new();
                state
                    .waiters
                    .notify_all(|outcome| *outcome = Outcome::Passed, &mut wakers);
                drop(state);
                wakers.wake_all();
                return Poll::Ready(Ok(index));
            }
            state.count += 1;
            this.index = index;
            this.key = Some(state.waiters.push_back(Outcome::Waiting, cx.waker()));
            return Poll::Pending;
        };
        if state.waiters.is_linked(key) {
            state.waiters.update_waker(key, cx.waker());
            return Poll::Pending;
        }
        let outcome = state.waiters.remove(key);
        this.key = None;
        Poll::Ready(match outcome {
            Outcome::Passed => Ok(this.index),
            Outcome::Broken(reason) => Err(BrokenBarrierError { reason }),
            Outcome::Waiting => unreachable!("a notified barrier waiter always has an outcome"),
        })
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut state = lock(&self.barrier.state);
        if state.waiters.is_linked(key) {
            // Leaving before the round completed: it needs one more arrival.
            state.count -= 1;
        }
        state.waiters.remove(key);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BrokenReason {
    Aborted,
    Reset,
}

/// A [`Barrier`] was aborted, or reset while the task waited
/// (asyncio's `BrokenBarrierError`).
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let barrier = evloop::sync::Barrier::new(2);
///     barrier.abort();
///     let err = barrier.wait().await.unwrap_err();
///     assert!(!err.is_reset());
///     assert_eq!(err.to_string(), "the barrier was aborted; call reset() to use it again");
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BrokenBarrierError {
    reason: BrokenReason,
}

impl BrokenBarrierError {
    /// Whether the barrier was reset while the task waited (rather than aborted).
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let barrier = evloop::sync::Barrier::new(1);
    ///     barrier.abort();
    ///     assert!(!barrier.wait().await.unwrap_err().is_reset());
    /// });
    /// ```
    pub fn is_reset(&self) -> bool {
        self.reason == BrokenReason::Reset
    }
}

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.reason {
            BrokenReason::Aborted => {
                f.write_str("the barrier was aborted; call reset() to use it again")
            }
            BrokenReason::Reset => f.write_str("the barrier was reset while this task waited"),
        }
    }
}

impl Error for BrokenBarrierError {}
