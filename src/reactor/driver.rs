//! Driving the poller: one turn (whoever holds it, see [`poller`](super::poller)),
//! and the reactor thread's loop, which drives it when nobody else does.

use std::sync::atomic::Ordering;
use std::task::Waker;
use std::time::{Duration, Instant};

use super::Shared;
use super::poller::{Held, Look, Os, WATCH_PERIOD};
use super::timer::Timers;
use crate::scheduler::WakeBatch;
use crate::util::{contain_panic, lock};

/// Events read from the OS poller per turn.
pub(super) const EVENTS_CAPACITY: usize = 1024;

/// What the holder of the poller works with.
pub(super) struct Core {
    pub(super) os: Os,
    timers: Timers,
    wakers: Vec<Waker>,
    /// Poll count, stamped on IO readiness (see `io.rs`).
    tick: u32,
}

impl Core {
    pub(super) fn new(os: Os) -> Core {
        Core {
            os,
            timers: Timers::new(),
            wakers: Vec::new(),
            tick: 0,
        }
    }
}

impl Shared {
    /// One turn of the poller: apply queued timer operations, block until a
    /// readiness event or the next timer deadline (only if nothing is ready
    /// yet and `may_block` agrees), record the events, fire the due timers,
    /// then wake every task they freed. Returns how many wakers it woke.
    pub(super) fn turn(
        &self,
        core: &mut Held<'_, Core>,
        may_block: &mut dyn FnMut() -> bool,
    ) -> usize {
        let core = &mut **core;
        self.process_timers(core);
        let timeout = if !core.wakers.is_empty() {
            Some(Duration::ZERO)
        } else {
            match core.timers.prepare_to_sleep(&self.timer_queue) {
                // Operations arrived meanwhile: look at them first.
                None => Some(Duration::ZERO),
                Some(None) => None,
                Some(Some(next_tick)) => Some(self.clock.until_tick(next_tick, Instant::now())),
            }
        };
        let timeout = match timeout {
            Some(Duration::ZERO) => Some(Duration::ZERO),
            _ if !may_block() => Some(Duration::ZERO),
            timeout => timeout,
        };
        match core.os.poll(timeout) {
            Ok(()) => {
                core.tick = core.tick.wrapping_add(1);
                if !core.os.events.is_empty() {
                    lock(&self.sources).dispatch(core.tick, &core.os.events, &mut core.wakers);
                }
            }
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(error) => {
                // The OS poller failed for good: shut the reactor down so
                // that waiting tasks see errors instead of hanging.
                eprintln!(
                    "evloop: the reactor's poller failed, shutting the reactor down: {error}"
                );
                self.shutdown.store(true, Ordering::Release);
                self.poller.wake_reactor_thread();
            }
        }
        // Timers that came due while blocked; this also tells the timer
        // queue that nobody sleeps in the poller any more.
        self.process_timers(core);
        let woken = core.wakers.len();
        wake_batch(&mut core.wakers);
        woken
    }

    fn process_timers(&self, core: &mut Core) {
        let now = self.clock.now_tick(Instant::now());
        core.timers
            .process(&self.timer_queue, now, &mut core.wakers);
    }
}

impl crate::scheduler::Driver for Shared {
    fn park(&self, may_block: &mut dyn FnMut() -> bool) -> bool {
        let Some(mut core) = self.poller.try_acquire() else {
            return false;
        };
        if !self.is_shutdown() {
            self.turn(&mut core, may_block);
        }
        self.poller.release(core);
        true
    }

    fn unpark(&self) {
        self.poller.wake_holder();
    }

    fn is_free(&self) -> bool {
        self.poller.is_free() && !self.is_shutdown()
    }
}

/// The reactor thread: drives the poller whenever nobody else has for a
/// watch period (see the protocol in [`poller`](super::poller)), until the
/// reactor shuts down; then closes every source and fires every timer, so
/// that no task waits on a reactor that is gone.
pub(super) fn run(shared: &Shared) {
    let poller = &shared.poller;
    // No generation matches this: the first look starts a watch period.
    let mut last = usize::MAX;
    while !shared.is_shutdown() {
        match poller.look(last) {
            Look::Driven(generation) => {
                last = generation;
                poller.sleep(Some(WATCH_PERIOD));
            }
            Look::Idle(generation) => {
                poller.sleep_until_released(generation);
                // Released (or never slept): a new watch period.
                last = usize::MAX;
            }
            Look::Abandoned => match poller.try_acquire() {
                Some(mut core) => {
                    let woken = shared.turn(&mut core, &mut || true);
                    last = poller.release(core);
                    if woken > 0 {
                        // Workers are awake to run what was woken; they
                        // take the poller when they run dry.
                        poller.sleep(Some(WATCH_PERIOD));
                    }
                }
                None => last = usize::MAX,
            },
        }
    }

    let mut core = poller.acquire();
    let core = &mut *core;
    lock(&shared.sources).close_all(&mut core.wakers);
    core.timers.shutdown(&shared.timer_queue, &mut core.wakers);
    wake_batch(&mut core.wakers);
}

/// Wakes every collected waker; from a thread that is not one of the
/// loop's workers, the workers are notified once for the whole batch.
fn wake_batch(wakers: &mut Vec<Waker>) {
    if wakers.is_empty() {
        return;
    }
    let batch = WakeBatch::open();
    for waker in wakers.drain(..) {
        // A waker is user code: its panic must neither unwind through the
        // thread that holds the poller (the reactor thread, or a worker,
        // which would then never give the poller back) nor keep the rest
        // of the batch from being woken.
        contain_panic(|| waker.wake());
    }
    batch.flush();
}
