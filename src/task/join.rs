//! `Task<T>`: the handle of a spawned task (asyncio.Task).

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use super::done::run_callback;
use super::raw::{
    Header, Notified, drop_output_of, drop_references, header, output_is_failure, read_output,
};
use super::state::OnWake;
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
    raw: NonNull<Header>,
    _output: PhantomData<T>,
}

// SAFETY: the handle only moves the output (a T) across threads.
unsafe impl<T: Send> Send for Task<T> {}
// SAFETY: the methods taking &self only touch atomics and Sync data.
unsafe impl<T: Send> Sync for Task<T> {}

impl<T> Unpin for Task<T> {}

impl<T> Task<T> {
    /// # Safety
    /// `raw` must be a task whose output type is `T`, and the caller hands
    /// over the handle's reference (JOIN_INTEREST is set for it).
    pub(crate) unsafe fn from_raw(raw: NonNull<Header>) -> Task<T> {
        Task {
            raw,
            _output: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the handle owns a reference.
        unsafe { header(self.raw) }
    }

    /// The task's unique id (also the number in its default name).
    pub fn id(&self) -> u64 {
        self.header().id
    }

    /// The task's name: the one given to [`Builder::name`](super::Builder::name),
    /// or `"Task-<id>"`.
    pub fn name(&self) -> Cow<'_, str> {
        super::name_of(self.header())
    }

    /// True once the task finished: with a value, a panic, or cancelled.
    pub fn done(&self) -> bool {
        self.header().is_done()
    }

    /// True once the task finished because it was cancelled.
    pub fn cancelled(&self) -> bool {
        self.header().is_cancelled()
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
        cancel_task(self.raw)
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
        add_done_callback(self.raw, Box::new(callback));
    }

    /// The result without waiting: `None` while the task runs (asyncio's
    /// `Task.result()` raising `InvalidStateError`), or once the result was
    /// already taken by an earlier call or await.
    pub fn try_result(&mut self) -> Option<Result<T, TaskError>> {
        if !self.done() {
            return None;
        }
        self.take_output()
    }

    /// A shareable reference to the task (id, name, state).
    pub fn task_ref(&self) -> TaskRef {
        self.header().state.ref_inc();
        // SAFETY: we just took the reference the TaskRef owns.
        unsafe { TaskRef::from_raw(self.raw) }
    }

    fn take_output(&mut self) -> Option<Result<T, TaskError>> {
        let mut out: Option<Result<T, TaskError>> = None;
        // SAFETY: the task is complete, we are its handle and T is its output.
        unsafe { read_output(self.raw, (&raw mut out).cast()) };
        out
    }

    /// True when the task finished with an error other than a cancellation
    /// (a panic, or a refusal by a closed loop) whose output was not taken
    /// yet: asyncio's `not t.cancelled() and t.exception() is not None`.
    pub(crate) fn failed(&self) -> bool {
        // SAFETY: the output is only read once the task is complete, and we
        // are its handle; taking it needs `&mut self`, so it cannot happen
        // while this borrow lives.
        self.done() && unsafe { output_is_failure(self.raw) }
    }

    /// Waits until the task is done without taking its output.
    pub(crate) fn poll_done(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let header = self.header();
        let state = header.state.load();
        if state.is_complete() {
            return Poll::Ready(());
        }
        if state.has_join_waker() {
            // SAFETY: JOIN_WAKER is set, so only reads happen on the slot.
            if unsafe { header.join_waker_will_wake(cx.waker()) } {
                return Poll::Pending;
            }
            if !header.state.unset_join_waker() {
                return Poll::Ready(());
            }
        }
        // SAFETY: JOIN_WAKER is clear: the slot is ours to write.
        unsafe { header.set_join_waker(cx.waker().clone()) };
        if header.state.set_join_waker() {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

/// Cancels the task behind `raw` (see [`Task::cancel`]).
pub(crate) fn cancel_task(raw: NonNull<Header>) -> bool {
    // SAFETY: the caller holds a reference.
    let header = unsafe { header(raw) };
    let (not_done, action) = header.state.transition_to_cancelled();
    if action == OnWake::Submit {
        // SAFETY: the transition took a reference for the run queue.
        header
            .scheduler
            .schedule(unsafe { Notified::from_raw(raw) });
    }
    not_done
}

/// Adds a done callback to the task behind `raw`, or runs it now.
pub(crate) fn add_done_callback(raw: NonNull<Header>, callback: super::done::DoneCallback) {
    // SAFETY: the caller holds a reference.
    let header = unsafe { header(raw) };
    if let Err(callback) = header.done_callbacks.push(callback) {
        header.state.ref_inc();
        // SAFETY: we just took the reference the TaskRef owns.
        let task = unsafe { TaskRef::from_raw(raw) };
        run_callback(callback, &task);
    }
}

impl<T> Future for Task<T> {
    type Output = Result<T, TaskError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        std::task::ready!(self.poll_done(cx));
        match self.take_output() {
            Some(output) => Poll::Ready(output),
            None => panic!("`Task` polled after its result was taken"),
        }
    }
}

impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        if !self.header().state.unset_join_interested() {
            // Complete: the output is ours to drop.
            // SAFETY: COMPLETE with JOIN_INTEREST gives the handle the output.
            unsafe { drop_output_of(self.raw) };
        }
        // SAFETY: the handle's reference.
        unsafe { drop_references(self.raw, 1) };
    }
}

impl<T> fmt::Debug for Task<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task")
            .field("id", &self.id())
            .field("name", &self.name())
            .field("done", &self.done())
            .finish()
    }
}
