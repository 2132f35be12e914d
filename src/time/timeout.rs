//! `timeout` and `wait_for`: bound a future by a deadline.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use super::TimeoutError;
use super::sleep::{Sleep, sleep, sleep_until};

/// Runs `future` with a time limit of `duration` (asyncio's
/// `asyncio.timeout`).
///
/// Resolves to `Ok(output)` if the future completes first, or to
/// `Err(TimeoutError)` once the deadline passes; in that case the future is
/// dropped, so its destructors have run, before the error is returned. If
/// both are ready at the same poll, the output wins. A zero duration still
/// polls the future once.
///
/// A [`Task`](crate::Task) given as the future is only a handle: dropping
/// it on timeout detaches the task, which keeps running. Pass
/// [`task.cancel_on_drop()`](crate::Task::cancel_on_drop) to have it
/// cancelled on timeout, as asyncio does.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// evloop::run(async {
///     let quick = async { 7 };
///     assert_eq!(evloop::timeout(Duration::from_secs(1), quick).await, Ok(7));
///
///     let slow = evloop::sleep(Duration::from_secs(60));
///     assert!(evloop::timeout(Duration::from_millis(2), slow).await.is_err());
/// });
/// ```
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    Timeout::new(future.into_future(), sleep(duration))
}

/// Like [`timeout`], with an absolute deadline.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
///
/// evloop::run(async {
///     let deadline = Instant::now() + Duration::from_millis(2);
///     let never = std::future::pending::<()>();
///     assert!(evloop::time::timeout_at(deadline, never).await.is_err());
///     assert!(Instant::now() >= deadline);
/// });
/// ```
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout::new(future.into_future(), sleep_until(deadline))
}

/// Waits for `future` for at most `duration` (asyncio's `wait_for`, with
/// its argument order); the same as [`timeout`] otherwise. A
/// [`Task`](crate::Task) given to it is detached on timeout, not cancelled,
/// unless it is given as [`task.cancel_on_drop()`](crate::Task::cancel_on_drop).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// evloop::run(async {
///     let answer = evloop::wait_for(async { 42 }, Duration::from_secs(1)).await;
///     assert_eq!(answer, Ok(42));
/// });
/// ```
pub fn wait_for<F: IntoFuture>(future: F, duration: Duration) -> Timeout<F::IntoFuture> {
    timeout(duration, future)
}

/// The future returned by [`timeout`], [`timeout_at`] and [`wait_for`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// evloop::run(async {
///     let bounded: evloop::time::Timeout<_> =
///         evloop::timeout(Duration::from_secs(1), async { "done" });
///     assert_eq!(bounded.deadline() > std::time::Instant::now(), true);
///     assert_eq!(bounded.await, Ok("done"));
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Timeout<F> {
    /// `None` once the future completed or was dropped at the deadline.
    future: Option<F>,
    sleep: Sleep,
}

impl<F> Timeout<F> {
    fn new(future: F, sleep: Sleep) -> Self {
        Timeout {
            future: Some(future),
            sleep,
        }
    }

    /// The instant at which the future is given up on.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    ///
    /// let deadline = Instant::now() + Duration::from_secs(1);
    /// let bounded = evloop::time::timeout_at(deadline, async {});
    /// assert_eq!(bounded.deadline(), deadline);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.sleep.deadline()
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, TimeoutError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is pinned structurally: it is never moved out of
        // `self` (it is only polled in place, or dropped in place through
        // `Pin::set`), and `Timeout` has no `Drop` impl and is `Unpin` only
        // when `F` is. `sleep` is `Unpin`, so it is not pinned at all.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above; `this.future` is never moved while pinned.
        let mut future = unsafe { Pin::new_unchecked(&mut this.future) };
        if let Some(inner) = future.as_mut().as_pin_mut() {
            if let Poll::Ready(output) = inner.poll(cx) {
                future.set(None);
                return Poll::Ready(Ok(output));
            }
        } else {
            panic!("`Timeout` polled after it completed");
        }
        match Pin::new(&mut this.sleep).poll(cx) {
            Poll::Ready(()) => {
                future.set(None);
                Poll::Ready(Err(TimeoutError::default()))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("deadline", &self.deadline())
            .field("completed", &self.future.is_none())
            .finish()
    }
}
