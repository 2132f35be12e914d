//! A task's done callbacks: the shared list (see `util::done`), closed
//! when the task completes, each callback given the task.

use super::TaskRef;
use crate::util;

/// A done callback.
pub(crate) type DoneCallback = util::DoneCallback<TaskRef>;

/// The list in every task's header.
pub(crate) type DoneCallbacks = util::DoneCallbacks<TaskRef>;

/// Runs a done callback, containing its panic: a failing callback must not
/// take down the worker or the other callbacks.
pub(crate) fn run_callback(callback: DoneCallback, task: &TaskRef) {
    util::run_done_callback(callback, task);
}
