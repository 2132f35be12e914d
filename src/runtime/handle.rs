//! `Handle`: the `Send + Sync` reference to a loop that any thread may hold.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{LoopInner, context};
use crate::task::{Task, TaskRef};

/// A reference to an event loop, cheap to clone, usable from any thread:
/// spawn tasks, stop the loop, and (see the bridge) submit work from plain
/// threads.
///
/// # Examples
///
/// ```
/// let lp = evloop::EventLoop::new().unwrap();
/// let handle = lp.handle();
/// let answer = std::thread::spawn(move || {
///     handle.spawn(async { 40 + 2 })
/// })
/// .join()
/// .unwrap();
/// assert_eq!(lp.run_until_complete(answer).unwrap(), 42);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) inner: Arc<LoopInner>,
}

impl Handle {
    /// The loop of the calling thread: inside a task, or inside
    /// [`run_until_complete`](crate::EventLoop::run_until_complete).
    ///
    /// # Panics
    ///
    /// Outside a loop, with a message saying so; use
    /// [`try_current`](Handle::try_current) to check.
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Some(handle) => handle,
            None => panic!(
                "there is no current evloop event loop: call this from a task or from inside \
                 EventLoop::run_until_complete / evloop::run, or pass a Handle to this thread"
            ),
        }
    }

    /// The loop of the calling thread, or `None` outside a loop.
    ///
    /// ```
    /// assert!(evloop::Handle::try_current().is_none());
    /// evloop::run(async { assert!(evloop::Handle::try_current().is_some()) });
    /// ```
    pub fn try_current() -> Option<Handle> {
        context::with_current(|handle| handle.cloned())
    }

    /// Spawns a task on this loop, from any thread (asyncio's
    /// `loop.create_task`). On a closed loop the returned task is already
    /// done with a "loop closed" [`TaskError`](crate::TaskError).
    pub fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.spawn_named(future, None)
    }

    /// The loop's reactor (IO and timers).
    pub(crate) fn reactor(&self) -> &crate::reactor::Handle {
        &self.inner.reactor
    }

    pub(crate) fn spawn_named<F>(&self, future: F, name: Option<Box<str>>) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.inner.scheduler.spawn(future, name)
    }

    /// Makes [`run_forever`](crate::EventLoop::run_forever) return (asyncio's
    /// `loop.stop()`). Tasks keep running on the workers; stopping is not
    /// closing. When the loop is not running, the next `run_forever` returns
    /// at once.
    pub fn stop(&self) {
        let mut stop = super::lock(&self.inner.stop_requested);
        *stop = true;
        self.inner.stop_signal.notify_all();
    }

    /// True while a thread is inside `run_forever` or `run_until_complete`.
    pub fn is_running(&self) -> bool {
        self.inner.drivers.load(Ordering::SeqCst) > 0
    }

    /// True once the loop was closed: new work is refused from then on.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.load(Ordering::SeqCst)
    }

    /// Every live task of this loop, in spawn order.
    pub(crate) fn all_tasks(&self) -> Vec<TaskRef> {
        self.inner.scheduler.all_tasks()
    }

    /// Runs `f` with this loop as the thread's current loop.
    pub(crate) fn enter(&self) -> context::EnterGuard {
        context::enter(self.clone())
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.inner.workers)
            .field("running", &self.is_running())
            .field("closed", &self.is_closed())
            .finish()
    }
}
