//! `as_completed`: the results of tasks in the order they finish.

use std::collections::VecDeque;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_core::Stream;

use super::completions::Completions;
use super::deadline::Deadline;
use crate::task::Task;
use crate::time::ResultTimeoutError;

/// The error of a step of [`as_completed`], under its old name.
#[deprecated(note = "renamed `evloop::ResultTimeoutError`, shared with \
            `ConcurrentFuture::result_timeout`; its `Task` variant is now `Failed`")]
pub type AsCompletedError = ResultTimeoutError;

/// The results of `tasks` in the order the tasks finish, as a
/// [`Stream`] (asyncio's `as_completed`).
///
/// Each step yields the result of the next task to finish: `Ok(value)`, or
/// [`ResultTimeoutError::Failed`] when it panicked or was cancelled. Once
/// `timeout` has passed, every remaining step yields
/// [`ResultTimeoutError::Timeout`] at once, and then the stream ends; the
/// tasks that had not finished are not cancelled (take them back with
/// [`AsCompleted::into_remaining`], or drop the stream to detach them), as
/// asyncio leaves them running.
///
/// Besides the `Stream` implementation, [`AsCompleted::next`] gives the
/// next step as a future, so no stream extension crate is needed.
///
/// Difference from asyncio: the steps yield results, not awaitables to
/// await (and not the tasks themselves, as asyncio 3.13's `async for`
/// does); a task's result is moved out of it when its step is yielded.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let slow_gate = evloop::Promise::new();
///     let slow = evloop::spawn({
///         let gate = slow_gate.clone();
///         async move { gate.await.unwrap() }
///     });
///     let fast = evloop::spawn(async { "fast" });
///     let mut results = evloop::as_completed([slow, fast], None);
///     assert_eq!(results.next().await.unwrap().unwrap(), "fast");
///     slow_gate.set_result("slow").unwrap();
///     assert_eq!(results.next().await.unwrap().unwrap(), "slow");
///     assert!(results.next().await.is_none());
/// });
/// ```
pub fn as_completed<T, I>(tasks: I, timeout: Option<Duration>) -> AsCompleted<T>
where
    I: IntoIterator<Item = Task<T>>,
{
    let tasks: Vec<Option<Task<T>>> = tasks.into_iter().map(Some).collect();
    AsCompleted {
        remaining: tasks.len(),
        tasks,
        deadline: Deadline::after(timeout),
        timed_out: false,
        completions: Completions::new(),
        watching: false,
        finished: VecDeque::new(),
        reported: Vec::new(),
    }
}

/// The stream returned by [`as_completed`]: see there.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let mut results: evloop::combinators::AsCompleted<u8> =
///         evloop::as_completed([evloop::spawn(async { 1 }), evloop::spawn(async { 1 })], None);
///     let mut sum = 0;
///     while let Some(result) = results.next().await {
///         sum += result.unwrap();
///     }
///     assert_eq!(sum, 2);
/// });
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<T> {
    /// The tasks whose result was not yielded yet.
    tasks: Vec<Option<Task<T>>>,
    /// Steps left to yield.
    remaining: usize,
    deadline: Deadline,
    timed_out: bool,
    completions: Arc<Completions>,
    watching: bool,
    /// Finished tasks whose result is yet to be yielded, in finishing order.
    finished: VecDeque<usize>,
    /// Reused buffer for the reported indices.
    reported: Vec<usize>,
}

impl<T> AsCompleted<T> {
    /// The next result in completion order, or `None` once every task's
    /// result (or timeout) was yielded.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let mut results = evloop::as_completed([evloop::spawn(async { 7 })], None);
    ///     assert_eq!(results.next().await.unwrap().unwrap(), 7);
    ///     assert!(results.next().await.is_none());
    /// });
    /// ```
    // Named like `StreamExt::next`, which it stands in for; an `Iterator`
    // (what the lint suggests) cannot wait.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Next<'_, T> {
        Next { stream: self }
    }

    /// How many steps are left.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let mut results = evloop::as_completed([evloop::spawn(async {})], None);
    ///     assert_eq!(results.len(), 1);
    ///     results.next().await;
    ///     assert!(results.is_empty());
    /// });
    /// ```
    pub fn len(&self) -> usize {
        self.remaining
    }

    /// True when no step is left.
    pub fn is_empty(&self) -> bool {
        self.remaining == 0
    }

    /// The tasks whose result was not yielded, in input order: still
    /// running, or finished but not yet reached.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let stuck = evloop::spawn(std::future::pending::<()>());
    ///     let results = evloop::as_completed([stuck], None);
    ///     let remaining = results.into_remaining();
    ///     assert!(remaining[0].cancel());
    /// });
    /// ```
    pub fn into_remaining(self) -> Vec<Task<T>> {
        self.tasks.into_iter().flatten().collect()
    }

    fn poll_step(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, ResultTimeoutError>>> {
        if self.remaining == 0 {
            return Poll::Ready(None);
        }
        if !self.watching {
            for (index, task) in self.tasks.iter_mut().enumerate() {
                if let Some(task) = task {
                    self.completions.watch(index, task);
                }
            }
            self.watching = true;
        }
        if !self.timed_out {
            if self
                .completions
                .poll_finished(cx, &mut self.reported)
                .is_ready()
            {
                self.finished.extend(self.reported.drain(..));
            }
            if self.finished.is_empty() {
                if self.deadline.poll_elapsed(cx).is_pending() {
                    return Poll::Pending;
                }
                self.timed_out = true;
            }
        }
        self.remaining -= 1;
        let Some(index) = self.finished.pop_front() else {
            return Poll::Ready(Some(Err(ResultTimeoutError::Timeout)));
        };
        let mut task = self.tasks[index]
            .take()
            .expect("each task is reported finished once");
        let result = task
            .try_result()
            .expect("a task is reported finished only once it is done");
        Poll::Ready(Some(result.map_err(ResultTimeoutError::Failed)))
    }
}

impl<T> Stream for AsCompleted<T> {
    type Item = Result<T, ResultTimeoutError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.get_mut().poll_step(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<T> fmt::Debug for AsCompleted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("remaining", &self.remaining)
            .field("timed_out", &self.timed_out)
            .finish()
    }
}

/// The future returned by [`AsCompleted::next`] (see there for an example).
#[must_use = "futures do nothing unless awaited"]
pub struct Next<'a, T> {
    stream: &'a mut AsCompleted<T>,
}

impl<T> Future for Next<'_, T> {
    type Output = Option<Result<T, ResultTimeoutError>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().stream.poll_step(cx)
    }
}

impl<T> fmt::Debug for Next<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Next")
            .field("stream", &self.stream)
            .finish()
    }
}
