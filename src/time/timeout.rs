//! `timeout` and `wait_for`: bound a future by a deadline.
//!
//! # Nested timeouts
//!
//! When timeouts are nested and several have expired by the time the task
//! runs (the same deadline given twice, or a task that was kept from running
//! past both), asyncio reports the expiry from the outermost of them only:
//! the inner ones see a cancellation that is not theirs and let it through.
//! Here, while a `Timeout` polls its future, it publishes the earliest
//! deadline of itself and of every `Timeout` around it (in the thread's
//! context, as polling nests on one thread); an inner `Timeout` whose own deadline passed
//! defers (stays pending) when one around it has passed as well, so that one
//! reports. The outer timer is registered and has fired or will fire, so
//! deferring loses no wake-up.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use pin_project_lite::pin_project;

use super::TimeoutError;
use super::sleep::{Sleep, sleep, sleep_until};
use crate::task::context;

/// Publishes a `Timeout`'s deadline while it polls its future; restores
/// the previous one when dropped (also on unwind).
struct Enclosing(Option<Instant>);

impl Enclosing {
    fn enter(deadline: Instant) -> Enclosing {
        let previous = context::enclosing_deadline();
        context::replace_enclosing_deadline(Some(previous.map_or(deadline, |d| d.min(deadline))));
        Enclosing(previous)
    }

    /// Whether a `Timeout` around the caller has an expired deadline.
    fn has_expired() -> bool {
        context::enclosing_deadline().is_some_and(|deadline| deadline <= Instant::now())
    }
}

impl Drop for Enclosing {
    fn drop(&mut self) {
        context::replace_enclosing_deadline(self.0);
    }
}

/// Runs `future` with a time limit of `duration` (asyncio's
/// `asyncio.timeout`).
///
/// Resolves to `Ok(output)` if the future completes first, or to
/// `Err(TimeoutError)` once the deadline passes; in that case the future is
/// dropped, so its destructors have run, before the error is returned. If
/// both are ready at the same poll, the output wins. A zero duration still
/// polls the future once.
///
/// Nested timeouts behave as in asyncio: when an inner and an outer timeout
/// have both expired, the outermost reports it, so the error comes out at the
/// outer level of the result (`Err(_)`, not `Ok(Err(_))`).
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
/// use evloop::time::timeout_at;
///
/// evloop::run(async {
///     let deadline = Instant::now() + Duration::from_millis(2);
///     let never = std::future::pending::<()>();
///     assert!(timeout_at(deadline, never).await.is_err());
///     assert!(Instant::now() >= deadline);
///
///     // Nested, with one deadline: the outermost reports the expiry.
///     let deadline = Instant::now() + Duration::from_millis(2);
///     let nested = timeout_at(deadline, timeout_at(deadline, std::future::pending::<()>()));
///     assert!(nested.await.is_err());
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

pin_project! {
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
        // `None` once the future completed or was dropped at the deadline.
        #[pin]
        future: Option<F>,
        sleep: Sleep,
    }
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
        // `future` is pinned in place (polled there, or dropped there by
        // `set`); `sleep` is `Unpin`.
        let this = self.project();
        let mut future = this.future;
        let Some(inner) = future.as_mut().as_pin_mut() else {
            panic!("`Timeout` polled after it completed");
        };
        let polled = {
            let _enclosing = Enclosing::enter(this.sleep.deadline());
            inner.poll(cx)
        };
        if let Poll::Ready(output) = polled {
            future.set(None);
            return Poll::Ready(Ok(output));
        }
        match Pin::new(this.sleep).poll(cx) {
            // A timeout around this one expired too: it reports (see the
            // module docs); its timer wakes the task.
            Poll::Ready(()) if Enclosing::has_expired() => Poll::Pending,
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
