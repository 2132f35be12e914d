//! Which task the current thread is polling, for `current_task()`.

use std::cell::Cell;
use std::ptr::NonNull;

use super::TaskRef;
use super::raw::{self, Header};
use crate::loom::thread_local_const;

thread_local_const! {
    static CURRENT_TASK: Cell<Option<NonNull<Header>>> = Cell::new(None);
}

/// Restores the previous current task when dropped.
pub(crate) struct EnterTask {
    previous: Option<NonNull<Header>>,
}

/// Marks `task` as the one this thread is polling.
pub(crate) fn enter_task(task: NonNull<Header>) -> EnterTask {
    EnterTask {
        previous: CURRENT_TASK.with(|current| current.replace(Some(task))),
    }
}

impl Drop for EnterTask {
    fn drop(&mut self) {
        CURRENT_TASK.with(|current| current.set(self.previous));
    }
}

/// A reference to the task this thread is polling.
pub(crate) fn current() -> Option<TaskRef> {
    let task = CURRENT_TASK.with(Cell::get)?;
    // SAFETY: the worker polling the task holds a reference for the whole
    // poll, and the pointer is only set during it (`EnterTask`).
    Some(unsafe { raw::new_ref(task) })
}
