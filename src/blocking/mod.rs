//! The blocking pool behind [`Handle::run_in_executor`] and [`to_thread`]
//! (asyncio's default `ThreadPoolExecutor`).
//!
//! Blocking closures run on threads of their own, named
//! `"<name>-blocking"`, so that the workers stay free for tasks. The pool
//! starts a thread when a job comes and none is free, up to
//! [`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads)
//! (more jobs wait in a queue); a thread left idle for the keep-alive
//! ([`Builder::thread_keep_alive`](crate::Builder::thread_keep_alive),
//! 10 s by default) exits.
//!
//! Each job is awaited through a [`Task`] of the loop, so it can be
//! cancelled, named in errors and passed wherever tasks go. Cancelling that
//! task before the job started means the job never starts; a job that is
//! running cannot be stopped (a thread cannot be interrupted), its result
//! is dropped when it ends.
//!
//! Closing the loop refuses queued jobs and waits for the running ones
//! (for at most the rest of the timeout given to
//! [`shutdown_timeout`](crate::EventLoop::shutdown_timeout)).

mod pool;

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

pub(crate) use pool::Pool;

use crate::runtime::Handle;
use crate::task::{Task, TaskError};

/// A closure and the channel its outcome goes back through.
struct BlockingJob<F, R> {
    work: F,
    sender: oneshot::Sender<Result<R, TaskError>>,
}

impl<F, R> pool::Job for BlockingJob<F, R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    fn run(self: Box<Self>) {
        let BlockingJob { work, sender } = *self;
        if sender.is_closed() {
            // The task waiting for it was cancelled before the job started.
            return;
        }
        let outcome = catch_unwind(AssertUnwindSafe(work)).map_err(TaskError::panic_untracked);
        let _ = sender.send(outcome);
    }

    fn refuse(self: Box<Self>) {
        let _ = self.sender.send(Err(TaskError::closed_untracked()));
    }
}

/// The future of the task that waits for a blocking job.
struct WaitForJob<R> {
    receiver: oneshot::Receiver<Result<R, TaskError>>,
}

impl<R> Future for WaitForJob<R> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<R> {
        match Pin::new(&mut self.receiver).poll(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Ok(Ok(value))) => Poll::Ready(value),
            // Re-raised here so that the task ends with a panic error
            // carrying the job's payload (`resume_unwind` does not run the
            // panic hook a second time).
            Poll::Ready(Ok(Err(err))) if err.is_panic() => resume_unwind(err.into_panic()),
            // The pool refused the job: the loop is closing, and its
            // shutdown drops this task (it reads as cancelled).
            Poll::Ready(_) => Poll::Pending,
        }
    }
}

impl Handle {
    /// Runs the blocking closure `work` on the loop's blocking pool, from
    /// any thread (asyncio's `loop.run_in_executor(None, work)`), and
    /// returns the [`Task`] that waits for it: awaiting it yields the
    /// closure's value, or a panic [`TaskError`] carrying the payload.
    ///
    /// Cancelling the task before the closure started means it never
    /// starts; a closure that is running cannot be stopped, its value is
    /// dropped when it returns. On a closed loop the task is already done
    /// with a "loop closed" error.
    ///
    /// The pool runs each closure on a thread named `"<name>-blocking"`,
    /// starting threads as needed up to
    /// [`Builder::max_blocking_threads`](crate::Builder::max_blocking_threads)
    /// (further closures wait their turn); a thread idle for
    /// [`Builder::thread_keep_alive`](crate::Builder::thread_keep_alive)
    /// exits. Closing the loop waits for the running closures (within the
    /// [`shutdown_timeout`](crate::EventLoop::shutdown_timeout), if one is
    /// given) and refuses the queued ones.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let handle = evloop::Handle::current();
    ///     let name = handle
    ///         .run_in_executor(|| std::thread::current().name().map(str::to_owned))
    ///         .await
    ///         .unwrap();
    ///     assert_eq!(name.as_deref(), Some("evloop-blocking"));
    /// });
    /// ```
    pub fn run_in_executor<F, R>(&self, work: F) -> Task<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let (sender, receiver) = oneshot::channel();
        let task = self.spawn_named(WaitForJob { receiver }, None);
        if !task.done() {
            self.inner
                .blocking
                .submit(Box::new(BlockingJob { work, sender }), self);
        }
        task
    }
}

/// Runs the blocking closure `work` on the current loop's blocking pool
/// (asyncio's `asyncio.to_thread`); see [`Handle::run_in_executor`].
///
/// # Panics
///
/// Outside a loop (use [`Handle::run_in_executor`] there).
///
/// # Examples
///
/// ```
/// let total = evloop::run(async {
///     evloop::to_thread(|| (1..=100).sum::<u64>()).await.unwrap()
/// });
/// assert_eq!(total, 5050);
/// ```
#[track_caller]
pub fn to_thread<F, R>(work: F) -> Task<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    Handle::current().run_in_executor(work)
}
