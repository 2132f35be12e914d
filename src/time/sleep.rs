//! The `Sleep` future.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::reactor::{self, timer};

/// How far away "forever" is: `Duration::MAX` sleeps are clamped to this,
/// which is far enough never to be reached and near enough to add to an
/// `Instant` without overflow.
const FOREVER: Duration = Duration::from_secs(86_400 * 365 * 30);

/// Waits until `duration` has elapsed (asyncio's `sleep`).
///
/// The deadline is taken when `sleep` is called; the timer is registered
/// with the loop's reactor the first time the future is polled, so the
/// future may be created anywhere but must be awaited inside an event loop.
/// `Duration::MAX` (or any duration too large to add to now) sleeps
/// forever. A zero duration completes on the first poll without a timer;
/// use `yield_now` to give other tasks a turn.
///
/// # Panics
///
/// Polling it outside an event loop panics.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// evloop::run(async {
///     let start = Instant::now();
///     evloop::sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    let now = Instant::now();
    let deadline = now
        .checked_add(duration.min(FOREVER))
        .or_else(|| now.checked_add(FOREVER))
        .unwrap_or(now);
    Sleep::new(deadline)
}

/// Waits until `deadline` (like `sleep`, with an absolute deadline).
///
/// A deadline in the past completes on the first poll.
///
/// # Panics
///
/// Polling it outside an event loop panics.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// evloop::run(async {
///     let deadline = Instant::now() + Duration::from_millis(10);
///     evloop::sleep_until(deadline).await;
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep::new(deadline)
}

/// A future that completes at its deadline, returned by [`sleep`] and
/// [`sleep_until`].
///
/// It is `Unpin`, so it can be polled by `&mut` (for example in a loop with
/// [`Sleep::reset`]). Dropping it before the deadline removes its timer
/// from the reactor.
///
/// If the event loop shuts down while a `Sleep` waits, it completes at once,
/// so that nothing keeps waiting on a reactor that is gone.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// evloop::run(async {
///     let mut sleep = evloop::sleep(Duration::from_secs(60));
///     sleep.reset(Instant::now() + Duration::from_millis(5));
///     (&mut sleep).await;
///     assert!(sleep.is_elapsed());
/// });
/// ```
pub struct Sleep {
    deadline: Instant,
    /// The reactor the timer was registered with, kept to re-register
    /// after [`Sleep::reset`] without looking it up again.
    reactor: Option<reactor::Handle>,
    state: State,
}

enum State {
    /// No timer is registered (never polled, or reset).
    Idle,
    /// A timer is registered with the reactor.
    Registered(Arc<timer::TimerEntry>),
    /// The deadline has passed (or the reactor shut down).
    Elapsed,
}

impl Sleep {
    fn new(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            reactor: None,
            state: State::Idle,
        }
    }

    /// The instant at which the sleep completes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let deadline = Instant::now() + Duration::from_secs(1);
    /// assert_eq!(evloop::sleep_until(deadline).deadline(), deadline);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the sleep has completed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// evloop::run(async {
    ///     let mut sleep = evloop::sleep(Duration::from_millis(1));
    ///     assert!(!sleep.is_elapsed());
    ///     (&mut sleep).await;
    ///     assert!(sleep.is_elapsed());
    /// });
    /// ```
    pub fn is_elapsed(&self) -> bool {
        matches!(self.state, State::Elapsed)
    }

    /// Moves the deadline to `deadline`, whether or not the sleep has
    /// completed; it then completes at the new deadline.
    ///
    /// If the old timer was registered, the new one is registered at once
    /// with the same waker, so the waiting task is woken at the new deadline
    /// even if it does not poll the sleep in between.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// evloop::run(async {
    ///     let mut sleep = evloop::sleep(Duration::from_millis(1));
    ///     (&mut sleep).await;
    ///     let again = Instant::now() + Duration::from_millis(5);
    ///     sleep.reset(again);
    ///     (&mut sleep).await;
    ///     assert!(Instant::now() >= again);
    /// });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.deadline = deadline;
        let previous = std::mem::replace(&mut self.state, State::Idle);
        let State::Registered(entry) = previous else {
            return;
        };
        let waker = entry.take_waker();
        self.cancel(entry);
        if let (Some(waker), Some(reactor)) = (waker, self.reactor.clone()) {
            self.register(&reactor, &waker);
        }
    }

    /// Registers a timer for the deadline, to wake `waker`.
    fn register(&mut self, reactor: &reactor::Handle, waker: &std::task::Waker) {
        let tick = reactor.clock().deadline_tick(self.deadline);
        self.state = match reactor.register_timer(tick, waker) {
            Some(entry) => State::Registered(entry),
            // The reactor is gone: complete rather than wait forever.
            None => State::Elapsed,
        };
    }

    /// Withdraws a registered, unfired timer from the reactor.
    fn cancel(&self, entry: Arc<timer::TimerEntry>) {
        if entry.has_fired() {
            return;
        }
        entry.clear_waker();
        if let Some(reactor) = &self.reactor {
            reactor.push_timer_op(timer::TimerOp::Cancel(entry));
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            match &this.state {
                State::Elapsed => return Poll::Ready(()),
                State::Idle => {
                    if Instant::now() >= this.deadline {
                        this.state = State::Elapsed;
                        return Poll::Ready(());
                    }
                    let reactor = this.reactor.get_or_insert_with(reactor::current).clone();
                    this.register(&reactor, cx.waker());
                    if matches!(this.state, State::Registered(_)) {
                        return Poll::Pending;
                    }
                }
                State::Registered(entry) => {
                    if !entry.poll_fired(cx.waker()) {
                        return Poll::Pending;
                    }
                    let shut_down = this.reactor.as_ref().is_some_and(|r| r.is_shutdown());
                    if Instant::now() >= this.deadline || shut_down {
                        this.state = State::Elapsed;
                    } else {
                        // Fired before the deadline: only a deadline beyond
                        // the wheel's range does that. Register again.
                        this.state = State::Idle;
                    }
                }
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let State::Registered(entry) = std::mem::replace(&mut self.state, State::Idle) {
            self.cancel(entry);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline)
            .field("elapsed", &self.is_elapsed())
            .finish()
    }
}
