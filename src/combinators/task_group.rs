//! `TaskGroup`: structured concurrency (asyncio 3.11's `TaskGroup`).
//!
//! The group's shared state counts the children that have not completed,
//! keeps a `TaskRef` of each to cancel them, and collects the failures.
//!
//! - A child is counted *before* it is spawned (so `join` cannot finish
//!   while a spawn is half done), registered after, and uncounted by a done
//!   callback, which runs only once the task is complete. So when `join`
//!   resolves, every child is done.
//! - A child's future is wrapped so that its panic is caught where it
//!   happens: the wrapper records the failure (with the original payload),
//!   cancels the siblings at once, and re-raises a copy of the message so
//!   the child's own `Task` still ends in a panic.
//! - The phase goes Open -> Aborting (a child failed: spawning is refused,
//!   children are cancelled) -> Finished (joined or dropped).

use std::collections::HashMap;
use std::error::Error;
use std::fmt;
use std::future::{Future, poll_fn};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::loom::Mutex;
use crate::runtime::Handle;
use crate::task::{Task, TaskError, TaskRef, current_task};
use crate::util::lock;

/// A scope for tasks that succeed or fail together (asyncio's `TaskGroup`).
///
/// [`spawn`](TaskGroup::spawn) starts children; [`join`](TaskGroup::join)
/// waits until every child is done, including children spawned while it
/// waits, and reports every failure. The first child that panics makes the
/// group cancel all its other children and refuse new ones.
///
/// A child that is cancelled (by the group, or by anyone through its
/// handle) is not a failure, as in asyncio.
///
/// Differences from asyncio (which is used as `async with TaskGroup() as
/// tg:`): the end of the block is an explicit `join().await`; dropping the
/// group, or the `join` future, before every child finished cancels the
/// children still running (the group's owner is gone, so nobody could join
/// them); a child's failure is a panic, reported to `join` with its
/// original payload, while the child's own [`Task`] reports a panic with
/// the same message.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let group = evloop::TaskGroup::new();
///     let a = group.spawn(async { 1 }).unwrap();
///     let b = group.spawn(async { "two" }).unwrap();
///     group.join().await.unwrap();
///     assert_eq!(a.await.unwrap(), 1);
///     assert_eq!(b.await.unwrap(), "two");
/// });
/// ```
pub struct TaskGroup {
    shared: Arc<GroupShared>,
}

/// Spawns children into a [`TaskGroup`] from elsewhere, for example from
/// inside one of its children. Cheap to clone.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let group = evloop::TaskGroup::new();
///     let spawner = group.spawner();
///     let parent = group
///         .spawn(async move { spawner.spawn(async { 2 }).unwrap().await.unwrap() * 10 })
///         .unwrap();
///     group.join().await.unwrap();
///     assert_eq!(parent.await.unwrap(), 20);
/// });
/// ```
#[derive(Clone)]
pub struct GroupSpawner {
    shared: Arc<GroupShared>,
}

struct GroupShared {
    state: Mutex<GroupState>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Open,
    Aborting,
    Finished,
}

struct GroupState {
    phase: Phase,
    /// Children spawned (or being spawned) and not complete.
    running: usize,
    /// The children to cancel on failure, by task id.
    children: HashMap<u64, TaskRef>,
    failures: Vec<TaskError>,
    joiner: Option<Waker>,
}

/// [`TaskGroup::spawn`] refused a child: the group is shutting down after
/// a failure, or has finished.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let group = evloop::TaskGroup::new();
///     let spawner = group.spawner();
///     group.join().await.unwrap();
///     let refused = spawner.spawn(async {}).unwrap_err();
///     assert!(refused.is_finished());
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpawnError {
    phase: Phase,
}

impl SpawnError {
    /// True when the group has finished (joined or dropped); false when it
    /// is shutting down after a child failed.
    pub fn is_finished(&self) -> bool {
        self.phase == Phase::Finished
    }
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_finished() {
            f.write_str(
                "the task group has finished (it was joined or dropped); use a new TaskGroup",
            )
        } else {
            f.write_str("the task group is shutting down because a child failed; no new children are accepted")
        }
    }
}

impl Error for SpawnError {}

