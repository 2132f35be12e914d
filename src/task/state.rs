//! The task's atomic state word and its named transitions.
//!
//! One `usize` holds the lifecycle flags in its low bits and the reference
//! count in the rest, so that a transition and the reference it hands over
//! happen in a single atomic step. The rules these transitions implement are
//! written at the top of `task/mod.rs`.

use crate::loom::{AtomicUsize, Ordering};

/// The task is in a run queue, or its runner will put it back in one
/// (a wake while RUNNING).
const SCHEDULED: usize = 1 << 0;
/// A worker owns the future and is polling it.
const RUNNING: usize = 1 << 1;
/// The future is gone; the outcome is stored (or was handed over).
const COMPLETE: usize = 1 << 2;
/// Cancellation was requested; once COMPLETE, the outcome is a cancellation.
const CANCELLED: usize = 1 << 3;
/// The `Task<T>` handle is alive and will take the output.
const JOIN_INTEREST: usize = 1 << 4;
/// The join waker slot holds a waker that the completer may use. While set,
/// nobody writes the slot; the handle and the completer may both read it.
const JOIN_WAKER: usize = 1 << 5;

const REF_SHIFT: usize = 6;
const REF_ONE: usize = 1 << REF_SHIFT;

/// A copy of the state word at one instant.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

impl Snapshot {
    pub(crate) fn is_scheduled(self) -> bool {
        self.0 & SCHEDULED != 0
    }
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    pub(crate) fn has_join_waker(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    pub(crate) fn ref_count(self) -> usize {
        self.0 >> REF_SHIFT
    }
    fn is_idle(self) -> bool {
        self.0 & (SCHEDULED | RUNNING | COMPLETE) == 0
    }
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("scheduled", &self.is_scheduled())
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("cancelled", &self.is_cancelled())
            .field("join_interested", &self.is_join_interested())
            .field("join_waker", &self.has_join_waker())
            .field("refs", &self.ref_count())
            .finish()
    }
}

/// What the runner must do after `transition_to_running`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToRunning {
    /// Poll the future.
    Poll,
    /// Cancellation was requested: drop the future, complete as cancelled.
    Cancel,
    /// Already complete (or claimed by someone else): just drop the reference.
    Skip,
}

/// What the runner must do after a poll returned `Pending`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum ToIdle {
    /// Nothing: the task waits for a wake. The runner drops its reference.
    Idle,
    /// A wake arrived while running: the runner re-schedules with its reference.
    Notified,
    /// Cancel arrived while running: the runner (still RUNNING) drops the future.
    Cancelled,
}

/// What a wake must do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum OnWake {
    /// Push the task to a run queue with the reference now owned by the queue.
    Submit,
    /// Nothing further to do.
    Nothing,
    /// The reference dropped was the last: free the task.
    Dealloc,
}

pub(crate) struct State(AtomicUsize);

