//! Spawning onto the current loop: [`spawn`], [`TaskBuilder`],
//! [`current_task`] and [`all_tasks`].
//!
//! The task system does not know the loops that run its tasks. It knows a
//! loop's scheduler as a [`Spawner`], which the scheduler implements, and
//! finds the current one in the thread's context, where
//! [`Handle::enter`](crate::Handle::enter) puts it.

use std::future::Future;
use std::sync::Arc as StdArc;

use super::list::TaskList;
use super::raw::Schedule;
use super::{Task, TaskRef, context};

/// A loop's scheduler, as the task system sees it when it spawns.
pub(crate) trait Spawner: Send + Sync + 'static {
    /// The scheduler that the task's wake-ups go to.
    fn schedule_target(self: StdArc<Self>) -> StdArc<dyn Schedule>;

    /// The loop's live-task list, which refuses new tasks once the loop
    /// is closed.
    fn tasks(&self) -> &TaskList;

    /// Every live task, in spawn order.
    fn all_tasks(&self) -> Vec<TaskRef> {
        self.tasks().snapshot()
    }
}

/// Allocates a task running `future`, links it into `spawner`'s live-task
/// list and queues its first run. On a closed loop the task is completed at
/// once with a "loop closed" error. The caller's caller is the spawn site
/// the task reports.
#[track_caller]
pub(crate) fn spawn_with<F>(
    spawner: StdArc<dyn Spawner>,
    future: F,
    name: Option<Box<str>>,
) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let scheduler = spawner.clone().schedule_target();
    let (task, first_run) = spawner.tasks().bind(future, name, scheduler.clone());
    if let Some(notified) = first_run {
        scheduler.schedule(notified);
    }
    task
}

/// The current loop's scheduler.
#[track_caller]
fn current_spawner() -> StdArc<dyn Spawner> {
    match context::with_current(|entered| entered.map(|entered| entered.scheduler.clone())) {
        Some(spawner) => spawner,
        None => context::no_current_loop(),
    }
}

/// Configures a task before spawning it (its name, for now). Named
/// `Builder` before; [`EventLoop::builder`](crate::EventLoop::builder)
/// configures a loop.
///
/// # Examples
///
/// ```
/// use evloop::task::TaskBuilder;
///
/// evloop::run(async {
///     let task = TaskBuilder::new().name("fetcher").spawn(async { 1 });
///     assert_eq!(task.name(), "fetcher");
///     assert_eq!(task.await.unwrap(), 1);
/// });
/// ```
#[derive(Debug, Default, Clone)]
pub struct TaskBuilder {
    name: Option<String>,
}

/// The old name of [`TaskBuilder`].
#[deprecated(
    since = "0.2.0",
    note = "renamed `TaskBuilder`, so that it is not confused with the loop's `evloop::Builder`"
)]
pub type Builder = TaskBuilder;

impl TaskBuilder {
    /// A builder for an unnamed task (`"Task-<id>"`).
    pub fn new() -> TaskBuilder {
        TaskBuilder::default()
    }

    /// Names the task (asyncio's `create_task(..., name=...)`).
    pub fn name(mut self, name: impl Into<String>) -> TaskBuilder {
        self.name = Some(name.into());
        self
    }

    /// Spawns the task on the current loop.
    ///
    /// # Panics
    ///
    /// Outside a loop (use [`spawn_on`](TaskBuilder::spawn_on) there).
    #[track_caller]
    pub fn spawn<F>(self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let spawner = current_spawner();
        spawn_with(spawner, future, self.into_name())
    }

    /// The task's name, as the task system stores it.
    pub(crate) fn into_name(self) -> Option<Box<str>> {
        self.name.map(String::into_boxed_str)
    }
}

/// Spawns a task on the current loop (asyncio's `create_task`).
///
/// The task starts running on a worker right away; await the returned
/// [`Task`] for its result, or drop it to let the task run detached.
///
/// # Panics
///
/// Outside a loop: use [`Handle::spawn`](crate::Handle::spawn) from other
/// threads.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let tasks: Vec<_> = (0..10).map(|i| evloop::spawn(async move { i * 2 })).collect();
///     let mut sum = 0;
///     for task in tasks {
///         sum += task.await.unwrap();
///     }
///     assert_eq!(sum, 90);
/// });
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> Task<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_with(current_spawner(), future, None)
}

/// The task being polled on this thread, if any (asyncio's
/// `current_task()`). The main future of
/// [`run_until_complete`](crate::EventLoop::run_until_complete) is not a
/// task: there it returns `None`.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let task = evloop::spawn(async { evloop::current_task().map(|t| t.id()) });
///     let id = task.id();
///     assert_eq!(task.await.unwrap(), Some(id));
/// });
/// ```
pub fn current_task() -> Option<TaskRef> {
    context::current_task()
}

/// Every task of the current loop that has not finished, in spawn order
/// (asyncio's `all_tasks()`). Empty outside a loop.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// evloop::run(async {
///     let sleeper = evloop::spawn(evloop::sleep(Duration::from_secs(3600)));
///     assert!(evloop::all_tasks().iter().any(|t| t.id() == sleeper.id()));
///     sleeper.cancel();
/// });
/// ```
pub fn all_tasks() -> Vec<TaskRef> {
    context::with_current(|entered| {
        entered
            .map(|entered| entered.scheduler.all_tasks())
            .unwrap_or_default()
    })
}
