//! `TaskGroup`: structured concurrency (asyncio 3.11's `TaskGroup`).
//!
//! The group's shared state counts the children that are not done yet,
//! keeps a `TaskRef` of each to cancel them, and collects the failures.
//!
//! - A child is counted *before* it is spawned (so `join` cannot finish
//!   while a spawn is half done), registered after, and uncounted by its
//!   task's done callback, whether it completed, was cancelled, or never
//!   ran. A task drops its future before it completes and runs its done
//!   callbacks, so when `join` or a scope resolves every child future has
//!   been dropped and every child's `Task` reads done, as asyncio waits for
//!   every child.
//! - A child's future is wrapped so that its panic is caught where it
//!   happens: the wrapper records the failure (with the original payload),
//!   cancels the siblings at once, wakes the joiner (a scope drops its body
//!   then), and re-raises a copy of the message so the child's own `Task`
//!   still ends in a panic.
//! - The phase goes Open -> Aborting (a child failed: spawning is refused,
//!   children are cancelled) -> Finished (joined or dropped).

use std::collections::HashMap;
use std::error::Error;
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::loom::Mutex;
use crate::runtime::Handle;
use crate::task::{Task, TaskBuilder, TaskError, TaskRef, current_task};
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
/// [`TaskGroup::scope`] is the closest form to asyncio's `async with
/// TaskGroup() as tg:` block: a child's failure also interrupts the block.
/// With `new` and `join`, the code between them is not interrupted.
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
        self.shared
            .spawn(&Handle::current(), TaskBuilder::new(), future)
    }

    /// Like [`spawn`](Self::spawn), naming the child (asyncio's
    /// `tg.create_task(coro, name=...)`); see [`TaskBuilder::name`].
    ///
    /// # Errors
    ///
    /// [`SpawnError`], as for [`spawn`](Self::spawn).
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
    ///     let child = group.spawn_named("fetch", async { 5 }).unwrap();
    ///     assert_eq!(child.name(), "fetch");
    ///     group.join().await.unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_named<F>(
        &self,
        name: impl Into<String>,
        future: F,
    ) -> Result<Task<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared
            .spawn(&Handle::current(), TaskBuilder::new().name(name), future)
    }

    /// Runs `body` as the block of a task group (asyncio's `async with
    /// TaskGroup() as tg:`) and resolves, once every child is done, to the
    /// body's value, or to a [`GroupError`] listing every child failure.
    ///
    /// `body` is given a [`GroupSpawner`] to spawn children with. The first
    /// child that fails cancels its siblings and drops the body at its next
    /// `.await` (its destructors run, as asyncio cancels the block), even
    /// if the body is waiting for something else entirely. A body that
    /// completes waits, as asyncio's block does at its end, for the children
    /// still running. The scope resolves only once every child's future has
    /// been dropped, so nothing a child borrowed or holds outlives it.
    ///
    /// A panic of the body cancels the children, and is resumed once they
    /// are all gone. Dropping the scope future before it resolves cancels
    /// the children still running without waiting for them.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// evloop::run(async {
    ///     // The body's value, once the children are done.
    ///     let total = evloop::TaskGroup::scope(|group| async move {
    ///         let a = group.spawn(async { 1 }).unwrap();
    ///         let b = group.spawn(async { 2 }).unwrap();
    ///         a.await.unwrap() + b.await.unwrap()
    ///     })
    ///     .await
    ///     .unwrap();
    ///     assert_eq!(total, 3);
    ///
    ///     // A failing child interrupts the body.
    ///     let error = evloop::TaskGroup::scope(|group| async move {
    ///         let _ = group.spawn(async { panic!("boom") });
    ///         evloop::sleep(Duration::from_secs(60)).await;
    ///         unreachable!("the body is dropped at its sleep");
    ///     })
    ///     .await
    ///     .unwrap_err();
    ///     assert_eq!(error.failures()[0].panic_message(), Some("boom"));
    /// });
    /// ```
    pub fn scope<B, Fut>(body: B) -> Scope<Fut>
    where
        B: FnOnce(GroupSpawner) -> Fut,
        Fut: Future,
    {
        let group = TaskGroup::new();
        let body = Box::pin(body(group.spawner()));
        Scope {
            group,
            body: Some(body),
            output: None,
            body_panic: None,
        }
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
        self.shared
            .spawn(&Handle::current(), TaskBuilder::new(), future)
    }

    /// Spawns a named child into the group (see [`TaskGroup::spawn_named`]).
    ///
    /// # Errors
    ///
    /// [`SpawnError`] when the group is shutting down after a failure, or
    /// has finished.
    ///
    /// # Panics
    ///
    /// Outside a loop, like [`spawn`](crate::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let names = evloop::TaskGroup::scope(|group| async move {
    ///         let child = group.spawn_named("worker-1", async {}).unwrap();
    ///         child.name().into_owned()
    ///     })
    ///     .await
    ///     .unwrap();
    ///     assert_eq!(names, "worker-1");
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_named<F>(
        &self,
        name: impl Into<String>,
        future: F,
    ) -> Result<Task<F::Output>, SpawnError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.shared
            .spawn(&Handle::current(), TaskBuilder::new().name(name), future)
    }
}

impl fmt::Debug for GroupSpawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.shared.fmt(f)
    }
}

impl GroupShared {
    #[track_caller]
    fn spawn<F>(
        self: &Arc<Self>,
        handle: &Handle,
        builder: TaskBuilder,
        future: F,
    ) -> Result<Task<F::Output>, SpawnError>
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
        let child = ChildFuture {
            future: Box::pin(future),
            group: self.clone(),
        };
        let task = builder.spawn_on(child, handle);
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

