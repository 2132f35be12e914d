//! Who may block in the OS poller, and how it changes hands.
//!
//! The poller (`mio::Poll`, its event buffer and the timer wheel) sits
//! behind one lock. Whoever holds the lock *drives* it: applies queued
//! timer operations, blocks in the OS until a readiness event or the next
//! timer deadline, records the events, fires the timers that are due, and
//! wakes the tasks that became ready, on its own thread.
//!
//! # Who may poll
//!
//! - *An idle worker.* A worker with nothing to run takes the poller, if
//!   it is free, instead of sleeping on its condition variable
//!   (`scheduler::Driver::park`). The tasks it wakes go to its own LIFO
//!   slot and queue, without waking anyone: it runs them without a thread
//!   handoff, the slot's task first (straight out of `park`, so no other
//!   task can block the thread before it), and wakes a sibling only when
//!   it woke more than one. It gives the poller back as soon as the poll
//!   returns, before running anything.
//! - *The reactor thread*, as a fallback: it takes the poller only when
//!   nobody has taken it for a whole watch period ([`WATCH_PERIOD`]), that
//!   is when every worker is busy (or blocked in a task), so IO and timers
//!   still progress then. After a turn that woke something it gives the
//!   poller back and waits a watch period again: the woken workers will
//!   want it once they run dry, and a worker blocked in the poller is what
//!   saves the handoff.
//!
//! A worker that finds the poller held sleeps on its condition variable,
//! as before; the holder's wakes reach it through the scheduler's injector.
//!
//! # How the poller changes hands
//!
//! The `state` word is the lock: `HELD` while someone holds the poller (a
//! compare-exchange sets it, and bumps a generation counter with it), and
//! `REACTOR_ASLEEP`. The core behind it sits in a mutex only to hand it out
//! safely; the holder unlocks that mutex before it clears `HELD`, so the
//! mutex is never contended.
//! The reactor thread looks at the word once per watch period:
//!
//! - the generation moved: someone drives the poller; look again later;
//! - free, and the generation did not move: nobody came for a whole
//!   period: take the poller and drive it;
//! - held, and the generation did not move: the same holder has been
//!   blocked in it for a whole period (an idle loop). The reactor sets
//!   `REACTOR_ASLEEP` with a compare-exchange that requires `HELD` and that
//!   generation, and sleeps without a timeout. The holder's release clears
//!   `HELD` and `REACTOR_ASLEEP` in one read-modify-write and, if the flag
//!   was set, wakes the reactor thread, which starts a new watch period.
//!   So an idle loop costs no periodic wake-up, and the first release after
//!   idling costs one wake of the reactor thread, off the critical path.
//!
//! # Why no wake-up is lost
//!
//! - *Work for a worker blocked in the poller* (a foreign `spawn`,
//!   `call_soon_threadsafe`, a wake from another thread): the producer
//!   queues it and unparks a sleeping worker. The worker sets its parker to
//!   `PARKED_DRIVER` after taking the poller and before blocking (the
//!   `may_block` callback); an unpark that sees that state interrupts the
//!   poll through the `mio::Waker`, and an unpark that came earlier left a
//!   token, which makes `may_block` refuse to block. The `mio::Waker` is
//!   sticky: a wake before the OS poll starts makes it return at once.
//! - *A task in another worker's LIFO slot*: the slot is stealable, and a
//!   running task that fills it wakes a sleeping worker when nobody
//!   searches (`scheduler/worker.rs`), so that the task does not wait
//!   behind a poll that blocks its worker. That wake is the same unpark as
//!   for foreign work, so it reaches a worker blocked in the poller through
//!   the `mio::Waker`; the worker comes back counted as searching and
//!   steals the slot. The park re-check (`has_queued_work`) counts the
//!   slots too, before a worker takes the poller.
//! - *IO readiness* is recorded in the OS poller (edge-triggered) until
//!   somebody polls; the poller is never left undriven for long: when it is
//!   free, either a worker takes it as it runs dry or the reactor thread
//!   takes it within a watch period. The reactor only sleeps without a
//!   timeout while the poller is held, and the holder wakes it when it lets
//!   go (the compare-exchange above makes the two orders of "reactor goes to
//!   sleep" and "holder lets go" both end with the reactor awake).
//!
//! # Why no timer deadline is lost
//!
//! Timer operations go through the timer queue, which records the tick the
//! current holder sleeps until (`0` while nobody sleeps in the poller). A
//! holder records it under the queue lock just before blocking, and only
//! if no operation is queued; a registration due earlier than that tick
//! wakes the poller through the `mio::Waker`. A holder drains the queue
//! before it gives the poller back and the next holder drains it before it
//! blocks, so an operation queued while the poller changes hands is seen by
//! the next holder; and a free poller is taken within a watch period.
//! Every holder computes its timeout from the wheel, so the thread blocked
//! in the poller always wakes at the earliest deadline.
//!
//! # Panics and counts, whoever holds the poller
//!
//! A waker is user code. Every holder, the reactor thread or a worker,
//! wakes the batch of a turn one waker at a time with its panic contained
//! (`driver::wake_batch`): a panic can neither skip the rest of the batch
//! nor unwind out of the turn, which would leave the poller held for good.
//! A timer that fires or is cancelled leaves the timer queue's exact
//! pending count once, whichever thread fires it (`TimerQueue::pending`),
//! so `pending_timers` does not depend on who drove the last turn.
//!
//! Shutdown: once the reactor is shut down, a worker that takes the poller
//! gives it back without polling, and the reactor thread's stop wakes the
//! holder; the reactor thread then takes the poller for good to close
//! every source and fire every timer.

