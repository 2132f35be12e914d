//! Timers: the entries `Sleep` futures share with the reactor, the queue
//! through which any thread hands them over, and the wheel that orders them.
//!
//! # Protocol
//!
//! A [`TimerEntry`] is shared (`Arc`) between one `Sleep` and, while it is
//! registered, the reactor's wheel.
//!
//! - *Register*: the sleeping task stores its waker in the entry, then pushes
//!   [`TimerOp::Register`] onto the [`TimerQueue`]. If the new deadline is
//!   earlier than the one the reactor sleeps until, it also wakes the reactor
//!   (the queue records that deadline under the same lock, so exactly the
//!   registrations that matter pay for a wake-up).
//! - *Fire*: the reactor sets `fired` (Release) and only then takes the waker
//!   under the entry's lock. A task re-polling stores its waker under that
//!   lock and then checks `fired`, so either it sees `fired` or the reactor
//!   sees its new waker: no wake-up is lost.
//! - *Cancel*: a dropped (or reset) `Sleep` takes its waker back out at once
//!   (the task's memory is not pinned by a timer that will not fire) and
//!   pushes [`TimerOp::Cancel`]; the reactor unlinks the entry from the wheel
//!   and drops it. Cancellations do not wake the reactor, unless enough of
//!   them pile up that their memory would matter.
//! - *Shutdown*: the reactor fires every entry still in the wheel and marks
//!   the queue closed; later registrations complete at once.
//! - *Count*: the queue counts the pending timers exactly (for
//!   `Handle::pending_timers`): a registration adds one; the first of its
//!   fire and its cancel takes it away again (`TimerEntry::settle`).

pub(crate) mod wheel;

use std::sync::Arc;
use std::task::Waker;
use std::time::{Duration, Instant};

use std::sync::atomic::AtomicU32;

// The handoffs between a sleeping task and the poller's holder go through
// the loom switch, so that the models of the poller see them.
use crate::loom::{AtomicBool, AtomicUsize, Mutex, Ordering};
use crate::util::lock;
use wheel::{Key, Wheel};

/// Pending cancellations that make a registering thread wake the reactor so
/// that it frees them, even though no deadline moved earlier.
const CANCEL_BACKLOG_WAKE: usize = 4096;

/// The reactor's clock: converts instants to millisecond ticks since start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    start: Instant,
}

impl Clock {
    pub(crate) fn new() -> Self {
        Clock {
            start: Instant::now(),
        }
    }

    /// The tick at or after `instant`: a timer for it never fires early.
    pub(crate) fn deadline_tick(&self, instant: Instant) -> u64 {
        let since = instant.saturating_duration_since(self.start);
        let millis = since.as_millis();
        let ticks = if since.subsec_nanos() % 1_000_000 == 0 {
            millis
        } else {
            millis + 1
        };
        u64::try_from(ticks).unwrap_or(u64::MAX)
    }

    /// The tick that has fully begun at `instant`.
    pub(crate) fn now_tick(&self, instant: Instant) -> u64 {
        u64::try_from(instant.saturating_duration_since(self.start).as_millis()).unwrap_or(u64::MAX)
    }

    /// How long from `now` until tick `tick` begins.
    pub(crate) fn until_tick(&self, tick: u64, now: Instant) -> Duration {
        let at = self.start.checked_add(Duration::from_millis(tick));
        match at {
            Some(at) => at.saturating_duration_since(now),
            None => Duration::MAX,
        }
    }
}

/// The state one `Sleep` shares with the reactor.
#[derive(Debug)]
pub(crate) struct TimerEntry {
    /// Tick at which the reactor fires the entry.
    deadline: u64,
    /// Set by the reactor when the entry fires (or at shutdown).
    fired: AtomicBool,
    /// Set by the first of fire and cancel: the entry no longer counts as
    /// pending.
    settled: AtomicBool,
    /// Where the entry sits in the wheel. Read and written by the reactor
    /// thread only; an atomic merely to keep the entry `Sync` without unsafe.
    key: AtomicU32,
    waker: Mutex<Option<Waker>>,
}

impl TimerEntry {
    pub(crate) fn new(deadline: u64) -> Arc<Self> {
        Arc::new(TimerEntry {
            deadline,
            fired: AtomicBool::new(false),
            settled: AtomicBool::new(false),
            key: AtomicU32::new(Key::NONE.into_raw()),
            waker: Mutex::new(None),
        })
    }

    /// Whether the reactor fired this entry.
    pub(crate) fn has_fired(&self) -> bool {
        self.fired.load(Ordering::Acquire)
    }

    /// Stores `waker` to be woken when the entry fires, unless the stored one
    /// would already wake the same task. Returns whether the entry fired.
    pub(crate) fn set_waker(&self, waker: &Waker) -> bool {
        {
            let mut slot = lock(&self.waker);
            match &*slot {
                Some(current) if current.will_wake(waker) => {}
                _ => *slot = Some(waker.clone()),
            }
        }
        self.has_fired()
    }