/// Every failure of a [`TaskGroup`]'s children, in the order they happened
/// (asyncio's `ExceptionGroup` from a task group).
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let group = evloop::TaskGroup::new();
///     let _ = group.spawn(async { panic!("first") });
///     let error = group.join().await.unwrap_err();
///     assert_eq!(error.failures().len(), 1);
///     assert_eq!(error.failures()[0].panic_message(), Some("first"));
///     assert!(error.to_string().contains("first"));
/// });
/// ```
#[derive(Debug)]
pub struct GroupError {
    failures: Vec<TaskError>,
}

impl GroupError {
    /// The failures, in the order they happened.
    pub fn failures(&self) -> &[TaskError] {
        &self.failures
    }

    /// The failures, owned (to resume a panic with
    /// [`TaskError::into_panic`], for example).
    pub fn into_failures(self) -> Vec<TaskError> {
        self.failures
    }
}

impl fmt::Display for GroupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.failures.len();
        write!(
            f,
            "{count} task{} of the group failed",
            if count == 1 { "" } else { "s" }
        )?;
        for (i, failure) in self.failures.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            fmt::Display::fmt(failure, f)?;
        }
        Ok(())
    }
}

impl Error for GroupError {}

impl TaskGroup {
    /// An empty, open group; it may be created outside a loop, its
    /// children are spawned on the loop current at each `spawn`.
    ///
    /// # Examples
    ///
    /// ```
    /// let group = evloop::TaskGroup::new();
    /// assert!(evloop::run(group.join()).is_ok());
    /// ```
    pub fn new() -> TaskGroup {
        TaskGroup {
            shared: Arc::new(GroupShared {
                state: Mutex::new(GroupState {
                    phase: Phase::Open,
                    running: 0,
                    children: HashMap::new(),
                    failures: Vec::new(),
                    joiner: None,
                }),
            }),
        }
    }

    /// Spawns `future` as a child on the current loop (asyncio's
    /// `tg.create_task`). The returned [`Task`] may be awaited, cancelled or
    /// dropped as usual; the group tracks the child either way.
    ///
    /// # Errors
    ///
    /// [`SpawnError`] when the group is shutting down after a failure, or
    /// has finished; `future` is dropped without running.
    ///
    /// # Panics
    ///
    /// Outside a loop, like [`spawn`](crate::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let group = evloop::TaskGroup::new();
    ///     let child = group.spawn(async { 5 }).unwrap();
    ///     group.join().await.unwrap();
    ///     assert!(child.done());
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Result<Task<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(&Handle::current(), future)
    }

    /// A [`GroupSpawner`] for this group (see there for an example).
    pub fn spawner(&self) -> GroupSpawner {
        GroupSpawner {
            shared: self.shared.clone(),
        }
    }

    /// Waits until every child is done, then resolves to `Ok(())`, or to a
    /// [`GroupError`] listing every child failure. The group is finished
    /// afterwards: spawning into it is refused.
    ///
    /// Dropping the returned future before it resolves drops the group,
    /// which cancels the children still running.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let group = evloop::TaskGroup::new();
    ///     let stuck = group.spawn(std::future::pending::<()>()).unwrap();
    ///     let _ = group.spawn(async { panic!("boom") });
    ///     let error = group.join().await.unwrap_err();
    ///     assert_eq!(error.failures().len(), 1);
    ///     assert!(stuck.await.unwrap_err().is_cancelled(), "the sibling was cancelled");
    /// });
    /// ```
    pub fn join(self) -> Join {
        Join { group: self }
    }
}

impl Default for TaskGroup {
    fn default() -> TaskGroup {
        TaskGroup::new()
    }
}

impl Drop for TaskGroup {
    fn drop(&mut self) {
        let children = {
            let mut state = lock(&self.shared.state);
            if state.phase == Phase::Finished {
                return;
            }
            state.phase = Phase::Finished;
            std::mem::take(&mut state.children)
        };
        children.values().for_each(|child| {
            child.cancel();
        });
    }
}

impl fmt::Debug for TaskGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shared.fmt(f)
    }
}

impl GroupSpawner {
    /// Spawns `future` into the group (see [`TaskGroup::spawn`]).
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let group = evloop::TaskGroup::new();
    ///     let spawner = group.spawner();
    ///     let child = spawner.spawn(async { 1 }).unwrap();
    ///     group.join().await.unwrap();
    ///     assert_eq!(child.await.unwrap(), 1);
    /// });
    /// ```
    ///
    /// # Errors
    ///
    /// [`SpawnError`] when the group is shutting down after a failure, or
    /// has finished.
    ///
    /// # Panics
    ///
    /// Outside a loop, like [`spawn`](crate::spawn).
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> Result<Task<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared.spawn(&Handle::current(), future)
    }
}

