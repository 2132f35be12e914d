//! `shield`: await a task without letting the awaiter's cancellation reach
//! it.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use crate::task::{Task, TaskError};

/// Protects `task` from cancellation of whoever awaits it (asyncio's
/// `shield`).
///
/// Awaiting the returned [`Shield`] is awaiting the task: it yields the
/// task's result. Cancelling the shield ([`Shield::cancel`]), dropping it,
/// or cancelling the task that awaits it leaves the task running. If the
/// task itself is cancelled (through its [`TaskRef`](crate::TaskRef), for
/// example), the shield reads cancelled too.
///
/// Dropping a [`Task`] never cancels it in evloop, so `shield` is what keeps
/// a task alive when its handle is given to something that would cancel it,
/// and what turns the handle's [`cancel`](Task::cancel) into a cancellation
/// of the waiting alone.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let gate = evloop::Promise::new();
///     let task = evloop::spawn({
///         let gate = gate.clone();
///         async move { gate.await.unwrap() + 1 }
///     });
///     let inner = task.task_ref();
///     let outer = evloop::shield(task);
///     assert!(outer.cancel());
///     assert!(outer.await.unwrap_err().is_cancelled());
///     assert!(!inner.done(), "the shielded task keeps running");
///     gate.set_result(41).unwrap();
/// });
/// ```
pub fn shield<T>(task: Task<T>) -> Shield<T> {
    Shield {
        task,
        cancelled: AtomicBool::new(false),
    }
}

/// The future returned by [`shield`]: yields the task's result, or a
/// cancelled [`TaskError`] once the shield itself was cancelled.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let outer: evloop::combinators::Shield<u8> = evloop::shield(evloop::spawn(async { 3 }));
///     assert_eq!(outer.await.unwrap(), 3);
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Shield<T> {
    task: Task<T>,
    cancelled: AtomicBool,
}

impl<T> Shield<T> {
    /// Cancels the waiting, not the task (asyncio's `cancel()` on the outer
    /// future of a shield): from now on the shield yields a cancelled
    /// [`TaskError`], and the task runs on. Returns false when the task had
    /// already finished or the shield was already cancelled.
    ///
    /// Cancelling does not wake a task waiting on the shield: whoever
    /// cancels it is the one that polls it next.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let outer = evloop::shield(evloop::spawn(std::future::pending::<()>()));
    ///     assert!(outer.cancel());
    ///     assert!(!outer.cancel());
    ///     assert!(outer.cancelled());
    ///     assert!(!outer.into_inner().done());
    /// });
    /// ```
    pub fn cancel(&self) -> bool {
        !self.task.done() && !self.cancelled.swap(true, Ordering::AcqRel)
    }

    /// True once the shield was cancelled, or the task was.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let task = evloop::spawn(std::future::pending::<()>());
    ///     let inner = task.task_ref();
    ///     let outer = evloop::shield(task);
    ///     assert!(!outer.cancelled() && !outer.done());
    ///     inner.cancel();
    ///     assert!(outer.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire) || self.task.cancelled()
    }

    /// True once awaiting the shield no longer waits: it was cancelled, or
    /// the task finished.
    pub fn done(&self) -> bool {
        self.cancelled.load(Ordering::Acquire) || self.task.done()
    }

    /// The shielded task, back.
    pub fn into_inner(self) -> Task<T> {
        self.task
    }
}

impl<T> Future for Shield<T> {
    type Output = Result<T, TaskError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.cancelled.load(Ordering::Acquire) {
            return Poll::Ready(Err(TaskError::cancelled_untracked()));
        }
        Pin::new(&mut this.task).poll(cx)
    }
}

impl<T> fmt::Debug for Shield<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shield")
            .field("task", &self.task)
            .field("cancelled", &self.cancelled.load(Ordering::Acquire))
            .finish()
    }
}
