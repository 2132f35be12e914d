//! The thread's context: the one thread-local of evloop, holding what a
//! thread is doing for a loop. The loop it is in (`Handle::enter`), whether
//! it drives one (`run_until_complete`, `run_forever`), the worker or
//! blocking-pool thread it is, the task it polls, and the scheduler wake-ups
//! it holds back while it wakes a batch of tasks.
//!
//! It sits in the task system, the lowest layer that keeps per-thread state,
//! so that each layer reads its own part without naming the layers above
//! it. A part that belongs to a higher layer is kept here in a form this
//! layer can hold (an untyped pointer, a `dyn Any`) and read back, typed, by
//! the layer that owns it: `scheduler::worker` (the worker),
//! `blocking::pool` (the pool),
//! `reactor::current` (the reactor), `runtime::context` (the loop's handle
//! and the driving flag). Every part is set through a guard that restores the
//! previous value when dropped, so contexts nest.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::ptr::NonNull;
use std::sync::Arc as StdArc;
use std::time::Instant;

use super::TaskRef;
use super::raw::{self, Header, Schedule};
use super::spawn::Spawner;
use crate::loom::thread_local_const;

/// What one thread is doing for evloop.
struct Context {
    /// The loop this thread is in, while a `Handle::enter` guard lives.
    current: RefCell<Option<EnteredLoop>>,
    /// Set while the thread drives a loop (`run_until_complete`, `run_forever`).
    driving: Cell<bool>,
    /// The worker this thread is (a `scheduler::worker::WorkerCtx`), for its
    /// whole life; null on other threads.
    worker: Cell<*const ()>,
    /// The blocking pool this thread belongs to (a `blocking::pool::Shared`),
    /// while it is a pool thread; null on other threads.
    blocking_pool: Cell<*const ()>,
    /// The loop (a `scheduler::Shared`) this thread is closing, while
    /// `EventLoop::close` runs on it; null otherwise. Only compared.
    closing: Cell<*const ()>,
    /// The task this thread is polling (or dropping).
    task: Cell<Option<NonNull<Header>>>,
    /// While a wake batch is open, the schedulers that were handed work
    /// without waking a worker; each is notified once when it closes.
    wake_batch: RefCell<Option<Vec<StdArc<dyn Schedule>>>>,
    /// The earliest deadline of the `time::Timeout`s whose future this
    /// thread is polling (the ones around the code that runs now).
    enclosing_deadline: Cell<Option<Instant>>,
}

thread_local_const! {
    static CONTEXT: Context = Context {
        current: RefCell::new(None),
        driving: Cell::new(false),
        worker: Cell::new(std::ptr::null()),
        blocking_pool: Cell::new(std::ptr::null()),
        closing: Cell::new(std::ptr::null()),
        task: Cell::new(None),
        wake_batch: RefCell::new(None),
        enclosing_deadline: Cell::new(None),
    };
}

/// Runs `f` on this thread's context; `None` while the thread is being torn
/// down and its thread-locals are gone.
fn with<R>(f: impl FnOnce(&Context) -> R) -> Option<R> {
    CONTEXT.try_with(f).ok()
}

/// Swaps the earliest enclosing timeout deadline (see `time::timeout`) and
/// returns the previous one.
pub(crate) fn replace_enclosing_deadline(deadline: Option<Instant>) -> Option<Instant> {
    with(|cx| cx.enclosing_deadline.replace(deadline)).flatten()
}

/// The earliest deadline of the timeouts around the code that runs now.
pub(crate) fn enclosing_deadline() -> Option<Instant> {
    with(|cx| cx.enclosing_deadline.get()).flatten()
}

/// A loop as the layers below the runtime see it: the parts a thread needs
/// to spawn tasks, register timers and sockets, and name the loop.
#[derive(Clone)]
pub(crate) struct EnteredLoop {
    /// Where `spawn` puts new tasks: the loop's scheduler.
    pub(crate) scheduler: StdArc<dyn Spawner>,
    /// The loop's reactor (a `reactor::Shared`), for timers and sockets.
    pub(crate) reactor: StdArc<dyn Any + Send + Sync>,
    /// The loop itself (the runtime's `LoopInner`), for `Handle::current`.
    pub(crate) runtime: StdArc<dyn Any + Send + Sync>,
}

/// Restores the thread's previous loop when dropped (see [`enter`]).
pub(crate) struct EnterLoop {
    previous: Option<EnteredLoop>,
}

/// Makes `entered` this thread's loop until the guard is dropped.
pub(crate) fn enter(entered: EnteredLoop) -> EnterLoop {
    let previous = with(|cx| cx.current.borrow_mut().replace(entered)).flatten();
    EnterLoop { previous }
}

impl Drop for EnterLoop {
    fn drop(&mut self) {
        let previous = self.previous.take();
        let _ = with(|cx| *cx.current.borrow_mut() = previous);
    }
}

/// Runs `f` with this thread's loop, without cloning it.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&EnteredLoop>) -> R) -> R {
    let mut f = Some(f);
    with(|cx| (f.take().expect("called once"))(cx.current.borrow().as_ref()))
        .unwrap_or_else(|| (f.take().expect("called once"))(None))
}

