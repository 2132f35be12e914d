//! The reactor: IO readiness and timers, around one OS poller (`mio::Poll`)
//! and a thread of its own.
//!
//! The poller is a lock ([`poller`] has the protocol): an idle worker takes
//! it and blocks in it instead of sleeping, so a readiness event or a timer
//! on an idle loop wakes the worker that runs the task, with no thread
//! handoff; the reactor thread drives it when no worker has for a while, so
//! IO and timers move when every worker is busy. Any thread registers an IO
//! source through a cloned `mio::Registry` (see [`io`]) or a timer through
//! a queue the poller's holder drains (see [`timer`]); the holder is woken
//! through the `mio::Waker` only when a new timer is due earlier than the
//! deadline it sleeps until, when a worker blocked in it has work, or at
//! shutdown.
//!
//! One turn of the poller ([`driver`]): apply queued timer operations;
//! poll; record the IO events and collect the wakers they free; fire the
//! expired timers; then wake the whole batch inside a
//! `scheduler::WakeBatch`. A wake on a worker queues the task on that
//! worker; a wake from the reactor thread pushes it into the scheduler's
//! global injector, and each loop's workers are notified once for the
//! batch, so it reaches them in one burst.
//!
//! The reactor keeps only IO and timers; the loop's callbacks (`call_later`
//! and friends) live in `callbacks/`. Code finds the reactor of the loop it
//! runs in through the thread's context ([`current`]); the reactor itself
//! names nothing above the scheduler.
//!
//! Every lock and atomic that threads share here (the poller's protocol,
//! the table of sources, a source's readiness, the timers' handoffs, the
//! shutdown flag) goes through the loom switch; under loom the OS poller is
//! a stand-in (see [`poller`]).

mod driver;
pub(crate) mod fd;
pub(crate) mod io;
mod poller;
pub(crate) mod timer;

use std::fmt;
use std::io as stdio;
use std::sync::Arc;
use std::thread::JoinHandle;

use crate::loom::{AtomicBool, Mutex, Ordering};

use crate::task::context;

// Kept under this path for the modules that still import it from here.

/// State shared by the reactor thread, the workers and every [`Handle`].
pub(crate) struct Shared {
    registry: mio::Registry,
    poller: poller::Poller<driver::Core>,
    sources: Mutex<io::Sources>,
    timer_queue: timer::TimerQueue,
    clock: timer::Clock,
    shutdown: AtomicBool,
}

impl Shared {
    /// The reactor's state, its poller not yet driven by anyone.
    fn new() -> stdio::Result<Arc<Shared>> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let (os, waker) = poller::Os::new(poll, driver::EVENTS_CAPACITY)?;
        Ok(Arc::new(Shared {
            registry,
            poller: poller::Poller::new(driver::Core::new(os), waker),
            sources: Mutex::new(io::Sources::default()),
            timer_queue: timer::TimerQueue::new(),
            clock: timer::Clock::new(),
            shutdown: AtomicBool::new(false),
        }))
    }

    fn is_shutdown(&self) -> bool {
        self.shutdown.load(Ordering::Acquire)
    }
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

    /// Registers a timer due at `tick` that wakes `waker`, as a sleep does
    /// when first polled. `None` when the reactor has shut down.
    pub(crate) fn register_timer(
        &self,
        tick: u64,
        waker: &std::task::Waker,
    ) -> Option<Arc<timer::TimerEntry>> {
        let entry = timer::TimerEntry::new(tick);
        entry.set_waker(waker);
        self.push_timer_op(timer::TimerOp::Register(entry.clone()))
            .then_some(entry)
    }

    /// Number of registered timers that have neither fired nor been
    /// cancelled, exact at the time of the call.
    pub(crate) fn pending_timers(&self) -> usize {
        self.shared.timer_queue.pending()
    }

    /// IO sources registered with the reactor now.
    pub(crate) fn io_sources(&self) -> usize {
        crate::util::lock(&self.shared.sources).len()
    }

    /// Whether the reactor has been told to shut down.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shared.is_shutdown()
    }

    /// This reactor as the thread's context holds it (see [`current`]).
    pub(crate) fn as_context_part(&self) -> Arc<dyn std::any::Any + Send + Sync> {
        self.shared.clone()
    }

    /// Interrupts the thread blocked in the poller (a new timer is due
    /// earlier than the deadline it sleeps until).
    fn wake_reactor(&self) {
        self.shared.poller.wake_holder();
    }

    /// Tells the reactor to shut down: wakes the poller's holder and the
    /// reactor thread, which then closes every source and fires every
    /// timer.
    pub(crate) fn signal_shutdown(&self) {
        self.shared.shutdown.store(true, Ordering::Release);
        self.wake_reactor();
        self.shared.poller.wake_reactor_thread();
    }

    /// Runs the reactor thread's loop on the calling thread (the models
    /// run it on a loom thread of their own).
    #[cfg(loom)]
    pub(crate) fn run_reactor_thread(&self) {
        driver::run(&self.shared);
    }

    /// A reactor whose thread the caller runs ([`run_reactor_thread`]).
    #[cfg(loom)]
    pub(crate) fn without_thread() -> stdio::Result<Handle> {
        Ok(Handle {
            shared: Shared::new()?,
        })
    }

    /// The poller as the scheduler's idle workers see it.
    pub(crate) fn driver(&self) -> Arc<dyn crate::scheduler::Driver> {
        self.shared.clone()
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
        let handle = Handle {
            shared: Shared::new()?,
        };
        let thread_handle = handle.clone();
        let thread = std::thread::Builder::new()
            .name(format!("{thread_name}-reactor"))
            .spawn(move || driver::run(&thread_handle.shared))?;
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
            self.handle.signal_shutdown();
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
