//! Tasks: futures scheduled on the loop's workers (asyncio's `Task`).
//!
//! # The task state machine
//!
//! A task is one heap allocation: a `Header` (an atomic state
//! word, the vtable, id, name, scheduler, done callbacks, join waker, and the
//! links of the live-task list) followed by the future, which is replaced by
//! its output when it completes. The state word holds six flags and a
//! reference count; every transition is one CAS named for what it means
//! (`state.rs`).
//!
//! Flags: SCHEDULED (in a run queue, or due back in one), RUNNING (a worker
//! owns the future), COMPLETE (the future is gone, the outcome stored),
//! CANCELLED (cancel requested; with COMPLETE: the outcome is a
//! cancellation), JOIN_INTEREST (the `Task<T>` handle lives), JOIN_WAKER
//! (the join waker slot is published).
//!
//! References are held by: the `Task<T>` handle, the live-task list (until
//! completion), each run-queue entry (`Notified`), each `Waker`, each
//! `TaskRef`. The last one to go frees the allocation.
//!
//! The rules:
//!
//! 1. **Who touches the future.** Only the thread that set RUNNING (a worker
//!    in `transition_to_running`, or loop shutdown in
//!    `transition_to_shutdown`) may poll or drop the future, until it clears
//!    RUNNING (back to idle) or sets COMPLETE. Nobody else ever reads it.
//! 2. **A wake** of an *idle* task (no SCHEDULED, RUNNING or COMPLETE) sets
//!    SCHEDULED and pushes it to a run queue with one reference. A wake of a
//!    *running* task only sets SCHEDULED: when the poll returns `Pending`,
//!    the runner sees it and re-queues the task itself, behind the others,
//!    so the task is polled exactly once more however many wakes arrived. A
//!    wake of a *scheduled* or *completed* task does nothing.
//! 3. **Cancel** of an idle task sets CANCELLED and SCHEDULED and queues it:
//!    a worker then drops the future instead of polling it. Of a scheduled
//!    task: sets CANCELLED, and the worker that runs it drops the future. Of
//!    a running task: sets CANCELLED, and the runner drops the future when
//!    the poll returns `Pending` (if the poll returns `Ready`, the value
//!    wins and CANCELLED is cleared). Of a completed task: nothing, returns
//!    false. Either way the future is dropped exactly once, on a worker.
//! 4. **Completion** stores the outcome, then sets COMPLETE in one step that
//!    reads JOIN_INTEREST and JOIN_WAKER: without interest the completer
//!    drops the output; with a published waker it wakes it. Then it runs the
//!    done callbacks and leaves the live-task list.
//! 5. **The join waker** slot belongs to the handle while JOIN_WAKER is
//!    clear: only the handle writes it, and only then. While JOIN_WAKER is
//!    set the slot is read-only and two parties read it: the handle (to see
//!    whether the waker it holds would wake the same task, and then skip the
//!    update) and the completer (to wake it, when its COMPLETE transition
//!    found the flag set). To replace the waker the handle first clears the
//!    flag, which fails once COMPLETE is set; the flag is never cleared after
//!    that, so the completer's read never races a write. The slot's waker is
//!    dropped with the task.
//! 6. **Dropping the handle** clears JOIN_INTEREST unless COMPLETE is
//!    already set, in which case the handle drops the output itself. So the
//!    output is dropped exactly once, by whoever comes second.
//! 7. A **panic** in `poll` (or in the future's destructor) is caught and
//!    becomes the task's outcome; the worker carries on.

pub(crate) mod context;
mod done;
mod error;
pub(crate) mod info;
mod join;
pub(crate) mod list;
mod raw;
mod spawn;
mod state;
mod waker;

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pub use error::TaskError;
pub use info::{TaskInfo, TaskState};
pub use join::{CancelOnDrop, Task};
pub(crate) use raw::{Notified, Schedule};
#[allow(deprecated)]
pub use spawn::Builder;
pub(crate) use spawn::{Spawner, spawn_with};
pub use spawn::{TaskBuilder, all_tasks, current_task, spawn};