/// Panics with the message for code that needs a current loop and has none.
#[track_caller]
pub(crate) fn no_current_loop() -> ! {
    panic!(
        "there is no current evloop event loop: call this from a task, from inside \
         EventLoop::run_until_complete / evloop::run, or while the guard of `handle.enter()` \
         lives; from any other thread, use the Handle's methods (Handle::spawn, ...)"
    )
}

/// Marks this thread as driving a loop until the guard is dropped; `None`
/// when it already does.
pub(crate) fn begin_driving() -> Option<Driving> {
    let was_driving = with(|cx| cx.driving.replace(true)).unwrap_or(true);
    (!was_driving).then_some(Driving(()))
}

/// Clears the driving flag when dropped (see [`begin_driving`]).
pub(crate) struct Driving(());

impl Drop for Driving {
    fn drop(&mut self) {
        let _ = with(|cx| cx.driving.set(false));
    }
}

/// The worker this thread is, as stored by [`set_worker`]; null when none.
pub(crate) fn worker() -> *const () {
    with(|cx| cx.worker.get()).unwrap_or(std::ptr::null())
}

/// Records (or, with null, clears) the worker this thread is. The scheduler
/// clears it before the worker it points to goes away.
pub(crate) fn set_worker(worker: *const ()) {
    let _ = with(|cx| cx.worker.set(worker));
}

/// The blocking pool this thread belongs to, as stored by
/// [`set_blocking_pool`]; null when none. Only compared, never read through.
pub(crate) fn blocking_pool() -> *const () {
    with(|cx| cx.blocking_pool.get()).unwrap_or(std::ptr::null())
}

/// Records (or, with null, clears) the blocking pool this thread belongs to.
pub(crate) fn set_blocking_pool(pool: *const ()) {
    let _ = with(|cx| cx.blocking_pool.set(pool));
}

/// The loop this thread is closing, as stored by [`enter_closing`]; null
/// when none. Only compared, never read through.
pub(crate) fn closing() -> *const () {
    with(|cx| cx.closing.get()).unwrap_or(std::ptr::null())
}

/// Marks this thread as closing the loop `closing` until the guard drops.
pub(crate) fn enter_closing(closing: *const ()) -> EnterClosing {
    EnterClosing {
        previous: with(|cx| cx.closing.replace(closing)).unwrap_or(std::ptr::null()),
    }
}

/// Restores the previous closing mark when dropped (see [`enter_closing`]).
pub(crate) struct EnterClosing {
    previous: *const (),
}

impl Drop for EnterClosing {
    fn drop(&mut self) {
        let _ = with(|cx| cx.closing.set(self.previous));
    }
}

/// Restores the previous current task when dropped.
pub(crate) struct EnterTask {
    previous: Option<NonNull<Header>>,
}

/// Marks `task` as the one this thread is polling.
pub(crate) fn enter_task(task: NonNull<Header>) -> EnterTask {
    EnterTask {
        previous: with(|cx| cx.task.replace(Some(task))).flatten(),
    }
}

impl Drop for EnterTask {
    fn drop(&mut self) {
        let _ = with(|cx| cx.task.set(self.previous));
    }
}

/// A reference to the task this thread is polling.
pub(crate) fn current_task() -> Option<TaskRef> {
    let task = with(|cx| cx.task.get()).flatten()?;
    // SAFETY: the worker polling the task holds a reference for the whole
    // poll, and the pointer is only set during it (`EnterTask`).
    Some(unsafe { raw::new_ref(task) })
}

/// Opens a wake batch on this thread (see `scheduler::WakeBatch`); returns
/// the batch that was open before, to be restored by [`close_wake_batch`].
pub(crate) fn open_wake_batch() -> Option<Vec<StdArc<dyn Schedule>>> {
    with(|cx| cx.wake_batch.borrow_mut().replace(Vec::new())).flatten()
}

/// Closes the wake batch, putting `outer` back, and returns the schedulers
/// that were handed work while it was open.
pub(crate) fn close_wake_batch(
    outer: Option<Vec<StdArc<dyn Schedule>>>,
) -> Vec<StdArc<dyn Schedule>> {
    with(|cx| std::mem::replace(&mut *cx.wake_batch.borrow_mut(), outer))
        .flatten()
        .unwrap_or_default()
}

/// While a wake batch is open, records that `scheduler` was handed work and
/// returns true: the caller skips waking a worker, the batch does it once at
/// the end. Returns false (wake now) when no batch is open.
pub(crate) fn defer_notify(scheduler: &StdArc<dyn Schedule>) -> bool {
    with(|cx| match cx.wake_batch.borrow_mut().as_mut() {
        Some(pushed_to) => {
            let me = StdArc::as_ptr(scheduler) as *const ();
            if !pushed_to
                .iter()
                .any(|s| StdArc::as_ptr(s) as *const () == me)
            {
                pushed_to.push(scheduler.clone());
            }
            true
        }
        None => false,
    })
    .unwrap_or(false)
}
