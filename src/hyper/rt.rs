//! hyper's runtime hooks on evloop: [`HyperExecutor`] spawns hyper's
//! background futures as tasks, [`HyperTimer`] gives hyper evloop's timers.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use crate::runtime::Handle;
use crate::time::Sleep;

/// hyper's `Executor` on an evloop loop: each future hyper hands over (an
/// HTTP/2 connection's streams, a client connection's driver) becomes a
/// detached task of the loop (hyper-util's `TokioExecutor` for evloop).
///
/// # Examples
///
/// ```
/// use hyper::rt::Executor;
///
/// evloop::run(async {
///     let answer = evloop::combinators::Promise::new();
///     let setter = answer.clone();
///     evloop::hyper::HyperExecutor::current().execute(async move {
///         setter.set_result(42).unwrap();
///     });
///     assert_eq!(answer.await.unwrap(), 42);
/// });
/// ```
#[derive(Debug, Clone)]
pub struct HyperExecutor {
    handle: Handle,
}

impl HyperExecutor {
    /// An executor that spawns onto the loop of `handle` (from any thread).
    ///
    /// # Examples
    ///
    /// ```
    /// let event_loop = evloop::EventLoop::new().unwrap();
    /// let _executor = evloop::hyper::HyperExecutor::new(event_loop.handle());
    /// ```
    pub fn new(handle: Handle) -> HyperExecutor {
        HyperExecutor { handle }
    }

    /// An executor that spawns onto the current loop.
    ///
    /// # Panics
    ///
    /// Panics outside an event loop.
    ///
    /// # Examples
    ///
    /// See [`HyperExecutor`].
    pub fn current() -> HyperExecutor {
        HyperExecutor::new(Handle::current())
    }
}

impl<F> ::hyper::rt::Executor<F> for HyperExecutor
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    fn execute(&self, future: F) {
        // The task is detached: hyper watches its futures itself.
        drop(self.handle.spawn(future));
    }
}

/// hyper's `Timer` on evloop's timers: its sleeps are [`evloop::time::Sleep`](crate::time::Sleep)
/// futures, and [`reset`](::hyper::rt::Timer::reset) moves a sleep's
/// deadline in place rather than allocating a new one (hyper-util's
/// `TokioTimer` for evloop). It is what hyper's timeouts, such as HTTP/1's
/// `header_read_timeout`, need.
///
/// A sleep belongs to the loop of the task that first polls it.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use hyper::rt::Timer;
///
/// evloop::run(async {
///     let timer = evloop::hyper::HyperTimer::new();
///     let mut sleep = timer.sleep(Duration::from_secs(60));
///     let soon = Instant::now() + Duration::from_millis(5);
///     timer.reset(&mut sleep, soon);
///     sleep.await;
///     assert!(Instant::now() >= soon);
/// });
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct HyperTimer {
    _private: (),
}

impl HyperTimer {
    /// A timer.
    ///
    /// # Examples
    ///
    /// See [`HyperTimer`].
    pub fn new() -> HyperTimer {
        HyperTimer { _private: () }
    }
}

impl ::hyper::rt::Timer for HyperTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(crate::time::sleep(duration))
    }

    fn sleep_until(&self, deadline: Instant) -> Pin<Box<dyn ::hyper::rt::Sleep>> {
        Box::pin(crate::time::sleep_until(deadline))
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn ::hyper::rt::Sleep>>, new_deadline: Instant) {
        match sleep.as_mut().downcast_mut_pin::<Sleep>() {
            Some(ours) => ours.get_mut().reset(new_deadline),
            // A sleep of another timer: replace it.
            None => *sleep = self.sleep_until(new_deadline),
        }
    }
}

impl ::hyper::rt::Sleep for Sleep {}
