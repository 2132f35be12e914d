//! What each worker counts about itself, for `Handle::metrics`.
//!
//! Every worker owns one [`WorkerStats`] on its own cache line. Only that
//! worker writes it, with Relaxed loads and stores (no read-modify-write,
//! no line shared with another writer), so counting costs the worker a few
//! uncontended stores; a snapshot from any thread reads them with Relaxed
//! loads and may be a poll or a park behind.
//!
//! - **polls**: counted in [`PollObserver::begin`] before each poll.
//! - **steals**: successful steals of part of another worker's queue.
//! - **parks**: times the worker went to sleep for lack of work, on its
//!   parker or blocked in the OS poller (`park.rs`): one per `park`.
//! - **busy time**: time the worker was awake (not parked, not blocked in
//!   the poller), measured with one clock read when it parks and one when
//!   it wakes; a snapshot adds the stretch in progress. The tasks a worker
//!   woke in the poller are polled after it wakes, so they count as busy.
//! - **poll time**: time inside task polls, the poll in progress included,
//!   kept by the [`PollObserver`] with one load of the loop's coarse clock
//!   per poll, or two precise clock reads in the precise mode
//!   (`task/info.rs` says how, and what the error is). The worker's wake-up
//!   stamp starts its next poll and wakes the coarse clock's thread, which
//!   sleeps while no worker is awake ([`SchedulerStats::any_awake`]).
//! - **local queue depth** (not counted here: read from the queues when a
//!   snapshot is taken): the local queue's length plus the LIFO slot's.
//!
//! With `Builder::count_polls(false)` nothing here is written: the worker
//! polls without an observer and skips the counters of steals and parks
//! and the clock reads of its busy time.
//!
//! Like the task counters, these are `std` atomics under loom too: nothing
//! is decided from them, so the models have nothing to explore in them.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed, Ordering::SeqCst};
use std::time::Duration;

use crossbeam_utils::CachePadded;

use crate::task::info::{PollCounting, PollObserver, now_stamp};

/// Adds `value` to a counter only the calling worker writes.
#[inline]
fn bump(counter: &AtomicU64, value: u64) {
    counter.store(counter.load(Relaxed).wrapping_add(value), Relaxed);
}

/// One worker's counters.
pub(crate) struct WorkerStats {
    /// False when the loop counts nothing (`Builder::count_polls(false)`).
    counting: bool,
    poll: PollObserver,
    steals: AtomicU64,
    parks: AtomicU64,
    /// Nanoseconds awake, up to the last park.
    busy_nanos: AtomicU64,
    /// Stamp (`now_stamp`) of the last wake-up; zero while parked.
    awake_since: AtomicU64,
}

/// A copy of one worker's counters.
pub(crate) struct WorkerFigures {
    pub(crate) polls: u64,
    pub(crate) steals: u64,
    pub(crate) parks: u64,
    pub(crate) busy: Duration,
    pub(crate) poll_time: Option<Duration>,
    pub(crate) local_queue: usize,
    pub(crate) parked: bool,
}

impl WorkerStats {
    fn new(counting: &PollCounting) -> WorkerStats {
        WorkerStats {
            counting: !matches!(counting, PollCounting::Off),
            poll: PollObserver::new(counting),
            steals: AtomicU64::new(0),
            parks: AtomicU64::new(0),
            busy_nanos: AtomicU64::new(0),
            awake_since: AtomicU64::new(now_stamp()),
        }
    }

    /// What counts and times this worker's polls; `None` when the loop
    /// counts nothing.
    #[inline]
    pub(crate) fn observer(&self) -> Option<&PollObserver> {
        self.counting.then_some(&self.poll)
    }

    /// The task this worker is polling and the stamp its poll started
    /// at, in the precise mode (see [`PollObserver::current`]).
    pub(crate) fn poll_in_progress(&self) -> Option<(u64, u64)> {
        self.poll.current()
    }

    /// The worker took work from another worker's queue.
    #[inline]
    pub(crate) fn on_steal(&self) {
        if self.counting {
            bump(&self.steals, 1);
        }
    }

    /// The worker is about to sleep.
    pub(crate) fn on_park(&self) {
        if !self.counting {
            return;
        }
        let since = self.awake_since.load(Relaxed);
        if since != 0 {
            bump(&self.busy_nanos, now_stamp().saturating_sub(since));
            self.awake_since.store(0, Relaxed);
        }
        bump(&self.parks, 1);
    }

    /// The worker woke up.
    pub(crate) fn on_unpark(&self) {
        if !self.counting {
            return;
        }
        let now = now_stamp();
        // SeqCst: the loop's clock thread may be going to sleep for want
        // of an awake worker (see `CoarseClock`).
        self.awake_since.store(now, SeqCst);
        // The time asleep is nobody's poll.
        self.poll.woke(now);
    }

    /// Whether the worker is awake (SeqCst: see `CoarseClock`).
    fn is_awake(&self) -> bool {
        self.awake_since.load(SeqCst) != 0
    }

    fn figures(&self, local_queue: usize) -> WorkerFigures {
        // A park between the two loads would count its stretch twice or
        // not at all: read again until both loads saw the same stretch.
        let (busy, parked) = loop {
            if !self.counting {
                break (Duration::ZERO, false);
            }
            let since = self.awake_since.load(Relaxed);
            let done = self.busy_nanos.load(Relaxed);
            if self.awake_since.load(Relaxed) != since {
                continue;
            }
            let current = if since == 0 {
                0
            } else {
                now_stamp().saturating_sub(since)
            };
            break (Duration::from_nanos(done + current), since == 0);
        };
        WorkerFigures {
            polls: self.poll.polls(),
            steals: self.steals.load(Relaxed),
            parks: self.parks.load(Relaxed),
            busy,
            poll_time: self.counting.then(|| self.poll.poll_time(!parked)),
            local_queue,
            parked,
        }
    }
}

/// Every worker's counters, one cache line each.
pub(crate) struct SchedulerStats {
    workers: Box<[CachePadded<WorkerStats>]>,
}

impl SchedulerStats {
    pub(crate) fn new(workers: usize, counting: &PollCounting) -> SchedulerStats {
        SchedulerStats {
            workers: (0..workers)
                .map(|_| CachePadded::new(WorkerStats::new(counting)))
                .collect(),
        }
    }

    pub(crate) fn worker(&self, index: usize) -> &WorkerStats {
        &self.workers[index]
    }

    pub(crate) fn len(&self) -> usize {
        self.workers.len()
    }

    /// Whether any worker is awake, for the loop's clock thread (which
    /// sleeps while none is: see `CoarseClock`).
    pub(crate) fn any_awake(&self) -> bool {
        self.workers.iter().any(|worker| worker.is_awake())
    }

    /// A copy of worker `index`'s counters, with its queue's depth.
    pub(crate) fn figures(&self, index: usize, local_queue: usize) -> WorkerFigures {
        self.workers[index].figures(local_queue)
    }
}
