//! The ready queue and its drainer: the one runner of a loop's callbacks.
//! `call_soon_threadsafe` pushes here directly; a timed callback is pushed
//! here when it becomes due (`timed.rs`).
//!
//! # The protocol
//!
//! One mutex guards the queue, a `draining` flag and a `closed` flag.
//!
//! - **Submit** pushes the callback's handle and, if `draining` was clear,
//!   sets it and tells the caller to spawn a drainer. So however many
//!   callbacks arrive, at most one drainer exists, and a burst of
//!   submissions costs one task and one worker wake-up, not one each.
//! - **The drainer** (a task) takes up to `BATCH` handles under the lock and
//!   runs them with the lock released, in queue order; after `BUDGET`
//!   callbacks in one poll it yields, so the other tasks of the loop are
//!   not starved. Only when it finds the queue empty does it clear
//!   `draining`, under the same lock a submitter takes to read it: a
//!   callback is either seen by the drainer or starts a new one.
//! - **Close** (loop shutdown) sets `closed` and refuses everything still
//!   queued; later submissions are refused at once, and the drainer
//!   refuses what is left of the batch it holds. Each handle's own
//!   state (see `handle.rs`) makes "ran" and "refused" exclusive, so every
//!   callback runs exactly once or is reported refused.
//!
//! Since a single drainer runs the queue in order, callbacks submitted by
//! one thread run in the order they were submitted, and timed callbacks run
//! in the order they became due.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::CallbackHandle;
use crate::loom::{AtomicBool, LOOM, Mutex, Ordering};
use crate::util::lock;
// A statistic that orders nothing: a `std` atomic even under loom, so that
// the models have no extra interleavings to explore.
use std::sync::atomic::AtomicU64;

/// How many handles the drainer moves out of the queue per lock.
const BATCH: usize = if LOOM { 2 } else { 256 };

/// How many callbacks the drainer runs per poll before it yields.
const BUDGET: usize = if LOOM { 2 } else { 1024 };

struct State {
    queue: VecDeque<CallbackHandle>,
    draining: bool,
    closed: bool,
}

/// What [`ReadyQueue::push`] asks of its caller.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Queued; a drainer is on its way already.
    Queued,
    /// Queued; the caller must start a drainer (`draining` is now set).
    StartDrainer,
    /// The loop is closed: the callback was refused.
    Refused,
}

/// A loop's ready callbacks.
pub(crate) struct ReadyQueue {
    state: Mutex<State>,
    /// `State::closed`, readable without the lock: the drainer checks it
    /// before each callback of its batch.
    closing: AtomicBool,
    /// Callbacks run so far: added to once per batch by the drainer.
    ran: AtomicU64,
}

impl ReadyQueue {
    pub(crate) fn new() -> ReadyQueue {
        ReadyQueue {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                draining: false,
                closed: false,
            }),
            closing: AtomicBool::new(false),
            ran: AtomicU64::new(0),
        }
    }

    /// How many callbacks the drainers ran (cancelled and refused ones not
    /// counted).
    pub(crate) fn ran(&self) -> u64 {
        self.ran.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Queues a pending callback (or refuses it, on a closed queue).
    pub(crate) fn push(&self, callback: CallbackHandle) -> Pushed {
        let mut state = lock(&self.state);
        if state.closed {
            drop(state);
            callback.refuse();
            return Pushed::Refused;
        }
        state.queue.push_back(callback);
        if state.draining {
            Pushed::Queued
        } else {
            state.draining = true;
            Pushed::StartDrainer
        }
    }

    /// Moves up to `BATCH` callbacks into `batch`. When there are none,
    /// clears `draining` and returns false: the drainer must stop.
    pub(crate) fn take_batch(&self, batch: &mut VecDeque<CallbackHandle>) -> bool {
        let mut state = lock(&self.state);
        if state.queue.is_empty() {
            state.draining = false;
            return false;
        }
        if state.queue.len() <= BATCH && batch.is_empty() {
            // Swap buffers: submitters reuse the drainer's spare capacity.
            std::mem::swap(&mut state.queue, batch);
        } else {
            let take = state.queue.len().min(BATCH);
            batch.extend(state.queue.drain(..take));
        }
        true
    }

    /// A drainer went away without finishing (its task was cancelled):
    /// clears `draining`, and returns true when callbacks are left that
    /// need a new drainer (`draining` is then set again for it).
    pub(crate) fn drainer_lost(&self) -> bool {
        let mut state = lock(&self.state);
        let restart = !state.closed && !state.queue.is_empty();
        state.draining = restart;
        restart
    }

    /// Refuses every queued callback and every later submission.
    pub(crate) fn close(&self) {
        let queued = {
            let mut state = lock(&self.state);
            state.closed = true;
            self.closing.store(true, Ordering::Release);
            std::mem::take(&mut state.queue)
        };
        for callback in queued {
            callback.refuse();
        }
    }
}

impl std::fmt::Debug for ReadyQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("ReadyQueue")
            .field("queued", &state.queue.len())
            .field("draining", &state.draining)
            .field("closed", &state.closed)
            .finish()
    }
}