    /// A registered sleep's poll: whether the entry fired; if not, `waker`
    /// is stored to be woken when it does.
    pub(crate) fn poll_fired(&self, waker: &Waker) -> bool {
        self.has_fired() || self.set_waker(waker)
    }

    /// Drops the stored waker (the sleep was abandoned).
    pub(crate) fn clear_waker(&self) {
        drop(self.take_waker());
    }

    /// Takes the stored waker back (the sleep moves to a new entry).
    pub(crate) fn take_waker(&self) -> Option<Waker> {
        lock(&self.waker).take()
    }

    /// Marks the entry fired and hands back its waker to be woken.
    fn fire(&self, queue: &TimerQueue) -> Option<Waker> {
        self.fired.store(true, Ordering::Release);
        queue.settle(self);
        lock(&self.waker).take()
    }
}

/// What a thread asks of the reactor's timers.
#[derive(Debug)]
pub(crate) enum TimerOp {
    Register(Arc<TimerEntry>),
    Cancel(Arc<TimerEntry>),
}

#[derive(Debug)]
struct QueueState {
    ops: Vec<TimerOp>,
    cancels: usize,
    /// The tick the reactor sleeps until; `0` while it is awake (it will
    /// drain the queue before sleeping again) and `u64::MAX` when it sleeps
    /// without a timer.
    reactor_sleeps_until: u64,
    closed: bool,
}

/// The queue through which any thread hands timer operations to the
/// reactor thread.
#[derive(Debug)]
pub(crate) struct TimerQueue {
    state: Mutex<QueueState>,
    /// Registered timers that have neither fired nor been cancelled.
    pending: AtomicUsize,
}

/// What a push asks of the caller.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PushOutcome {
    /// Queued; the reactor will see it in time.
    Queued,
    /// Queued; the caller must wake the reactor.
    WakeReactor,
    /// The reactor has shut down; the operation was not queued.
    Closed,
}

impl TimerQueue {
    pub(crate) fn new() -> Self {
        TimerQueue {
            state: Mutex::new(QueueState {
                ops: Vec::new(),
                cancels: 0,
                reactor_sleeps_until: 0,
                closed: false,
            }),
            pending: AtomicUsize::new(0),
        }
    }

