//! One future of a `gather`: not started yet, running as a task, or
//! finished with its outcome.

use std::future::{Future, IntoFuture};
use std::sync::Arc;

use super::completions::Completions;
use crate::runtime::Handle;
use crate::task::{Task, TaskError};

/// One child of a `gather`. Dropping it while its task runs cancels the
/// task.
#[doc(hidden)]
pub enum Child<F: Future> {
    /// Created outside a loop: spawned at the gather's first poll.
    Unstarted(F),
    /// Running as a task.
    Running(Running<F::Output>),
    /// The task finished; its outcome waits to be collected.
    Finished(Result<F::Output, TaskError>),
    /// The outcome was handed out (or the child is being moved).
    Taken,
}

impl<F> Child<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    /// A child that runs `future`.
    pub fn new<I: IntoFuture<IntoFuture = F>>(future: I) -> Child<F> {
        Child::Unstarted(future.into_future())
    }

    /// Spawns the child on `handle` (if not yet) and watches it as `index`.
    pub(crate) fn start(&mut self, handle: &Handle, index: usize, completions: &Arc<Completions>) {
        if let Child::Unstarted(_) = self {
            let Child::Unstarted(future) = std::mem::replace(self, Child::Taken) else {
                unreachable!("checked above")
            };
            *self = Child::Running(Running(handle.spawn(future)));
        }
        if let Child::Running(Running(task)) = self {
            completions.watch(index, task);
        }
    }

    /// Collects the outcome of a child whose task was reported finished.
    /// With `fail_fast`, a failure is taken out and returned.
    pub(crate) fn settle(&mut self, fail_fast: bool) -> Option<TaskError> {
        let Child::Running(Running(task)) = self else {
            return None;
        };
        let outcome = task
            .try_result()
            .expect("a child is reported finished only once its task is done");
        match outcome {
            Err(error) if fail_fast => {
                *self = Child::Taken;
                Some(error)
            }
            outcome => {
                *self = Child::Finished(outcome);
                None
            }
        }
    }

    /// Requests cancellation of the child's task, if it is still running.
    pub(crate) fn cancel(&self) {
        if let Child::Running(Running(task)) = self {
            task.cancel();
        }
    }

    /// The collected outcome.
    pub(crate) fn take_outcome(&mut self) -> Result<F::Output, TaskError> {
        match std::mem::replace(self, Child::Taken) {
            Child::Finished(outcome) => outcome,
            _ => panic!("a gather hands out its outcomes once every child finished"),
        }
    }

    /// The collected value of a child that succeeded.
    pub(crate) fn take_value(&mut self) -> F::Output {
        match self.take_outcome() {
            Ok(value) => value,
            Err(_) => panic!("a failing child ends a fail-fast gather before values are taken"),
        }
    }
}

/// The task of a running child; dropping it cancels the task, which is how
/// dropping (or cancelling) a gather reaches its children.
#[doc(hidden)]
pub struct Running<T>(Task<T>);

impl<T> Drop for Running<T> {
    fn drop(&mut self) {
        self.0.cancel();
    }
}
