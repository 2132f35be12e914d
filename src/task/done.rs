//! Done callbacks: a lock-free list that is closed exactly once, when the
//! task completes.
//!
//! The list is a `raw::ClosableStack`: `push` links a node at the head with
//! a CAS; `close_and_run` swaps the head for the CLOSED marker and runs what it took, oldest first. A push that
//! finds the marker gets its callback back and runs it at once. So each
//! callback runs exactly once: either the completer took it, or its adder saw
//! the list closed.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::TaskRef;
use super::raw::ClosableStack;

/// A done callback.
pub(crate) type DoneCallback = Box<dyn FnOnce(&TaskRef) + Send>;

pub(crate) struct DoneCallbacks {
    list: ClosableStack<DoneCallback>,
}

impl DoneCallbacks {
    pub(crate) fn new() -> DoneCallbacks {
        DoneCallbacks {
            list: ClosableStack::new(),
        }
    }

    /// Adds a callback; gives it back when the task already completed.
    pub(crate) fn push(&self, callback: DoneCallback) -> Result<(), DoneCallback> {
        self.list.push(callback)
    }

    /// Closes the list and runs every callback in the order they were added.
    /// A panicking callback does not stop the others.
    pub(crate) fn close_and_run(&self, task: &TaskRef) {
        for callback in self.list.close() {
            run_callback(callback, task);
        }
    }

    /// Whether the list was closed (the task completed).
    #[cfg(test)]
    fn is_closed(&self) -> bool {
        self.list.is_closed()
    }
}

/// Runs a done callback, containing its panic: a failing callback must not
/// take down the worker or the other callbacks.
pub(crate) fn run_callback(callback: DoneCallback, task: &TaskRef) {
    let _ = catch_unwind(AssertUnwindSafe(|| callback(task)));
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn push_after_close_gives_the_callback_back() {
        let list = DoneCallbacks::new();
        assert!(list.push(Box::new(|_| {})).is_ok());
        assert!(!list.is_closed());
        let closed = DoneCallbacks::new();
        assert!(closed.list.close().is_empty());
        assert!(closed.is_closed());
        assert!(closed.push(Box::new(|_| {})).is_err());
    }
}
