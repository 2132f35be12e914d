//! The blocking pool behind
//! [`Handle::run_in_executor`](crate::Handle::run_in_executor) and
//! [`to_thread`](crate::to_thread) (asyncio's default `ThreadPoolExecutor`).
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
//!
//! A job is user code end to end: its closure, the closure's destructor
//! (when the job is cancelled or refused before it started) and its
//! result's destructor (when the waiting task is gone) may all panic. The
//! pool contains each such panic where it calls the job, as the loop does
//! for callbacks, so its counts stay right and its threads live on.
//!
//! When the pool has no thread and the OS refuses to start one, the job
//! cannot run at all: its task ends with a [`TaskError`] whose
//! [`os_error`](TaskError::os_error) is the OS's error.

mod pool;

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

pub(crate) use pool::{Pool, Refusal};

use std::sync::Arc;

use crate::scheduler;
use crate::task::context::EnteredLoop;
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

    fn refuse(self: Box<Self>, why: Refusal) {
        let BlockingJob { work, sender } = *self;
        // The closure goes first: its destructor may panic (the pool
        // contains that), and the waiter must hear the refusal regardless.
        let _sent = SendOnDrop {
            sender: Some(sender),
            error: Some(why),
        };
        drop(work);
    }
}

/// Tells the job's waiter why the job will not run, when dropped: also when
/// the closure's destructor, dropped before it, unwinds.
struct SendOnDrop<R> {
    sender: Option<oneshot::Sender<Result<R, TaskError>>>,
    error: Option<Refusal>,
}

impl<R> Drop for SendOnDrop<R> {
    fn drop(&mut self) {
        if let (Some(sender), Some(why)) = (self.sender.take(), self.error.take()) {
            let error = match why {
                Refusal::LoopClosed => TaskError::closed_untracked(),
                Refusal::NoThread(err) => TaskError::no_thread_untracked(err),
            };
            let _ = sender.send(Err(error));
        }
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
            // The OS refused the thread the job needed: the task ends with
            // that error (nothing else would ever complete it).
            Poll::Ready(Ok(Err(err))) if err.os_error().is_some() => err.raise(),
            // The pool refused the job: the loop is closing, and its
            // shutdown drops this task (it reads as cancelled).
            Poll::Ready(_) => Poll::Pending,
        }
    }
}

/// Runs the blocking closure `work` on `pool` and returns the task, spawned
/// on `scheduler`, that waits for it. Pool threads started for it are in
/// the loop `entered`.
#[track_caller]
pub(crate) fn run_in_executor<F, R>(
    pool: &Pool,
    scheduler: &Arc<scheduler::Shared>,
    entered: impl FnOnce() -> EnteredLoop,
    work: F,
) -> Task<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let (job, receiver) = job(work);
    let task = scheduler.spawn(WaitForJob { receiver }, None);
    if !task.done() {
        pool.submit(job, entered);
    }
    task
}

/// The pool's job for the blocking closure `work`, and the channel its
/// outcome (or the pool's refusal) comes back through.
pub(crate) fn job<F, R>(work: F) -> (Box<dyn pool::Job>, JobOutcome<R>)
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let (sender, receiver) = oneshot::channel();
    (Box::new(BlockingJob { work, sender }), receiver)
}

/// Where a job's outcome arrives: its result, its panic, or why the pool
/// refused it.
pub(crate) type JobOutcome<R> = oneshot::Receiver<Result<R, TaskError>>;
