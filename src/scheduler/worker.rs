//! The worker loop: take a task (LIFO slot, local queue, injector), run it,
//! steal when dry, park when there is nothing anywhere.
//!
//! One `unsafe` block: [`with_current_worker`] turns the pointer that
//! `run_worker` leaves in the thread's context back into a reference to the
//! worker on that thread's stack (the context stores it untyped, since
//! `task` sits below `scheduler`); its argument is beside it.

use std::cell::RefCell;
use std::sync::Arc as StdArc;

use super::stats::WorkerStats;
use super::{Shared, WorkerSeed};
use crate::loom::LOOM;
use crate::task::{Notified, context};

/// A worker takes from the injector first every this many ticks, so work
/// from other threads is never starved by a busy local queue.
const GLOBAL_QUEUE_INTERVAL: u32 = if LOOM { 2 } else { 61 };

/// How long a searching worker keeps looking before it sleeps.
const SPIN_FOR: std::time::Duration = std::time::Duration::from_micros(if LOOM { 0 } else { 50 });

/// How many tasks the LIFO slot may serve in a row.
const MAX_LIFO_POLLS: usize = 3;

struct Core {
    local: super::LocalQueue<Notified>,
    /// The LIFO slot: holds at most one task. A queue of its own only so
    /// that idle workers can steal from it (see `schedule_local`).
    lifo: super::LocalQueue<Notified>,
    tick: u32,
    searching: bool,
    /// Set while the worker parks: tasks woken on this thread then (by the
    /// poller it sleeps in) are queued without waking a sibling; the worker
    /// decides once it is back (see `park`).
    parked: bool,
    rng: u32,
}

struct WorkerCtx {
    shared: StdArc<Shared>,
    index: usize,
    parker: super::Parker,
    core: RefCell<Core>,
}

/// Runs `f` with this thread's worker, which `run_worker` records in the
/// thread's context for the worker's whole life.
fn with_current_worker<R>(f: impl FnOnce(Option<&WorkerCtx>) -> R) -> R {
    let worker = context::worker().cast::<WorkerCtx>();
    // SAFETY: the pointer is set by `run_worker` to the WorkerCtx on its own
    // stack and cleared before that goes away, and only this thread reads
    // it: while it is non-null this thread is inside `run_worker`, which
    // outlives this call.
    f(unsafe { worker.as_ref() })
}

/// Whether this thread is a worker of any loop.
pub(crate) fn is_worker_thread() -> bool {
    with_current_worker(|ctx| ctx.is_some())
}

/// Whether this thread is a worker of the scheduler `shared`.
pub(crate) fn is_worker_of(shared: &Shared) -> bool {
    with_current_worker(|ctx| ctx.is_some_and(|ctx| std::ptr::eq(&*ctx.shared, shared)))
}

/// Queues `task` on this thread's worker when it is a worker of `shared`;
/// gives the task back otherwise.
pub(super) fn schedule_local(
    shared: &Shared,
    task: Notified,
    is_yield: bool,
) -> Result<(), Notified> {
    with_current_worker(|ctx| {
        let Some(ctx) = ctx.filter(|ctx| std::ptr::eq(&*ctx.shared, shared)) else {
            return Err(task);
        };
        let Ok(core) = ctx.core.try_borrow_mut() else {
            return Err(task);
        };
        let queued = if is_yield {
            task
        } else {
            let previous = core.lifo.pop();
            core.lifo.push(task);
            match previous {
                Some(previous) => previous,
                None => {
                    // Should the running task now block this thread, the
                    // task in the slot would wait for it. So the slot is
                    // stealable, and a sleeping worker is woken (when
                    // nobody searches) to take it: pushed first, then
                    // `notify_one`'s fence, as for any queue (idle.rs).
                    // A sleeper blocked in the poller is reached through
                    // the poller's waker (park.rs). While this worker
                    // parks, no task of its own runs: the wake came from
                    // the poller it drives, and `park` hands the slot's
                    // task straight to the run loop, so nothing can block
                    // in front of it.
                    let parked = core.parked;
                    drop(core);
                    if !parked {
                        shared.notify_one();
                    }
                    return Ok(());
                }
            }
        };
        // Only the push that makes the queue non-empty wakes a sibling: the
        // earlier pushes already did, and a sibling about to park re-checks
        // every queue first. Either way this worker is awake and will run
        // the task itself, so skipping the wake never strands it.
        let was_empty = core.local.is_empty();
        core.local.push(queued);
        let parked = core.parked;
        drop(core);
        if was_empty && !parked {
            shared.notify_one();
        }
        Ok(())
    })
}