impl fmt::Debug for GroupSpawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shared.fmt(f)
    }
}

impl GroupShared {
    fn spawn<F>(self: &Arc<Self>, handle: &Handle, future: F) -> Result<Task<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        {
            let mut state = lock(&self.state);
            if state.phase != Phase::Open {
                return Err(SpawnError { phase: state.phase });
            }
            state.running += 1;
        }
        // No lock while spawning: on a closed loop the child completes (and
        // its wrapper is dropped) right here.
        let task = handle.spawn(run_child(self.clone(), future));
        let cancel_now = {
            let mut state = lock(&self.state);
            state.children.insert(task.id(), task.task_ref());
            // Aborted or dropped while we were spawning.
            state.phase != Phase::Open
        };
        if cancel_now {
            task.cancel();
        }
        let shared = self.clone();
        task.add_done_callback(move |child| shared.child_done(child.id()));
        Ok(task)
    }

    /// Uncounts a complete child; wakes `join` after the last one.
    fn child_done(&self, id: u64) {
        let joiner = {
            let mut state = lock(&self.state);
            state.children.remove(&id);
            state.running -= 1;
            if state.running > 0 {
                return;
            }
            state.joiner.take()
        };
        if let Some(joiner) = joiner {
            joiner.wake();
        }
    }

    /// Records a child's panic and cancels its siblings; returns the
    /// payload the child's task re-raises.
    fn child_panicked(
        &self,
        payload: Box<dyn std::any::Any + Send>,
    ) -> Box<dyn std::any::Any + Send> {
        let me = current_task();
        let (id, name) = me.as_ref().map_or((0, None), |task| {
            (task.id(), Some(task.name().into_owned()))
        });
        let failure = TaskError::panic(id, name.as_deref(), payload);
        let copy: Box<dyn std::any::Any + Send> = match failure.panic_message() {
            Some(message) => Box::new(message.to_owned()),
            None => Box::new(
                "a task group child panicked with a non-string payload (kept by the group)",
            ),
        };
        let siblings: Vec<TaskRef> = {
            let mut state = lock(&self.state);
            state.failures.push(failure);
            if state.phase == Phase::Open {
                state.phase = Phase::Aborting;
                state
                    .children
                    .iter()
                    .filter(|(child, _)| Some(**child) != me.as_ref().map(TaskRef::id))
                    .map(|(_, task)| task.clone())
                    .collect()
            } else {
                Vec::new()
            }
        };
        for sibling in siblings {
            sibling.cancel();
        }
        copy
    }
}

impl fmt::Debug for GroupShared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("TaskGroup")
            .field("phase", &state.phase)
            .field("running", &state.running)
            .field("failures", &state.failures.len())
            .finish()
    }
}

/// A child's future, with its panic recorded by the group before it ends
/// the child's task.
async fn run_child<F: Future>(group: Arc<GroupShared>, future: F) -> F::Output {
    let mut future = pin!(future);
    let polled = poll_fn(
        |cx| match catch_unwind(AssertUnwindSafe(|| future.as_mut().poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(value)) => Poll::Ready(Ok(value)),
            Err(payload) => Poll::Ready(Err(payload)),
        },
    )
    .await;
    match polled {
        Ok(value) => value,
        Err(payload) => resume_unwind(group.child_panicked(payload)),
    }
}

/// The future returned by [`TaskGroup::join`] (see there for an example).
#[must_use = "futures do nothing unless awaited; dropping the join cancels the group's children"]
pub struct Join {
    group: TaskGroup,
}

impl Future for Join {
    type Output = Result<(), GroupError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = lock(&self.group.shared.state);
        if state.running > 0 {
            match &state.joiner {
                Some(joiner) if joiner.will_wake(cx.waker()) => {}
                _ => state.joiner = Some(cx.waker().clone()),
            }
            return Poll::Pending;
        }
        state.phase = Phase::Finished;
        let failures = std::mem::take(&mut state.failures);
        Poll::Ready(if failures.is_empty() {
            Ok(())
        } else {
            Err(GroupError { failures })
        })
    }
}

impl fmt::Debug for Join {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join").field("group", &self.group).finish()
    }
}
