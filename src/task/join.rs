//! `Task<T>`: the handle of a spawned task (asyncio.Task).

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::raw::JoinRef;
use super::{TaskError, TaskRef};

/// A spawned task: awaiting it yields `Ok(value)`, or a [`TaskError`] when
/// the task was cancelled, panicked or refused by a closed loop.
///
/// Dropping a `Task` detaches it: the task keeps running and its output is
/// dropped when it completes (unlike asyncio, a background task is never lost
/// to garbage collection). Cancel it with [`cancel`](Task::cancel).
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let task = evloop::spawn(async { 6 * 7 });
///     assert_eq!(task.await.unwrap(), 42);
/// });
/// ```
#[must_use = "dropping a Task detaches it; await it to get its result"]
pub struct Task<T> {
    /// The handle's task reference, with the right to the output; the
    /// methods a `TaskRef` also has go through it.
    join: JoinRef<T>,
}

impl<T> Unpin for Task<T> {}

impl<T> Task<T> {
    pub(super) fn new(join: JoinRef<T>) -> Task<T> {
        Task { join }
    }

    fn task(&self) -> &TaskRef {
        self.join.task()
    }

    /// The task's unique id (also the number in its default name).
    pub fn id(&self) -> u64 {
        self.task().id()
    }

    /// The task's name: the one given to [`Builder::name`](super::Builder::name),
    /// or `"Task-<id>"`.
    pub fn name(&self) -> Cow<'_, str> {
        self.task().name()
    }

    /// True once the task finished: with a value, a panic, or cancelled.
    pub fn done(&self) -> bool {
        self.task().done()
    }

    /// True once the task finished because it was cancelled.
    pub fn cancelled(&self) -> bool {
        self.task().cancelled()
    }

    /// Requests cancellation: the future is dropped at its next suspension
    /// point (its destructors are its `finally`), on a worker of its loop,
    /// and awaiting the task yields a cancelled [`TaskError`].
    ///
    /// Returns false when the task had already finished. A future that
    /// completes in the poll that is running when `cancel` is called keeps
    /// its value.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// evloop::run(async {
    ///     let task = evloop::spawn(evloop::sleep(Duration::from_secs(3600)));
    ///     assert!(task.cancel());
    ///     assert!(task.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn cancel(&self) -> bool {
        self.task().cancel()
    }

    /// Registers a callback run once when the task finishes (on the thread
    /// that finishes it), or at once on this thread if it already finished.
    /// A panicking callback is contained.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::mpsc;
    /// evloop::run(async {
    ///     let (tx, rx) = mpsc::channel();
    ///     let task = evloop::spawn(async { 1 });
    ///     task.add_done_callback(move |t| tx.send(t.name().into_owned()).unwrap());
    ///     let id = task.id();
    ///     task.await.unwrap();
    ///     assert_eq!(rx.recv().unwrap(), format!("Task-{id}"));
    /// });
    /// ```
    pub fn add_done_callback<F>(&self, callback: F)
    where
        F: FnOnce(&TaskRef) + Send + 'static,
    {
        self.task().add_done_callback(callback);
    }

    /// The result without waiting: `None` while the task runs (asyncio's
    /// `Task.result()` raising `InvalidStateError`), or once the result was
    /// already taken by an earlier call or await.
    pub fn try_result(&mut self) -> Option<Result<T, TaskError>> {
        self.join.try_output()
    }

    /// A shareable reference to the task (id, name, state).
    pub fn task_ref(&self) -> TaskRef {
        self.task().clone()
    }

    /// True when the task finished with an error other than a cancellation
    /// (a panic, or a refusal by a closed loop) whose output was not taken
    /// yet: asyncio's `not t.cancelled() and t.exception() is not None`.
    pub(crate) fn failed(&self) -> bool {
        self.join.failed()
    }

    /// Waits until the task is done without taking its output.
    pub(crate) fn poll_done(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.join.poll_done(cx)
    }

    /// Turns the handle into one that cancels the task when it is dropped
    /// (tokio-util's `AbortOnDropHandle`). A plain `Task` detaches its task
    /// when dropped; this one makes the task's life end with the handle's,
    /// as asyncio's `wait_for`, `timeout` and `gather` cancel the tasks
    /// given to them when they give up on them.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// evloop::run(async {
    ///     let slow = evloop::spawn(evloop::sleep(Duration::from_secs(3600)));
    ///     let watched = slow.task_ref();
    ///     let timed_out = evloop::wait_for(slow.cancel_on_drop(), Duration::from_millis(5)).await;
    ///     assert!(timed_out.is_err());
    ///     // wait_for dropped the handle, which cancelled the task.
    ///     while !watched.done() {
    ///         evloop::yield_now().await;
    ///     }
    ///     assert!(watched.cancelled());
    /// });
    /// ```
    pub fn cancel_on_drop(self) -> CancelOnDrop<T> {
        CancelOnDrop { task: Some(self) }
    }
}

/// A [`Task`] handle that cancels its task when dropped, made by
/// [`Task::cancel_on_drop`]. Await it like the `Task`; reach the `Task`'s
/// other methods through it (it dereferences to the `Task`), or take the
/// `Task` back, detached again on drop, with
/// [`into_task`](CancelOnDrop::into_task).
#[must_use = "dropping a CancelOnDrop cancels its task"]
pub struct CancelOnDrop<T> {
    /// `None` only once [`into_task`](CancelOnDrop::into_task) took it.
    task: Option<Task<T>>,
}

impl<T> CancelOnDrop<T> {
    /// The `Task` back: dropping it detaches the task again.
    ///
    /// ```
    /// evloop::run(async {
    ///     let guarded = evloop::spawn(async { 1 }).cancel_on_drop();
    ///     let task: evloop::Task<i32> = guarded.into_task();
    ///     assert_eq!(task.await.unwrap(), 1);
    /// });
    /// ```
    pub fn into_task(mut self) -> Task<T> {
        self.task
            .take()
            .expect("the task is taken only by into_task")
    }
}

impl<T> std::ops::Deref for CancelOnDrop<T> {
    type Target = Task<T>;

    fn deref(&self) -> &Task<T> {
        self.task
            .as_ref()
            .expect("the task is taken only by into_task")
    }
}

impl<T> std::ops::DerefMut for CancelOnDrop<T> {
    fn deref_mut(&mut self) -> &mut Task<T> {
        self.task
            .as_mut()
            .expect("the task is taken only by into_task")
    }
}

impl<T> Future for CancelOnDrop<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut **self).poll(cx)
    }
}

impl<T> Drop for CancelOnDrop<T> {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.cancel();
        }
    }
}

impl<T> fmt::Debug for CancelOnDrop<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.task {
            Some(task) => task.task().debug_as("CancelOnDrop", f),
            None => f.write_str("CancelOnDrop(taken)"),
        }
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match std::task::ready!(self.join.poll_output(cx)) {
            Some(output) => Poll::Ready(output),
            None => panic!("`Task` polled after its result was taken"),
        }
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.task().debug_as("Task", f)
    }
}
