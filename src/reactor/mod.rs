//! The reactor thread: one OS thread that owns `mio::Poll`, waits for IO
//! readiness and for the nearest timer deadline, and wakes the tasks waiting
//! on them.
//!
//! Workers never block in the OS poller. Any thread registers an IO source
//! through a cloned `mio::Registry` (see [`io`]) or a timer through a queue
//! the reactor drains (see [`timer`]); the reactor is woken through its
//! `mio::Waker` only when a new timer is due earlier than the deadline it
//! sleeps until, or when it must shut down.
//!
//! One iteration of the reactor ([`driver`]): poll; record the IO events and
//! collect the wakers they free; apply queued timer operations and collect
//! the wakers of expired timers; then, with no lock held, wake the whole
//! batch inside a `scheduler::WakeBatch`: each woken task goes into its
//! scheduler's global injector, and each loop's workers are notified once
//! for the batch, so it reaches them in one burst.
//!
//! The reactor keeps only IO and timers; the loop's callbacks (`call_later`
//! and friends) live in `callbacks/`. Code finds the reactor of the loop it
//! runs in through the thread's context ([`current`]); the reactor itself
//! names nothing above the scheduler.
//!
//! The reactor's internals use `std::sync` directly rather than the loom
//! switch: it runs on a real OS thread blocked in the OS poller, which loom
//! cannot model.

mod driver;
pub(crate) mod fd;
pub(crate) mod io;
pub(crate) mod timer;

use std::fmt;
use std::io as stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use crate::task::context;

// Kept under this path for the modules that still import it from here.

/// State shared by the reactor thread and every [`Handle`].
pub(crate) struct Shared {
    registry: mio::Registry,
    waker: mio::Waker,
    sources: Mutex<io::Sources>,
    timer_queue: timer::TimerQueue,
    clock: timer::Clock,
    shutdown: AtomicBool,
}

/// A reference to a running reactor, usable from any thread.
#[derive(Clone)]
pub(crate) struct Handle {
    shared: Arc<Shared>,
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("reactor::Handle").finish_non_exhaustive()
    }
}

impl Handle {
    /// The reactor's clock.
    pub(crate) fn clock(&self) -> &timer::Clock {
        &self.shared.clock
    }

    /// Hands a timer operation to the reactor, waking it when needed.
    /// Returns `false` when the reactor has shut down.
    pub(crate) fn push_timer_op(&self, op: timer::TimerOp) -> bool {
        match self.shared.timer_queue.push(op) {
            timer::PushOutcome::Queued => true,
            timer::PushOutcome::WakeReactor => {
                self.wake_reactor();
                true
            }
            timer::PushOutcome::Closed => false,
        }
    }

    /// Number of registered timers that have neither fired nor been
    /// cancelled, exact at the time of the call.
    pub(crate) fn pending_timers(&self) -> usize {
        self.shared.timer_queue.pending()
    }

    /// Whether the reactor has been told to shut down.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shared.shutdown.load(Ordering::Acquire)
    }

    /// This reactor as the thread's context holds it (see [`current`]).
    pub(crate) fn as_context_part(&self) -> Arc<dyn std::any::Any + Send + Sync> {
        self.shared.clone()
    }

    fn wake_reactor(&self) {
        // Failing to wake means the poller itself is broken; the reactor
        // thread reports that on its own when it next polls.
        let _ = self.shared.waker.wake();
    }
}

/// The reactor: its thread and the means to stop it. Dropping it shuts the
/// thread down and joins it.
#[derive(Debug)]
pub(crate) struct Reactor {
    handle: Handle,
    thread: Option<JoinHandle<()>>,
}

impl Reactor {
    /// Starts the reactor thread, named `"{thread_name}-reactor"`.
    pub(crate) fn start(thread_name: &str) -> stdio::Result<Reactor> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), io::WAKER_TOKEN)?;
        let shared = Arc::new(Shared {
            registry,
            waker,
            sources: Mutex::new(io::Sources::default()),
            timer_queue: timer::TimerQueue::new(),
            clock: timer::Clock::new(),
            shutdown: AtomicBool::new(false),
        });
        let handle = Handle { shared };
        let thread_handle = handle.clone();
        let thread = std::thread::Builder::new()
            .name(format!("{thread_name}-reactor"))
            .spawn(move || driver::run(poll, thread_handle))?;
        Ok(Reactor {
            handle,
            thread: Some(thread),
        })
    }

    /// A handle to the reactor, for any thread.
    pub(crate) fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Stops the reactor thread and joins it. Every task still waiting on IO
    /// or a timer is woken: its IO fails with an error, its sleep completes.
    pub(crate) fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.handle.shared.shutdown.store(true, Ordering::Release);
            self.handle.wake_reactor();
            // The reactor thread runs no user code, so it cannot panic
            // through anything a user did; a panic there is a bug we
            // surface rather than hide.
            if let Err(panic) = thread.join() {
                if !std::thread::panicking() {
                    std::panic::resume_unwind(panic);
                }
            }
        }
    }
}

impl Drop for Reactor {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The reactor of the event loop the current thread is in.
///
/// # Panics
///
/// Outside an event loop, with the "no current loop" message.
#[track_caller]
pub(crate) fn current() -> Handle {
    match try_current() {
        Some(handle) => handle,
        None => context::no_current_loop(),
    }
}

/// The reactor of the event loop the current thread is in, or `None`
/// outside an event loop.
pub(crate) fn try_current() -> Option<Handle> {
    let shared = context::with_current(|entered| entered.map(|entered| entered.reactor.clone()))?;
    match Arc::downcast::<Shared>(shared) {
        Ok(shared) => Some(Handle { shared }),
        Err(_) => unreachable!("a loop's reactor part is always a reactor"),
    }
}