/// Clears the thread's worker pointer when the worker returns or unwinds.
struct ResetCurrent;

impl Drop for ResetCurrent {
    fn drop(&mut self) {
        context::set_worker(std::ptr::null());
    }
}

/// Runs a worker until the scheduler shuts down.
pub(crate) fn run_worker(shared: StdArc<Shared>, seed: WorkerSeed) {
    let ctx = WorkerCtx {
        shared,
        index: seed.index,
        parker: seed.parker,
        core: RefCell::new(Core {
            local: seed.local,
            lifo: seed.lifo,
            tick: 0,
            searching: false,
            parked: false,
            rng: (0x9E37_79B9 ^ (seed.index as u32).wrapping_mul(0x85EB_CA6B)) | 1,
        }),
    };
    context::set_worker((&raw const ctx).cast());
    let _reset = ResetCurrent;
    ctx.run();
    let core = ctx.core.borrow_mut();
    while core.lifo.pop().is_some() {}
    while core.local.pop().is_some() {}
}

impl WorkerCtx {
    /// This worker's counters (`stats.rs`).
    fn stats(&self) -> &WorkerStats {
        self.shared.stats.worker(self.index)
    }

    fn run(&self) {
        while !self.shared.is_shutdown() {
            let task = self.next_task().or_else(|| self.steal_work());
            if let Some(task) = task.or_else(|| self.park()) {
                self.run_task(task);
            }
        }
    }

    fn next_task(&self) -> Option<Notified> {
        let mut core = self.core.borrow_mut();
        core.tick = core.tick.wrapping_add(1);
        if core.tick % GLOBAL_QUEUE_INTERVAL == 0 {
            if let Some(task) = self.shared.injector.steal() {
                return Some(task);
            }
        }
        if let Some(task) = core.lifo.pop() {
            return Some(task);
        }
        core.local
            .pop()
            .or_else(|| self.shared.injector.steal_batch_into(&core.local))
    }

    /// Out of local work: steal half of another worker's queue, or a batch
    /// of the injector. Only some workers search at once (`idle.rs`).
    fn steal_work(&self) -> Option<Notified> {
        let mut core = self.core.borrow_mut();
        if !core.searching {
            if !self.shared.idle.transition_to_searching() {
                return None;
            }
            core.searching = true;
        }
        let workers = self.shared.stealers.len();
        core.rng ^= core.rng << 13;
        core.rng ^= core.rng >> 17;
        core.rng ^= core.rng << 5;
        let start = core.rng as usize % workers;
        for offset in 0..workers {
            let victim = (start + offset) % workers;
            if victim == self.index {
                continue;
            }
            if let Some(task) = self.shared.stealers[victim].steal_half_into(&core.local) {
                self.stats().on_steal();
                return Some(task);
            }
            // The victim's LIFO slot: its task may be stuck behind a poll
            // that blocks the victim's thread.
            if let Some(task) = self.shared.lifo_stealers[victim].steal() {
                return Some(task);
            }
        }
        self.shared.injector.steal_batch_into(&core.local)
    }

