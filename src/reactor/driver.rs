//! The reactor thread's loop.

use std::task::Waker;
use std::time::{Duration, Instant};

use mio::{Events, Poll};

use super::Handle;
use super::timer::Timers;
use crate::scheduler::WakeBatch;
use crate::util::{contain_panic, lock_std as lock};

/// Events read from the OS poller per iteration.
const EVENTS_CAPACITY: usize = 1024;

/// Runs the reactor until [`Handle::is_shutdown`], then closes every source
/// and fires every timer so that no task waits on a reactor that is gone.
pub(super) fn run(mut poll: Poll, handle: Handle) {
    let shared = &handle.shared;
    let mut events = Events::with_capacity(EVENTS_CAPACITY);
    let mut timers = Timers::new();
    let mut wakers: Vec<Waker> = Vec::new();
    let mut tick: u32 = 0;
    loop {
        let now = Instant::now();
        timers.process(&shared.timer_queue, shared.clock.now_tick(now), &mut wakers);
        wake_batch(&mut wakers);

        if handle.is_shutdown() {
            break;
        }
        let timeout = match timers.prepare_to_sleep(&shared.timer_queue) {
            // Operations arrived while firing: look at them before sleeping.
            None => Some(Duration::ZERO),
            Some(None) => None,
            Some(Some(next_tick)) => Some(shared.clock.until_tick(next_tick, Instant::now())),
        };
        if let Err(error) = poll.poll(&mut events, timeout) {
            if error.kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            // The OS poller failed for good: shut down so that waiting tasks
            // see errors instead of hanging.
            eprintln!("evloop: the reactor's poller failed, shutting the reactor down: {error}");
            break;
        }
        tick = tick.wrapping_add(1);
        if !events.is_empty() {
            lock(&shared.sources).dispatch(tick, &events, &mut wakers);
        }
    }

    lock(&shared.sources).close_all(&mut wakers);
    timers.shutdown(&shared.timer_queue, &mut wakers);
    wake_batch(&mut wakers);
}

/// Wakes every collected waker, after all locks were released; the
/// workers are notified once for the whole batch.
fn wake_batch(wakers: &mut Vec<Waker>) {
    if wakers.is_empty() {
        return;
    }
    let batch = WakeBatch::open();
    for waker in wakers.drain(..) {
        // A waker is user code: its panic must neither kill the reactor
        // thread nor keep the rest of the batch from being woken.
        contain_panic(|| waker.wake());
    }
    batch.flush();
}