    /// Forgets and uncounts a complete child: its task is done, so its
    /// future was dropped before (a task drops its future, then completes,
    /// then runs its done callbacks). Wakes the joiner after the last one.
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
        let me = me.as_ref().map(TaskRef::id);
        let (siblings, joiner) = {
            let mut state = lock(&self.state);
            state.failures.push(failure);
            match state.phase {
                Phase::Open => self.abort(&mut state, me),
                _ => (Vec::new(), None),
            }
        };
        cancel_and_wake(siblings, joiner);
        copy
    }

    /// Moves an open group to Aborting: returns the children to cancel
    /// (all but `me`) and the joiner to wake (a scope drops its body).
    fn abort(&self, state: &mut GroupState, me: Option<u64>) -> (Vec<TaskRef>, Option<Waker>) {
        state.phase = Phase::Aborting;
        let children = state
            .children
            .iter()
            .filter(|(child, _)| Some(**child) != me)
            .map(|(_, task)| task.clone())
            .collect();
        (children, state.joiner.take())
    }

    /// Cancels every child (the body of a scope panicked).
    fn abort_all(&self) {
        let (children, _) = {
            let mut state = lock(&self.state);
            match state.phase {
                Phase::Open => self.abort(&mut state, None),
                _ => (state.children.values().cloned().collect(), None),
            }
        };
        cancel_and_wake(children, None);
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

/// Cancels `children` and wakes `joiner`, outside the group's lock.
fn cancel_and_wake(children: Vec<TaskRef>, joiner: Option<Waker>) {
    for child in children {
        child.cancel();
    }
    if let Some(joiner) = joiner {
        joiner.wake();
    }
}

/// A child's future, with its panic recorded by the group before it ends
/// the child's task. The group counts the child until the task's done
/// callback runs, so it sees the child gone only once its future was
/// dropped and its task is done.
struct ChildFuture<F> {
    future: Pin<Box<F>>,
    group: Arc<GroupShared>,
}

impl<F: Future> Future for ChildFuture<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match catch_unwind(AssertUnwindSafe(|| self.future.as_mut().poll(cx))) {
            Ok(polled) => polled,
            Err(payload) => resume_unwind(self.group.child_panicked(payload)),
        }
    }
}

/// The future of [`TaskGroup::scope`] (see there for an example).
#[must_use = "futures do nothing unless awaited; dropping the scope cancels the group's children"]
pub struct Scope<Fut: Future> {
    group: TaskGroup,
    /// `None` once it completed, or was dropped because a child failed.
    body: Option<Pin<Box<Fut>>>,
    output: Option<Fut::Output>,
    body_panic: Option<Box<dyn std::any::Any + Send>>,
}

impl<Fut: Future> Scope<Fut> {
    /// Polls the body unless a child failed; `true` once the body is gone.
    fn poll_body(&mut self, cx: &mut Context<'_>) -> bool {
        let Some(body) = &mut self.body else {
            return true;
        };
        match catch_unwind(AssertUnwindSafe(|| body.as_mut().poll(cx))) {
            Ok(Poll::Ready(output)) => self.output = Some(output),
            Ok(Poll::Pending) => {
                let mut state = lock(&self.group.shared.state);
                if state.phase == Phase::Open {
                    // A failing child wakes us through this waker.
                    store_waker(&mut state.joiner, cx.waker());
                    return false;
                }
            }
            Err(payload) => {
                self.body_panic = Some(payload);
                self.group.shared.abort_all();
            }
        }
        // Completed, panicked, or a child failed: drop the body now.
        self.body = None;
        true
    }
}

impl<Fut: Future> Future for Scope<Fut> {
    type Output = Result<Fut::Output, GroupError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // `Scope` is `Unpin`: the body is boxed.
        let this = self.get_mut();
        if !this.poll_body(cx) {
            return Poll::Pending;
        }
        let failures = match poll_joined(&this.group.shared, cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(failures) => failures,
        };
        if let Some(payload) = this.body_panic.take() {
            resume_unwind(payload);
        }
        Poll::Ready(match (failures, this.output.take()) {
            (failures, _) if !failures.is_empty() => Err(GroupError { failures }),
            (_, Some(output)) => Ok(output),
            (_, None) => panic!("`Scope` polled after it completed"),
        })
    }
}

impl<Fut: Future> Unpin for Scope<Fut> {}

impl<Fut: Future> fmt::Debug for Scope<Fut> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Scope")
            .field("group", &self.group)
            .field("body_running", &self.body.is_some())
            .finish()
    }
}

/// Stores `waker` unless the stored one wakes the same task.
fn store_waker(slot: &mut Option<Waker>, waker: &Waker) {
    match slot {
        Some(stored) if stored.will_wake(waker) => {}
        _ => *slot = Some(waker.clone()),
    }
}

/// Waits until no child future is left, then finishes the group and
/// returns its failures.
fn poll_joined(shared: &GroupShared, cx: &mut Context<'_>) -> Poll<Vec<TaskError>> {
    let mut state = lock(&shared.state);
    if state.running > 0 {
        store_waker(&mut state.joiner, cx.waker());
        return Poll::Pending;
    }
    state.phase = Phase::Finished;
    Poll::Ready(std::mem::take(&mut state.failures))
}

/// The future returned by [`TaskGroup::join`] (see there for an example).
#[must_use = "futures do nothing unless awaited; dropping the join cancels the group's children"]
pub struct Join {
    group: TaskGroup,
}

impl Future for Join {
    type Output = Result<(), GroupError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        poll_joined(&self.group.shared, cx).map(|failures| {
            if failures.is_empty() {
                Ok(())
            } else {
                Err(GroupError { failures })
            }
        })
    }
}

impl fmt::Debug for Join {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Join").field("group", &self.group).finish()
    }
}