    /// Registered timers that have neither fired nor been cancelled.
    pub(crate) fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    /// Takes `entry` out of the pending count, once.
    fn settle(&self, entry: &TimerEntry) {
        if !entry.settled.swap(true, Ordering::AcqRel) {
            self.pending.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Queues an operation for the reactor.
    pub(crate) fn push(&self, op: TimerOp) -> PushOutcome {
        if let TimerOp::Cancel(entry) = &op {
            self.settle(entry);
        }
        let mut state = lock(&self.state);
        if state.closed {
            return PushOutcome::Closed;
        }
        if let TimerOp::Register(_) = &op {
            self.pending.fetch_add(1, Ordering::AcqRel);
        }
        let wake = match &op {
            TimerOp::Register(entry) => {
                let earlier = entry.deadline < state.reactor_sleeps_until;
                if earlier {
                    state.reactor_sleeps_until = entry.deadline;
                }
                earlier
            }
            TimerOp::Cancel(_) => {
                state.cancels += 1;
                let wake = state.cancels == CANCEL_BACKLOG_WAKE && state.reactor_sleeps_until != 0;
                if wake {
                    state.reactor_sleeps_until = 0;
                }
                wake
            }
        };
        state.ops.push(op);
        if wake {
            PushOutcome::WakeReactor
        } else {
            PushOutcome::Queued
        }
    }

    /// Reactor side: takes the queued operations into `into` and notes that
    /// the reactor is awake.
    fn take(&self, into: &mut Vec<TimerOp>) {
        let mut state = lock(&self.state);
        state.reactor_sleeps_until = 0;
        state.cancels = 0;
        std::mem::swap(&mut state.ops, into);
    }

    /// Reactor side: records that it is about to sleep until `tick`, unless
    /// operations arrived meanwhile (then it must drain them first: returns
    /// `false`).
    fn about_to_sleep(&self, tick: u64) -> bool {
        let mut state = lock(&self.state);
        if state.ops.is_empty() {
            state.reactor_sleeps_until = tick;
            true
        } else {
            false
        }
    }

    /// Reactor side: refuses further operations and returns the last ones.
    fn close(&self) -> Vec<TimerOp> {
        let mut state = lock(&self.state);
        state.closed = true;
        std::mem::take(&mut state.ops)
    }
}

/// The reactor thread's half: the wheel and the scratch buffer for ops.
#[derive(Debug)]
pub(crate) struct Timers {
    wheel: Wheel<Arc<TimerEntry>>,
    ops: Vec<TimerOp>,
}

impl Timers {
    pub(crate) fn new() -> Self {
        Timers {
            wheel: Wheel::new(),
            ops: Vec::new(),
        }
    }

    /// Number of timers in the wheel.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.wheel.len()
    }

    /// Applies queued operations, then fires every timer due at `now_tick`,
    /// pushing the wakers to wake into `wakers`.
    pub(crate) fn process(&mut self, queue: &TimerQueue, now_tick: u64, wakers: &mut Vec<Waker>) {
        queue.take(&mut self.ops);
        let mut ops = std::mem::take(&mut self.ops);
        for op in ops.drain(..) {
            self.apply(op, queue, wakers);
        }
        self.ops = ops;
        self.wheel.advance(now_tick, |entry| {
            entry.key.store(Key::NONE.into_raw(), Ordering::Relaxed);
            wakers.extend(entry.fire(queue));
        });
    }

    fn apply(&mut self, op: TimerOp, queue: &TimerQueue, wakers: &mut Vec<Waker>) {
        match op {
            TimerOp::Register(entry) => match self.wheel.insert(entry.deadline, entry.clone()) {
                Ok(key) => entry.key.store(key.into_raw(), Ordering::Relaxed),
                Err(entry) => wakers.extend(entry.fire(queue)),
            },
            TimerOp::Cancel(entry) => {
                let key = Key::from_raw(entry.key.load(Ordering::Relaxed));
                if self
                    .wheel
                    .remove_if(key, |held| Arc::ptr_eq(held, &entry))
                    .is_some()
                {
                    entry.key.store(Key::NONE.into_raw(), Ordering::Relaxed);
                }
            }
        }
    }

    /// The tick the reactor may sleep until, or `None` for "no timer";
    /// `Some(0)`-like early values are returned when ops arrived meanwhile.
    /// Returns `None` when it must not sleep yet (more ops arrived).
    pub(crate) fn prepare_to_sleep(&self, queue: &TimerQueue) -> Option<Option<u64>> {
        let next = self.wheel.next_expiration();
        if queue.about_to_sleep(next.unwrap_or(u64::MAX)) {
            Some(next)
        } else {
            None
        }
    }

    /// Fires everything and closes the queue (reactor shutdown).
    pub(crate) fn shutdown(&mut self, queue: &TimerQueue, wakers: &mut Vec<Waker>) {
        for op in queue.close() {
            self.apply(op, queue, wakers);
        }
        self.wheel.drain(|entry| wakers.extend(entry.fire(queue)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_ticks_round_up_and_now_ticks_round_down() {
        let clock = Clock::new();
        let at = clock.start + Duration::from_micros(2500);
        assert_eq!(clock.deadline_tick(at), 3);
        assert_eq!(clock.now_tick(at), 2);
        assert_eq!(
            clock.deadline_tick(clock.start + Duration::from_millis(4)),
            4
        );
        assert_eq!(clock.deadline_tick(clock.start), 0);
    }

    #[test]
    fn registration_wakes_the_reactor_only_for_an_earlier_deadline() {
        let queue = TimerQueue::new();
        let timers = Timers::new();
        assert_eq!(timers.prepare_to_sleep(&queue), Some(None));
        assert_eq!(
            queue.push(TimerOp::Register(TimerEntry::new(100))),
            PushOutcome::WakeReactor
        );
        assert_eq!(
            queue.push(TimerOp::Register(TimerEntry::new(200))),
            PushOutcome::Queued
        );
        assert_eq!(
            queue.push(TimerOp::Register(TimerEntry::new(50))),
            PushOutcome::WakeReactor
        );
        // Ops are pending, so the reactor must not go to sleep.
        assert_eq!(timers.prepare_to_sleep(&queue), None);
    }

    #[test]
    fn cancelled_entry_leaves_the_wheel() {
        let queue = TimerQueue::new();
        let mut timers = Timers::new();
        let entry = TimerEntry::new(10);
        queue.push(TimerOp::Register(entry.clone()));
        let mut wakers = Vec::new();
        timers.process(&queue, 0, &mut wakers);
        assert_eq!(timers.len(), 1);
        queue.push(TimerOp::Cancel(entry.clone()));
        timers.process(&queue, 0, &mut wakers);
        assert_eq!(timers.len(), 0);
        assert_eq!(Arc::strong_count(&entry), 1);
        timers.process(&queue, 100, &mut wakers);
        assert!(!entry.has_fired());
    }

    #[test]
    fn shutdown_fires_pending_entries_and_refuses_new_ones() {
        let queue = TimerQueue::new();
        let mut timers = Timers::new();
        let entry = TimerEntry::new(1_000_000);
        queue.push(TimerOp::Register(entry.clone()));
        let mut wakers = Vec::new();
        timers.shutdown(&queue, &mut wakers);
        assert!(entry.has_fired());
        assert_eq!(
            queue.push(TimerOp::Register(TimerEntry::new(5))),
            PushOutcome::Closed
        );
    }
}