use std::io;
use std::time::Duration;

use crate::loom::{AtomicUsize, Condvar, Mutex, MutexGuard, Ordering::SeqCst};
use crate::util::lock;

/// How long the poller may stay free before the reactor thread takes it:
/// the longest IO and timers wait when every worker is busy.
pub(super) const WATCH_PERIOD: Duration = Duration::from_millis(1);

const HELD: usize = 1 << 0;
const REACTOR_ASLEEP: usize = 1 << 1;
const GENERATION_ONE: usize = 1 << 2;

/// The OS poller and what it needs to block in it.
#[cfg(not(loom))]
pub(super) struct Os {
    poll: mio::Poll,
    pub(super) events: mio::Events,
}

/// What interrupts a blocked [`Os::poll`].
#[cfg(not(loom))]
pub(super) type OsWaker = mio::Waker;

#[cfg(not(loom))]
impl Os {
    /// The OS poller behind `poll`, and its waker.
    pub(super) fn new(poll: mio::Poll, events: usize) -> io::Result<(Os, OsWaker)> {
        let waker = mio::Waker::new(poll.registry(), super::io::WAKER_TOKEN)?;
        let events = mio::Events::with_capacity(events);
        Ok((Os { poll, events }, waker))
    }

    /// Blocks until a readiness event, a wake through the `mio::Waker`, or
    /// `timeout`.
    pub(super) fn poll(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.poll.poll(&mut self.events, timeout)
    }
}

/// The models' stand-in for the OS poller: no readiness ever, and a
/// "block" that is a wait loom sees, ended by the waker. A timed block
/// returns at once (time passes instantly in a model, so the models use
/// timers that are already due).
#[cfg(loom)]
pub(super) struct Os {
    signal: crate::loom::Arc<Signal>,
    pub(super) events: mio::Events,
}

#[cfg(loom)]
struct Signal {
    woken: Mutex<bool>,
    condvar: Condvar,
}

/// The models' stand-in for `mio::Waker`: sticky, like an eventfd.
#[cfg(loom)]
pub(super) struct OsWaker {
    signal: crate::loom::Arc<Signal>,
}

#[cfg(loom)]
impl Os {
    pub(super) fn new(_poll: mio::Poll, _events: usize) -> io::Result<(Os, OsWaker)> {
        let signal = crate::loom::Arc::new(Signal {
            woken: Mutex::new(false),
            condvar: Condvar::new(),
        });
        let waker = OsWaker {
            signal: signal.clone(),
        };
        let events = mio::Events::with_capacity(1);
        Ok((Os { signal, events }, waker))
    }

    pub(super) fn poll(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        let mut woken = lock(&self.signal.woken);
        if timeout.is_none() {
            while !*woken {
                woken = match self.signal.condvar.wait(woken) {
                    Ok(guard) => guard,
                    Err(poisoned) => poisoned.into_inner(),
                };
            }
        }
        *woken = false;
        Ok(())
    }
}

#[cfg(loom)]
impl OsWaker {
    pub(super) fn wake(&self) -> io::Result<()> {
        *lock(&self.signal.woken) = true;
        self.signal.condvar.notify_all();
        Ok(())
    }
}

/// What the reactor thread saw when it looked at the poller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Look {
    /// Someone took the poller since the last look (at this generation).
    Driven(usize),
    /// Nobody took it for a whole watch period, and it is free.
    Abandoned,
    /// The same holder has held it for a whole watch period.
    Idle(usize),
}

/// The poller, its lock, and the reactor thread's sleep.
pub(super) struct Poller<C> {
    core: Mutex<C>,
    state: AtomicUsize,
    waker: OsWaker,
    /// Set to wake the reactor thread from either of its sleeps.
    reactor_woken: Mutex<bool>,
    reactor_wake: Condvar,
}

