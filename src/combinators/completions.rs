//! Which children finished: the protocol shared by `gather`, `wait` and
//! `as_completed`.
//!
//! Each watched task gets its own join waker, a [`ChildWaker`] that knows
//! the child's index. A task wakes its join waker exactly once, when it
//! completes (`Task::poll_done` either installs the waker before completion
//! or reports the task done, never both), so every index reaches the
//! [`Completions`] queue exactly once. The combinator drains the queue from
//! its own `poll`, parking its waker there when it is empty.
//!
//! This costs one small allocation per child and no polling of children
//! that did not finish: a combinator over n tasks does O(n) work in total,
//! not O(n) per wake-up. Unlike a done callback, a join waker is replaced
//! (not added to) when a later combinator watches the same task, so calling
//! `wait` in a loop on the pending tasks does not pile anything up on them.

use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::loom::Mutex;
use crate::task::Task;
use crate::util::lock;

/// The indices of the children that finished, in completion order.
pub struct Completions {
    inner: Mutex<Inner>,
}

struct Inner {
    /// Finished children not yet seen by the combinator.
    finished: Vec<usize>,
    /// The combinator's waker, while it waits for `finished` to fill.
    waiter: Option<Waker>,
}

impl Completions {
    pub(crate) fn new() -> Arc<Completions> {
        Arc::new(Completions {
            inner: Mutex::new(Inner {
                finished: Vec::new(),
                waiter: None,
            }),
        })
    }

    /// Starts watching `task` as child `index`: its completion will be
    /// reported once, now if it is already done.
    pub(crate) fn watch<T>(self: &Arc<Self>, index: usize, task: &mut Task<T>) {
        let waker = Waker::from(Arc::new(ChildWaker {
            index,
            completions: self.clone(),
        }));
        if task.poll_done(&mut Context::from_waker(&waker)).is_ready() {
            self.report(index);
        }
    }

    /// Records that child `index` finished and wakes the combinator.
    fn report(&self, index: usize) {
        let waiter = {
            let mut inner = lock(&self.inner);
            inner.finished.push(index);
            inner.waiter.take()
        };
        if let Some(waiter) = waiter {
            waiter.wake();
        }
    }

    /// Moves the indices reported so far into `into`; when there are none,
    /// registers the combinator's waker and returns `Pending`.
    pub(crate) fn poll_finished(&self, cx: &mut Context<'_>, into: &mut Vec<usize>) -> Poll<()> {
        let mut inner = lock(&self.inner);
        if inner.finished.is_empty() {
            match &inner.waiter {
                Some(waiter) if waiter.will_wake(cx.waker()) => {}
                _ => inner.waiter = Some(cx.waker().clone()),
            }
            return Poll::Pending;
        }
        into.append(&mut inner.finished);
        Poll::Ready(())
    }
}

/// The join waker of one watched child.
struct ChildWaker {
    index: usize,
    completions: Arc<Completions>,
}

impl Wake for ChildWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.completions.report(self.index);
    }
}