use crate::loom::{AtomicU64, Ordering};
use done::run_callback;
use raw::{Header, RawRef};

/// Hands out task ids; the first task is "Task-1", as in asyncio.
#[cfg(not(loom))]
static NEXT_TASK_ID: AtomicU64 = AtomicU64::new(1);

// Under loom the counter restarts with every explored execution: ids pick
// the live-task list's shard, and an id that kept growing across executions
// would make the same schedule lock different shards, which loom cannot
// replay.
#[cfg(loom)]
loom::lazy_static! {
    static ref NEXT_TASK_ID: AtomicU64 = AtomicU64::new(1);
}

pub(crate) fn next_task_id() -> u64 {
    NEXT_TASK_ID.fetch_add(1, Ordering::Relaxed)
}

pub(crate) fn default_name(id: u64) -> String {
    format!("Task-{id}")
}

fn name_of(header: &Header) -> Cow<'_, str> {
    match &header.name {
        Some(name) => Cow::Borrowed(name),
        None => Cow::Owned(default_name(header.id)),
    }
}

/// A snapshot of a task's figures, `now` being [`info::now_stamp`].
fn info_of(header: &Header, now: u64) -> TaskInfo {
    let state = header.state.load();
    let state = if state.is_complete() {
        TaskState::Complete
    } else if state.is_running() {
        TaskState::Running
    } else if state.is_scheduled() {
        TaskState::Scheduled
    } else {
        TaskState::Idle
    };
    TaskInfo::read(
        header.id,
        name_of(header).into_owned(),
        state,
        &header.stats,
        now,
    )
}

/// A reference to a task that does not own its result: what
/// [`current_task`], [`all_tasks`] and done callbacks give you.
///
/// Keeping a `TaskRef` keeps the task's bookkeeping (not its future) alive.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let task = evloop::task::TaskBuilder::new()
///         .name("worker")
///         .spawn(async { evloop::current_task().unwrap().name().into_owned() });
///     assert_eq!(task.await.unwrap(), "worker");
/// });
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct TaskRef {
    /// One counted reference; `raw.rs` holds its unsafe.
    raw: RawRef,
}

impl TaskRef {
    fn header(&self) -> &Header {
        self.raw.header()
    }

    /// The task's unique id.
    pub fn id(&self) -> u64 {
        self.header().id
    }

    /// The task's name (see [`Task::name`]).
    pub fn name(&self) -> Cow<'_, str> {
        name_of(self.header())
    }

    /// True once the task finished.
    pub fn done(&self) -> bool {
        self.header().is_done()
    }

    /// True once the task finished because it was cancelled.
    pub fn cancelled(&self) -> bool {
        self.header().is_cancelled()
    }

    /// The task's spawn site, state and poll figures right now.
    pub(crate) fn info(&self, now: u64) -> TaskInfo {
        info_of(self.header(), now)
    }

    /// Requests cancellation (see [`Task::cancel`]).
    pub fn cancel(&self) -> bool {
        self.raw.cancel()
    }

    /// Registers a done callback (see [`Task::add_done_callback`]).
    pub fn add_done_callback<F>(&self, callback: F)
    where
        F: FnOnce(&TaskRef) + Send + 'static,
    {
        if let Err(callback) = self.header().done_callbacks.push(Box::new(callback)) {
            run_callback(callback, self);
        }
    }

    /// Drops the future of a task taken from the live-task list at loop
    /// shutdown; consumes the list's reference.
    pub(crate) fn shutdown(self) {
        self.raw.shutdown();
    }

    /// The `Debug` output of a task handle named `handle`.
    fn debug_as(&self, handle: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(handle)
            .field("id", &self.id())
            .field("name", &self.name())
            .field("done", &self.done())
            .finish()
    }
}

impl fmt::Debug for TaskRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.debug_as("TaskRef", f)
    }
}

/// Lets the other tasks run: the current task goes behind every task that is
/// ready (asyncio's `await asyncio.sleep(0)`).
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     for _ in 0..3 {
///         evloop::yield_now().await;
///     }
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
