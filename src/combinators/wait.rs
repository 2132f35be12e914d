//! `wait`: wait for tasks until a condition, and split them into done and
//! pending.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::completions::Completions;
use super::deadline::Deadline;
use crate::task::Task;

/// When [`wait`] returns (asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION`,
/// `ALL_COMPLETED`).
///
/// # Examples
///
/// ```
/// use evloop::ReturnWhen;
/// assert_ne!(ReturnWhen::FirstCompleted, ReturnWhen::AllCompleted);
/// assert_eq!(ReturnWhen::default(), ReturnWhen::AllCompleted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum ReturnWhen {
    /// As soon as any task finishes (with a value, a panic or cancelled).
    FirstCompleted,
    /// As soon as any task finishes with a failure that is not a
    /// cancellation (a panic, or a loop closed before the task ran), or when every
    /// task finished. A cancelled task does not count as a failure, as in
    /// asyncio.
    FirstException,
    /// When every task finished.
    #[default]
    AllCompleted,
}

/// [`wait`] was given no tasks (asyncio raises `ValueError`).
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let none: Vec<evloop::Task<()>> = Vec::new();
///     let error = evloop::wait(none, evloop::ReturnWhen::AllCompleted, None)
///         .await
///         .unwrap_err();
///     assert!(error.to_string().contains("no tasks"));
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EmptyWaitError(());

impl fmt::Display for EmptyWaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("wait was given no tasks: pass at least one task to wait for")
    }
}

impl Error for EmptyWaitError {}

/// Waits for `tasks` until `return_when` is met or `timeout` passes, and
/// resolves to `(done, pending)`: the tasks that had finished at that
/// moment and those that had not (asyncio's `wait`).
///
/// It never cancels anything and never fails on timeout: when the time is
/// up it resolves with whatever is done. Both lists keep the input order
/// (asyncio returns sets). Take each result from a done task with
/// [`Task::try_result`] or by awaiting it, and pass the pending ones to the
/// next `wait`.
///
/// The tasks are moved into the returned future: dropping it before it
/// resolves drops them, which detaches them (they keep running, as every
/// dropped [`Task`] does).
///
/// # Errors
///
/// [`EmptyWaitError`] when `tasks` is empty.
///
/// # Examples
///
/// ```
/// use evloop::ReturnWhen;
///
/// evloop::run(async {
///     let quick = evloop::spawn(async { 1 });
///     let stuck = evloop::spawn(std::future::pending::<i32>());
///     let (mut done, pending) = evloop::wait([quick, stuck], ReturnWhen::FirstCompleted, None)
///         .await
///         .unwrap();
///     assert_eq!(done[0].try_result().unwrap().unwrap(), 1);
///     assert_eq!(pending.len(), 1);
///     pending[0].cancel();
/// });
/// ```
pub fn wait<T, I>(tasks: I, return_when: ReturnWhen, timeout: Option<Duration>) -> Wait<T>
where
    I: IntoIterator<Item = Task<T>>,
{
    let tasks: Vec<Task<T>> = tasks.into_iter().collect();
    Wait {
        unfinished: tasks.len(),
        tasks,
        return_when,
        deadline: Deadline::after(timeout),
        completions: Completions::new(),
        watching: false,
        finished: Vec::new(),
    }
}

/// The future returned by [`wait`]: resolves to `(done, pending)`.
///
/// # Examples
///
/// ```
/// use evloop::ReturnWhen;
///
/// evloop::run(async {
///     let tasks = (0..3).map(|i| evloop::spawn(async move { i }));
///     let waiting: evloop::combinators::Wait<i32> = evloop::wait(tasks, ReturnWhen::AllCompleted, None);
///     let (done, pending) = waiting.await.unwrap();
///     assert_eq!((done.len(), pending.len()), (3, 0));
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<T> {
    tasks: Vec<Task<T>>,
    return_when: ReturnWhen,
    deadline: Deadline,
    completions: Arc<Completions>,
    watching: bool,
    /// Tasks whose completion was not reported yet.
    unfinished: usize,
    /// Reused buffer for the reported indices.
    finished: Vec<usize>,
}

impl<T> Wait<T> {
    /// Whether the reported completions meet the condition.
    fn condition_met(&mut self) -> bool {
        let mut met = false;
        for &index in &self.finished {
            self.unfinished -= 1;
            met |= match self.return_when {
                ReturnWhen::FirstCompleted => true,
                ReturnWhen::FirstException => self.tasks[index].failed(),
                ReturnWhen::AllCompleted => false,
            };
        }
        self.finished.clear();
        met || self.unfinished == 0
    }

    /// Splits the tasks into those done now and the others.
    fn split(&mut self) -> (Vec<Task<T>>, Vec<Task<T>>) {
        std::mem::take(&mut self.tasks)
            .into_iter()
            .partition(|task| task.done())
    }
}

impl<T> Future for Wait<T> {
    type Output = Result<(Vec<Task<T>>, Vec<Task<T>>), EmptyWaitError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if !this.watching {
            if this.tasks.is_empty() {
                return Poll::Ready(Err(EmptyWaitError(())));
            }
            for (index, task) in this.tasks.iter_mut().enumerate() {
                this.completions.watch(index, task);
            }
            this.watching = true;
        }
        while this
            .completions
            .poll_finished(cx, &mut this.finished)
            .is_ready()
        {
            if this.condition_met() {
                return Poll::Ready(Ok(this.split()));
            }
        }
        if this.deadline.poll_elapsed(cx).is_ready() {
            return Poll::Ready(Ok(this.split()));
        }
        Poll::Pending
    }
}

impl<T> fmt::Debug for Wait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("tasks", &self.tasks.len())
            .field("return_when", &self.return_when)
            .field("unfinished", &self.unfinished)
            .finish()
    }
}
