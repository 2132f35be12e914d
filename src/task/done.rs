//! Done callbacks: a lock-free list that is closed exactly once, when the
//! task completes.
//!
//! `push` links a node at the head with a CAS; `close_and_run` swaps the head
//! for the CLOSED marker and runs what it took, oldest first. A push that
//! finds the marker gets its callback back and runs it at once. So each
//! callback runs exactly once: either the completer took it, or its adder saw
//! the list closed.

use std::panic::{AssertUnwindSafe, catch_unwind};

use super::TaskRef;
use crate::loom::{AtomicPtr, Ordering};

/// A done callback.
pub(crate) type DoneCallback = Box<dyn FnOnce(&TaskRef) + Send>;

struct Node {
    callback: DoneCallback,
    next: *mut Node,
}

/// Marks a list that was closed; no node lives at this address.
fn closed() -> *mut Node {
    std::ptr::without_provenance_mut(1)
}

pub(crate) struct DoneCallbacks {
    head: AtomicPtr<Node>,
}

impl DoneCallbacks {
    pub(crate) fn new() -> DoneCallbacks {
        DoneCallbacks {
            head: AtomicPtr::new(std::ptr::null_mut()),
        }
    }

    /// Adds a callback; gives it back when the task already completed.
    pub(crate) fn push(&self, callback: DoneCallback) -> Result<(), DoneCallback> {
        let node = Box::into_raw(Box::new(Node {
            callback,
            next: std::ptr::null_mut(),
        }));
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            if head == closed() {
                // SAFETY: the node was never published; we still own it.
                let node = unsafe { Box::from_raw(node) };
                return Err(node.callback);
            }
            // SAFETY: the node is unpublished and ours to write.
            unsafe { (*node).next = head };
            match self
                .head
                .compare_exchange_weak(head, node, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Ok(()),
                Err(actual) => head = actual,
            }
        }
    }

    /// Closes the list and runs every callback in the order they were added.
    /// A panicking callback does not stop the others.
    pub(crate) fn close_and_run(&self, task: &TaskRef) {
        let mut head = self.head.swap(closed(), Ordering::AcqRel);
        if head.is_null() {
            return;
        }
        debug_assert!(head != closed(), "done callbacks closed twice");
        let mut callbacks = Vec::new();
        while !head.is_null() {
            // SAFETY: the swap made us the only owner of every node in the list.
            let node = unsafe { Box::from_raw(head) };
            head = node.next;
            callbacks.push(node.callback);
        }
        for callback in callbacks.into_iter().rev() {
            run_callback(callback, task);
        }
    }

    /// Whether the list was closed (the task completed).
    #[cfg(test)]
    fn is_closed(&self) -> bool {
        self.head.load(Ordering::Acquire) == closed()
    }
}

/// Runs a done callback, containing its panic: a failing callback must not
/// take down the worker or the other callbacks.
pub(crate) fn run_callback(callback: DoneCallback, task: &TaskRef) {
    let _ = catch_unwind(AssertUnwindSafe(|| callback(task)));
}

impl Drop for DoneCallbacks {
    fn drop(&mut self) {
        let mut head = self.head.load(Ordering::Acquire);
        while !head.is_null() && head != closed() {
            // SAFETY: dropping the list makes us the only owner of its nodes.
            let node = unsafe { Box::from_raw(head) };
            head = node.next;
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn push_after_close_gives_the_callback_back() {
        let list = DoneCallbacks::new();
        assert!(list.push(Box::new(|_| {})).is_ok());
        assert!(!list.is_closed());
        let leaked = DoneCallbacks::new();
        leaked.head.store(closed(), Ordering::Release);
        assert!(leaked.push(Box::new(|_| {})).is_err());
    }
}
