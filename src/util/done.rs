//! Done callbacks: the list that a task, a concurrent future or a promise
//! closes exactly once, when it gets its outcome.
//!
//! - `push` adds a callback under the list's lock, unless the list is
//!   closed: then it gives the callback back, for its adder to run at once.
//! - `close` marks the list closed with one atomic swap and takes what it
//!   held; its caller runs that, oldest first, on its own thread.
//!
//! So each callback runs exactly once: either the closer took it, or its
//! adder saw the list closed. A closer that finds the list never used takes
//! no lock, so an owner with no callbacks pays one swap and no allocation;
//! the list is boxed so that an unused one stays small (it sits in every
//! task's header).
//!
//! Each callback runs with its panic contained: a failing callback takes
//! down neither the thread that runs it (a loop worker, often) nor the
//! callbacks after it.

use super::{contain_panic, lock};
use crate::loom::{AtomicU8, Mutex, Ordering};

/// A done callback, given the owner (or its outcome).
pub(crate) type DoneCallback<A> = Box<dyn FnOnce(&A) + Send>;

/// Open, and no callback was ever added: closing takes no lock.
const UNUSED: u8 = 0;
/// Open, and callbacks may be in the list.
const USED: u8 = 1;
/// Closed: the list was taken; a push gives its callback back.
const CLOSED: u8 = 2;

pub(crate) struct DoneCallbacks<A> {
    state: AtomicU8,
    /// Allocated by the first push; boxed so that the unused list in
    /// every task's header is one word, not three.
    #[allow(clippy::box_collection)]
    list: Mutex<Option<Box<Vec<DoneCallback<A>>>>>,
}

/// The callbacks a [`DoneCallbacks::close`] took, to be run.
#[must_use = "the callbacks taken from a closed list run only through `run`"]
pub(crate) struct Taken<A>(Vec<DoneCallback<A>>);

impl<A> DoneCallbacks<A> {
    pub(crate) fn new() -> DoneCallbacks<A> {
        DoneCallbacks {
            state: AtomicU8::new(UNUSED),
            list: Mutex::new(None),
        }
    }

    /// Adds a callback; gives it back when the list is closed.
    pub(crate) fn push(&self, callback: DoneCallback<A>) -> Result<(), DoneCallback<A>> {
        let mut list = lock(&self.list);
        // Under the lock only `close` changes the state. Having read USED,
        // a close that comes now waits for this lock before taking the list.
        match self
            .state
            .compare_exchange(UNUSED, USED, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) | Err(USED) => {
                list.get_or_insert_default().push(callback);
                Ok(())
            }
            Err(_) => Err(callback),
        }
    }

    /// Closes the list and takes its callbacks. Called once.
    pub(crate) fn close(&self) -> Taken<A> {
        match self.state.swap(CLOSED, Ordering::AcqRel) {
            UNUSED => Taken(Vec::new()),
            USED => Taken(lock(&self.list).take().map_or_else(Vec::new, |list| *list)),
            _ => {
                debug_assert!(false, "done callbacks closed twice");
                Taken(Vec::new())
            }
        }
    }

    /// Closes the list and runs its callbacks with `arg`.
    pub(crate) fn close_and_run(&self, arg: &A) {
        self.close().run(arg);
    }

    /// Whether the list was closed.
    #[cfg(test)]
    pub(crate) fn is_closed(&self) -> bool {
        self.state.load(Ordering::Acquire) == CLOSED
    }
}

impl<A> Taken<A> {
    /// Runs the callbacks in the order they were added, each with its
    /// panic contained.
    pub(crate) fn run(self, arg: &A) {
        for callback in self.0 {
            run_done_callback(callback, arg);
        }
    }
}

/// Runs one done callback, containing its panic.
pub(crate) fn run_done_callback<A>(callback: DoneCallback<A>, arg: &A) {
    contain_panic(|| callback(arg));
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::sync::mpsc;

    use super::*;

    fn recording(tx: &mpsc::Sender<u32>, n: u32) -> DoneCallback<u32> {
        let tx = tx.clone();
        Box::new(move |arg| tx.send(n * 10 + arg).unwrap())
    }

    #[test]
    fn callbacks_run_once_in_the_order_they_were_added() {
        let list = DoneCallbacks::new();
        let (tx, rx) = mpsc::channel();
        for n in 1..=3 {
            assert!(list.push(recording(&tx, n)).is_ok());
        }
        list.close_and_run(&7);
        drop(tx);
        assert_eq!(rx.iter().collect::<Vec<_>>(), [17, 27, 37]);
    }

    #[test]
    fn push_after_close_gives_the_callback_back() {
        let list = DoneCallbacks::<u32>::new();
        assert!(!list.is_closed());
        list.close_and_run(&0);
        assert!(list.is_closed());
        assert!(list.push(Box::new(|_| {})).is_err());
    }

    #[test]
    fn a_panicking_callback_does_not_stop_the_others() {
        let list = DoneCallbacks::new();
        let (tx, rx) = mpsc::channel();
        list.push(recording(&tx, 1))
            .unwrap_or_else(|_| panic!("open"));
        list.push(Box::new(|_| panic!("callback panics")))
            .unwrap_or_else(|_| panic!("open"));
        list.push(recording(&tx, 3))
            .unwrap_or_else(|_| panic!("open"));
        list.close_and_run(&0);
        drop(tx);
        assert_eq!(rx.iter().collect::<Vec<_>>(), [10, 30]);
    }

    #[test]
    fn dropping_an_open_list_drops_its_callbacks_unrun() {
        let (tx, rx) = mpsc::channel::<u32>();
        let list = DoneCallbacks::new();
        list.push(recording(&tx, 1))
            .unwrap_or_else(|_| panic!("open"));
        drop(tx);
        drop(list);
        assert!(
            rx.recv().is_err(),
            "the callback was dropped without running"
        );
    }
}