/// Runs the queue's callbacks until it is empty; see the module docs.
pub(crate) struct Drainer<Q: AsRef<ReadyQueue>> {
    queue: Q,
    batch: VecDeque<CallbackHandle>,
    /// Set once the queue was found empty (`draining` cleared by us).
    finished: bool,
    /// Called when the drainer is dropped before it finished, with whether
    /// a new drainer must be started.
    on_lost: Option<Box<dyn FnOnce(bool) + Send>>,
}

impl<Q: AsRef<ReadyQueue>> Drainer<Q> {
    /// A drainer for `queue`. `on_lost` runs if the drainer is dropped
    /// before it finished (e.g. someone cancelled its task), with true when
    /// callbacks are left: it must then start a new drainer.
    pub(crate) fn new(queue: Q, on_lost: Box<dyn FnOnce(bool) + Send>) -> Drainer<Q> {
        Drainer {
            queue,
            batch: VecDeque::new(),
            finished: false,
            on_lost: Some(on_lost),
        }
    }

    /// Runs callbacks until the queue is empty (true) or the budget is
    /// spent (false). Each callback's panic is contained.
    pub(crate) fn drain_some(&mut self) -> bool {
        let mut ran = 0;
        while ran < BUDGET {
            if !self.queue.as_ref().take_batch(&mut self.batch) {
                self.finished = true;
                return true;
            }
            let queue = self.queue.as_ref();
            let mut called = 0;
            while let Some(callback) = self.batch.pop_front() {
                if queue.closing.load(Ordering::Acquire) {
                    // The loop closed while this batch was out of the queue.
                    callback.refuse();
                } else if callback.run_if_pending() {
                    called += 1;
                }
                ran += 1;
            }
            queue
                .ran
                .fetch_add(called, std::sync::atomic::Ordering::Relaxed);
        }
        false
    }
}

impl<Q: AsRef<ReadyQueue> + Unpin> Future for Drainer<Q> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.drain_some() {
            Poll::Ready(())
        } else {
            // Behind the other ready tasks, then on with the queue.
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

impl<Q: AsRef<ReadyQueue>> Drop for Drainer<Q> {
    fn drop(&mut self) {
        if self.finished {
            return;
        }
        // Callbacks taken out of the queue but not run yet (only when a
        // callback's unwinding was not contained) go back to the front.
        let restart = {
            let queue = self.queue.as_ref();
            if !self.batch.is_empty() {
                let mut state = lock(&queue.state);
                for callback in self.batch.drain(..).rev() {
                    state.queue.push_front(callback);
                }
            }
            queue.drainer_lost()
        };
        if let Some(on_lost) = self.on_lost.take() {
            on_lost(restart);
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn counter_callback(counter: &Arc<AtomicUsize>) -> CallbackHandle {
        let counter = counter.clone();
        CallbackHandle::with_closure(move || {
            counter.fetch_add(1, Ordering::SeqCst);
        })
    }

    #[test]
    fn only_the_first_push_of_a_burst_starts_a_drainer() {
        let queue = ReadyQueue::new();
        let counter = Arc::new(AtomicUsize::new(0));
        assert_eq!(queue.push(counter_callback(&counter)), Pushed::StartDrainer);
        for _ in 0..10 {
            assert_eq!(queue.push(counter_callback(&counter)), Pushed::Queued);
        }
    }

    #[test]
    fn drainer_runs_everything_and_then_lets_the_next_push_start_one() {
        let queue = Arc::new(ReadyQueue::new());
        let counter = Arc::new(AtomicUsize::new(0));
        for _ in 0..(BUDGET + 10) {
            queue.push(counter_callback(&counter));
        }
        let mut drainer = Drainer::new(queue.clone(), Box::new(|_| panic!("not lost")));
        assert!(!drainer.drain_some(), "the budget makes it yield");
        assert_eq!(counter.load(Ordering::SeqCst), BUDGET);
        assert!(drainer.drain_some());
        assert_eq!(counter.load(Ordering::SeqCst), BUDGET + 10);
        drop(drainer);
        assert_eq!(queue.push(counter_callback(&counter)), Pushed::StartDrainer);
    }

    #[test]
    fn a_lost_drainer_asks_for_a_replacement_when_work_is_left() {
        let queue = Arc::new(ReadyQueue::new());
        let counter = Arc::new(AtomicUsize::new(0));
        queue.push(counter_callback(&counter));
        let (tx, rx) = std::sync::mpsc::channel();
        drop(Drainer::new(
            queue.clone(),
            Box::new(move |restart| tx.send(restart).unwrap()),
        ));
        assert!(rx.recv().unwrap());
        assert_eq!(queue.push(counter_callback(&counter)), Pushed::Queued);
    }

    #[test]
    fn close_refuses_queued_and_later_callbacks() {
        let queue = ReadyQueue::new();
        let counter = Arc::new(AtomicUsize::new(0));
        let queued = counter_callback(&counter);
        queue.push(queued.clone());
        queue.close();
        assert!(queued.is_loop_closed());
        let late = counter_callback(&counter);
        assert_eq!(queue.push(late.clone()), Pushed::Refused);
        assert!(late.is_loop_closed());
        assert_eq!(counter.load(Ordering::SeqCst), 0);
    }
}