/// The right to drive the poller; give it back with [`Poller::release`].
pub(super) struct Held<'a, C> {
    guard: MutexGuard<'a, C>,
}

impl<C> std::ops::Deref for Held<'_, C> {
    type Target = C;
    fn deref(&self) -> &C {
        &self.guard
    }
}

impl<C> std::ops::DerefMut for Held<'_, C> {
    fn deref_mut(&mut self) -> &mut C {
        &mut self.guard
    }
}

impl<C> Poller<C> {
    pub(super) fn new(core: C, waker: OsWaker) -> Poller<C> {
        Poller {
            core: Mutex::new(core),
            state: AtomicUsize::new(0),
            waker,
            reactor_woken: Mutex::new(false),
            reactor_wake: Condvar::new(),
        }
    }

    /// Takes the poller if nobody holds it. The `HELD` bit is the lock;
    /// the mutex only hands out the core, and is free whenever `HELD` is
    /// clear (a holder unlocks it before clearing the bit).
    pub(super) fn try_acquire(&self) -> Option<Held<'_, C>> {
        let mut state = self.state.load(SeqCst);
        loop {
            if state & HELD != 0 {
                return None;
            }
            match self.state.compare_exchange(
                state,
                state.wrapping_add(GENERATION_ONE) | HELD,
                SeqCst,
                SeqCst,
            ) {
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        Some(Held {
            guard: lock(&self.core),
        })
    }

    /// Takes the poller, waiting for the holder to give it back (the
    /// reactor thread at shutdown, when the holder has been woken and
    /// will not poll again).
    pub(super) fn acquire(&self) -> Held<'_, C> {
        loop {
            if let Some(held) = self.try_acquire() {
                return held;
            }
            self.wake_holder();
            crate::loom::thread::yield_now();
        }
    }

    /// Gives the poller back; wakes the reactor thread if it sleeps until
    /// this release. Returns the generation it leaves behind.
    pub(super) fn release(&self, held: Held<'_, C>) -> usize {
        drop(held);
        let prev = self.state.fetch_and(!(HELD | REACTOR_ASLEEP), SeqCst);
        if prev & REACTOR_ASLEEP != 0 {
            self.wake_reactor_thread();
        }
        prev / GENERATION_ONE
    }

    /// Whether nobody holds the poller right now.
    pub(super) fn is_free(&self) -> bool {
        self.state.load(SeqCst) & HELD == 0
    }

    /// Interrupts the thread blocked in the OS poller, or makes the next
    /// poll return at once.
    pub(super) fn wake_holder(&self) {
        // Failing to wake means the poller itself is broken; its holder
        // reports that on its own when it next polls.
        let _ = self.waker.wake();
    }

    /// The reactor thread looks at the poller; `last` is the generation it
    /// saw at its previous look.
    pub(super) fn look(&self, last: usize) -> Look {
        let state = self.state.load(SeqCst);
        let generation = state / GENERATION_ONE;
        if generation != last {
            Look::Driven(generation)
        } else if state & HELD == 0 {
            Look::Abandoned
        } else {
            Look::Idle(generation)
        }
    }

    /// The reactor thread sleeps until the holder of generation
    /// `generation` releases the poller (or until woken for shutdown).
    /// Returns at once if that holder is gone already.
    pub(super) fn sleep_until_released(&self, generation: usize) {
        let held = (generation * GENERATION_ONE) | HELD;
        if self
            .state
            .compare_exchange(held, held | REACTOR_ASLEEP, SeqCst, SeqCst)
            .is_err()
        {
            return;
        }
        self.sleep(None);
    }

    /// The reactor thread sleeps for `timeout` (forever with `None`), or
    /// until woken. In a model, a timed sleep is a yield: time passes.
    pub(super) fn sleep(&self, timeout: Option<Duration>) {
        let timeout = if crate::loom::LOOM && timeout.is_some() {
            crate::loom::thread::yield_now();
            Some(Duration::ZERO)
        } else {
            timeout
        };
        let mut woken = lock(&self.reactor_woken);
        if !*woken && timeout != Some(Duration::ZERO) {
            woken = match timeout {
                Some(timeout) => match self.reactor_wake.wait_timeout(woken, timeout) {
                    Ok((guard, _)) => guard,
                    Err(poisoned) => poisoned.into_inner().0,
                },
                None => {
                    while !*woken {
                        woken = match self.reactor_wake.wait(woken) {
                            Ok(guard) => guard,
                            Err(poisoned) => poisoned.into_inner(),
                        };
                    }
                    woken
                }
            };
        }
        *woken = false;
    }

    /// Ends the reactor thread's current or next sleep.
    pub(super) fn wake_reactor_thread(&self) {
        *lock(&self.reactor_woken) = true;
        self.reactor_wake.notify_one();
    }
}