    fn run_task(&self, task: Notified) {
        {
            let mut core = self.core.borrow_mut();
            if core.searching {
                core.searching = false;
                drop(core);
                if self.shared.idle.transition_from_searching() {
                    // We were the last searcher: get someone else looking
                    // for the rest of the work.
                    self.shared.notify_one();
                }
            }
        }
        task.run_observed(self.stats().observer());
        for _ in 0..MAX_LIFO_POLLS {
            let Some(next) = self.core.borrow_mut().lifo.pop() else {
                return;
            };
            next.run_observed(self.stats().observer());
        }
        let core = self.core.borrow_mut();
        if let Some(task) = core.lifo.pop() {
            core.local.push(task);
            drop(core);
            self.shared.notify_one();
        }
    }

    /// Before sleeping, the searching worker keeps looking for a short
    /// while, yielding its CPU between looks: replies to IO often arrive
    /// within microseconds (the reactor needs a CPU to deliver them), and
    /// finding them awake saves a sleep and a wake-up. Producers do not wake
    /// anyone while a worker searches, so the spinner picks the work up.
    ///
    /// Measured on two cores: a hyper server loaded from another process
    /// serves about a tenth more requests with the spin than without, at a
    /// few percent less CPU per request and fewer context switches, and the
    /// in-process TCP echo with 16 and 64 connections a fifth more. When
    /// the machine's other cores are busy with other processes, the yield
    /// hands them the CPU instead.
    fn spin_for_work(&self) -> bool {
        if SPIN_FOR.is_zero() || !self.core.borrow().searching {
            return false;
        }
        let start = std::time::Instant::now();
        while start.elapsed() < SPIN_FOR {
            if self.shared.has_queued_work() || self.shared.is_shutdown() {
                return true;
            }
            std::thread::yield_now();
        }
        false
    }

    /// Sleeps until notified, or until the poller this worker slept in
    /// woke tasks on it. In the second case the worker runs those tasks
    /// itself, and wakes a sibling only when it woke more than one. Returns
    /// the task in the LIFO slot, the last one the poller woke here, to be
    /// run first: no other task gets to block this thread before it.
    fn park(&self) -> Option<Notified> {
        let driver_free = self.shared.driver.as_ref().is_some_and(|d| d.is_free());
        // The spin waits for work that another thread delivers; with the
        // poller free, this worker delivers it itself.
        if !driver_free && self.spin_for_work() {
            return None;
        }
        self.stats().on_park();
        let _awake = OnUnpark(self.stats());
        let searching = std::mem::take(&mut self.core.borrow_mut().searching);
        let idle = &self.shared.idle;
        idle.transition_to_parked(self.index, searching);
        // The re-check that makes a concurrent push either visible here or
        // visible to its producer's notify (see idle.rs).
        if self.shared.has_queued_work() {
            self.shared.notify_one();
        }
        loop {
            if self.shared.is_shutdown() {
                idle.unregister(self.index);
                return None;
            }
            self.core.borrow_mut().parked = true;
            self.parker.park();
            self.core.borrow_mut().parked = false;
            if idle.was_notified(self.index) {
                self.core.borrow_mut().searching = true;
                break;
            }
            if self.has_local_work() {
                // Woken by the poller, with tasks of its own: awake again,
                // unless a notifier took this worker off the sleepers list
                // meanwhile (then it counts as searching, as notified).
                if !idle.unregister(self.index) {
                    self.core.borrow_mut().searching = true;
                }
                break;
            }
        }
        let core = self.core.borrow();
        // More woken than this worker can run at once: get a sibling to
        // steal the rest.
        if !core.local.is_empty() {
            self.shared.notify_one();
        }
        core.lifo.pop()
    }

    fn has_local_work(&self) -> bool {
        let core = self.core.borrow();
        !core.lifo.is_empty() || !core.local.is_empty()
    }
}

/// Tells the worker's counters it woke, however `park` returns.
struct OnUnpark<'a>(&'a WorkerStats);

impl Drop for OnUnpark<'_> {
    fn drop(&mut self) {
        self.0.on_unpark();
    }
}