impl State {
    /// A fresh task: scheduled (its first run is queued), with a live handle
    /// and three references: the handle, the run queue and the live-task list.
    pub(crate) fn new() -> State {
        State(AtomicUsize::new(SCHEDULED | JOIN_INTEREST | (3 * REF_ONE)))
    }

    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.0.load(Ordering::Acquire))
    }

    /// Runs `f` in a CAS loop; `f` returns the new word and a result, or
    /// `None` to leave the state unchanged.
    fn update<R>(&self, mut f: impl FnMut(Snapshot) -> (Option<usize>, R)) -> (Snapshot, R) {
        let mut current = self.0.load(Ordering::Acquire);
        loop {
            let (next, result) = f(Snapshot(current));
            let Some(next) = next else {
                return (Snapshot(current), result);
            };
            match self
                .0
                .compare_exchange_weak(current, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return (Snapshot(current), result),
                Err(actual) => current = actual,
            }
        }
    }

    /// A worker holding a queued reference claims the future.
    pub(crate) fn transition_to_running(&self) -> ToRunning {
        self.update(|s| {
            if s.is_complete() || s.is_running() {
                return (None, ToRunning::Skip);
            }
            let next = (s.0 & !SCHEDULED) | RUNNING;
            if s.is_cancelled() {
                (Some(next), ToRunning::Cancel)
            } else {
                (Some(next), ToRunning::Poll)
            }
        })
        .1
    }

    /// The poll returned `Pending`.
    pub(crate) fn transition_to_idle(&self) -> ToIdle {
        self.update(|s| {
            debug_assert!(s.is_running());
            if s.is_cancelled() {
                return (None, ToIdle::Cancelled);
            }
            let next = s.0 & !RUNNING;
            if s.is_scheduled() {
                (Some(next), ToIdle::Notified)
            } else {
                (Some(next), ToIdle::Idle)
            }
        })
        .1
    }

    /// The future is gone and the outcome is stored. `cancelled` says whether
    /// the outcome is a cancellation (a value clears a pending cancel request,
    /// so `cancelled()` reads false). Returns the state before the transition.
    pub(crate) fn transition_to_complete(&self, cancelled: bool) -> Snapshot {
        self.update(|s| {
            debug_assert!(s.is_running() && !s.is_complete());
            let mut next = (s.0 & !(RUNNING | SCHEDULED | CANCELLED)) | COMPLETE;
            if cancelled {
                next |= CANCELLED;
            }
            (Some(next), ())
        })
        .0
    }

    /// Claims an idle or queued task so that its future can be dropped in
    /// place (loop shutdown). Returns false when a worker is polling it (the
    /// cancel flag makes that worker drop it) or it is already complete.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.update(|s| {
            if s.is_complete() {
                (None, false)
            } else if s.is_running() {
                (Some(s.0 | CANCELLED), false)
            } else {
                (Some((s.0 & !SCHEDULED) | RUNNING | CANCELLED), true)
            }
        })
        .1
    }

    /// A wake that consumes the waker's reference.
    pub(crate) fn transition_to_notified_by_val(&self) -> OnWake {
        self.update(|s| {
            if s.is_idle() {
                // The waker's reference becomes the run queue's.
                (Some(s.0 | SCHEDULED), OnWake::Submit)
            } else {
                let mut next = s.0 - REF_ONE;
                if s.is_running() {
                    next |= SCHEDULED;
                }
                if next >> REF_SHIFT == 0 {
                    (Some(next), OnWake::Dealloc)
                } else {
                    (Some(next), OnWake::Nothing)
                }
            }
        })
        .1
    }

    /// A wake that leaves the waker alive.
    pub(crate) fn transition_to_notified_by_ref(&self) -> OnWake {
        self.update(|s| {
            if s.is_idle() {
                (Some((s.0 | SCHEDULED) + REF_ONE), OnWake::Submit)
            } else if s.is_running() && !s.is_scheduled() {
                (Some(s.0 | SCHEDULED), OnWake::Nothing)
            } else {
                (None, OnWake::Nothing)
            }
        })
        .1
    }

    /// A cancel request. Returns whether the task was not complete yet and
    /// whether the caller must submit it (it was idle: a worker must run it
    /// once more to drop the future).
    pub(crate) fn transition_to_cancelled(&self) -> (bool, OnWake) {
        self.update(|s| {
            if s.is_complete() {
                (None, (false, OnWake::Nothing))
            } else if s.is_cancelled() {
                (None, (true, OnWake::Nothing))
            } else if s.is_idle() {
                (
                    Some((s.0 | CANCELLED | SCHEDULED) + REF_ONE),
                    (true, OnWake::Submit),
                )
            } else {
                (Some(s.0 | CANCELLED), (true, OnWake::Nothing))
            }
        })
        .1
    }

    /// The handle is dropped before completion: the completer will drop the
    /// output. Fails (returns false) when already complete: then the handle
    /// must drop the output itself.
    pub(crate) fn unset_join_interested(&self) -> bool {
        self.update(|s| {
            if s.is_complete() {
                (None, false)
            } else {
                (Some(s.0 & !JOIN_INTEREST), true)
            }
        })
        .1
    }

    /// Publishes the waker the handle has just written. Fails when complete.
    pub(crate) fn set_join_waker(&self) -> bool {
        self.update(|s| {
            debug_assert!(!s.has_join_waker());
            if s.is_complete() {
                (None, false)
            } else {
                (Some(s.0 | JOIN_WAKER), true)
            }
        })
        .1
    }

    /// Takes the waker slot back so the handle may overwrite it. Fails when
    /// complete (then the completer may be reading it).
    pub(crate) fn unset_join_waker(&self) -> bool {
        self.update(|s| {
            debug_assert!(s.has_join_waker());
            if s.is_complete() {
                (None, false)
            } else {
                (Some(s.0 & !JOIN_WAKER), true)
            }
        })
        .1
    }

    pub(crate) fn ref_inc(&self) {
        let prev = self.0.fetch_add(REF_ONE, Ordering::Relaxed);
        // A reference count this large means references are being leaked.
        if prev >> REF_SHIFT > usize::MAX >> (REF_SHIFT + 1) {
            std::process::abort();
        }
    }

    /// Drops `count` references; true when they were the last ones.
    pub(crate) fn ref_dec(&self, count: usize) -> bool {
        let prev = self.0.fetch_sub(count * REF_ONE, Ordering::AcqRel);
        debug_assert!(prev >> REF_SHIFT >= count, "task reference count underflow");
        prev >> REF_SHIFT == count
    }

    #[cfg(test)]
    pub(crate) fn flags(&self) -> usize {
        self.0.load(Ordering::Relaxed) & (REF_ONE - 1)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn new_task_is_scheduled_with_three_references() {
        let state = State::new();
        let s = state.load();
        assert!(s.is_scheduled() && s.is_join_interested() && !s.is_running());
        assert_eq!(s.ref_count(), 3);
    }

    #[test]
    fn wake_while_running_reschedules_once() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        assert_eq!(state.transition_to_notified_by_ref(), OnWake::Nothing);
        assert_eq!(state.transition_to_notified_by_ref(), OnWake::Nothing);
        assert_eq!(state.transition_to_idle(), ToIdle::Notified);
        assert!(state.load().is_scheduled());
    }

    #[test]
    fn cancel_of_idle_task_submits_it() {
        let state = State::new();
        assert_eq!(state.transition_to_running(), ToRunning::Poll);
        assert_eq!(state.transition_to_idle(), ToIdle::Idle);
        assert_eq!(state.transition_to_cancelled(), (true, OnWake::Submit));
        assert_eq!(state.transition_to_running(), ToRunning::Cancel);
        let prev = state.transition_to_complete(true);
        assert!(!prev.is_complete());
        assert!(state.load().is_complete() && state.load().is_cancelled());
        assert_eq!(state.transition_to_cancelled(), (false, OnWake::Nothing));
    }

    #[test]
    fn value_outcome_clears_a_late_cancel_request() {
        let state = State::new();
        state.transition_to_running();
        state.transition_to_cancelled();
        state.transition_to_complete(false);
        assert!(!state.load().is_cancelled());
        assert_eq!(state.flags() & COMPLETE, COMPLETE);
    }

    #[test]
    fn last_reference_reports_dealloc() {
        let state = State::new();
        assert!(!state.ref_dec(2));
        assert!(state.ref_dec(1));
    }
}
