//! The raw task: one allocation holding the header and the future (later its
//! output), the type-erased vtable, and the owning pointers that hand
//! references around (`Notified` for run queues).
//!
//! All `unsafe` of the task system lives in this file and in `waker.rs`.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Waker};

use super::done::DoneCallbacks;
use super::error::TaskError;
use super::list::Links;
use super::state::{State, ToIdle, ToRunning};
use super::{TaskRef, context, waker};
use crate::loom::UnsafeCell;

/// What runs tasks: the scheduler implements this for its shared state.
pub(crate) trait Schedule: Send + Sync + 'static {
    /// Puts a woken task into a run queue (the current worker's, when called
    /// from one).
    fn schedule(&self, task: Notified);

    /// Puts a task that woke itself behind the others (`yield_now`).
    fn yield_now(&self, task: Notified) {
        self.schedule(task);
    }

    /// Removes a completed task from the live-task list. Returns true when
    /// the list held a reference, which the caller then drops.
    fn release(&self, task: NonNull<Header>) -> bool;

    /// Wakes a sleeping worker if work was queued without notifying
    /// (see `scheduler::batch_wakeups`).
    fn notify_parked(&self) {}
}

/// The part of every task that does not depend on the future's type.
#[repr(C)]
pub(crate) struct Header {
    pub(crate) state: State,
    vtable: &'static Vtable,
    pub(crate) id: u64,
    pub(crate) name: Option<Box<str>>,
    pub(crate) scheduler: StdArc<dyn Schedule>,
    pub(crate) done_callbacks: DoneCallbacks,
    /// Owned by the `Task<T>` handle while JOIN_WAKER is clear, by the
    /// completer once it is set (see the rules in `task/mod.rs`).
    join_waker: UnsafeCell<Option<Waker>>,
    /// Intrusive links of the live-task list, guarded by its shard lock.
    pub(crate) links: UnsafeCell<Links>,
}

// SAFETY: every field is either Sync itself (state, ids, name, scheduler,
// callbacks) or an UnsafeCell whose access is serialised by the state
// machine (join waker) or by the live-task list's shard lock (links).
unsafe impl Send for Header {}
// SAFETY: see above.
unsafe impl Sync for Header {}

/// Type-erased operations on a `Cell<F>`.
pub(crate) struct Vtable {
    /// Runs the task; consumes the caller's reference.
    run: unsafe fn(NonNull<Header>),
    /// Drops the future in place after `transition_to_shutdown` succeeded and
    /// completes the task as cancelled (or refused); consumes one reference.
    shutdown: unsafe fn(NonNull<Header>, TaskErrorKindHint),
    /// Moves the output into `*mut Option<Result<T, TaskError>>`.
    read_output: unsafe fn(NonNull<Header>, *mut ()),
    /// Drops the output in place.
    drop_output: unsafe fn(NonNull<Header>),
    /// Whether the stored output is an error other than a cancellation.
    output_is_failure: unsafe fn(NonNull<Header>) -> bool,
    /// Frees the allocation.
    dealloc: unsafe fn(NonNull<Header>),
}

/// Why a task's future is dropped without completing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TaskErrorKindHint {
    /// `cancel()` or loop shutdown.
    Cancelled,
    /// The loop was closed before the task could be scheduled.
    Refused,
}

enum Stage<F: Future> {
    Running(F),
    Finished(Result<F::Output, TaskError>),
    Consumed,
}

#[repr(C)]
struct Cell<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

impl<F> Cell<F>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    const VTABLE: Vtable = Vtable {
        run: run::<F>,
        shutdown: shutdown::<F>,
        read_output: read_output_cell::<F>,
        drop_output: drop_output_cell::<F>,
        output_is_failure: output_is_failure_cell::<F>,
        dealloc: dealloc_cell::<F>,
    };
}

/// Allocates a task. Returns the header pointer owning three references
/// (handle, run queue, live-task list; see `State::new`).
pub(crate) fn allocate<F>(
    future: F,
    id: u64,
    name: Option<Box<str>>,
    scheduler: StdArc<dyn Schedule>,
) -> NonNull<Header>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let cell = Box::new(Cell {
        header: Header {
            state: State::new(),
            vtable: &Cell::<F>::VTABLE,
            id,
            name,
            scheduler,
            done_callbacks: DoneCallbacks::new(),
            join_waker: UnsafeCell::new(None),
            links: UnsafeCell::new(Links::default()),
        },
        stage: UnsafeCell::new(Stage::Running(future)),
    });
    // Cell is repr(C) with the header first, so the cell pointer is a header pointer.
    NonNull::from(Box::leak(cell)).cast::<Header>()
}

/// Borrows the header behind a live task pointer.
///
/// # Safety
/// `ptr` must point to a task whose reference count the caller keeps above zero.
#[inline]
pub(crate) unsafe fn header<'a>(ptr: NonNull<Header>) -> &'a Header {
    // SAFETY: the caller holds a reference, so the allocation is alive.
    unsafe { ptr.as_ref() }
}

/// # Safety
/// `ptr` must be the header of a `Cell<F>`, and the caller must hold a reference.
#[inline]
unsafe fn cell<'a, F: Future>(ptr: NonNull<Header>) -> &'a Cell<F> {
    // SAFETY: the header is the first field of the repr(C) Cell<F>, and the
    // vtable that called us was built for this F.
    unsafe { ptr.cast::<Cell<F>>().as_ref() }
}

/// Drops `count` references; frees the task when they were the last.
///
/// # Safety
/// The caller must own `count` references to the task.
pub(crate) unsafe fn drop_references(ptr: NonNull<Header>, count: usize) {
    // SAFETY: the caller owns `count` references, so the header is alive.
    let header = unsafe { header(ptr) };
    if header.state.ref_dec(count) {
        // SAFETY: that was the last reference; nobody can reach the task now.
        unsafe { dealloc(ptr) }
    }
}

/// Frees a task.
///
/// # Safety
/// The reference count reached zero: nobody else can reach the task.
pub(crate) unsafe fn dealloc(ptr: NonNull<Header>) {
    // SAFETY: the allocation is alive until this call; the vtable matches it.
    unsafe { (header(ptr).vtable.dealloc)(ptr) }
}

/// A reference to a task that is due to run: what run queues hold.
pub(crate) struct Notified(NonNull<Header>);

// SAFETY: a task may be run from any worker thread; its future is Send.
unsafe impl Send for Notified {}

impl Notified {
    /// # Safety
    /// The caller transfers one reference it owns to the new `Notified`.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Notified {
        Notified(ptr)
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: a Notified owns a reference.
        unsafe { header(self.0) }
    }

    /// Polls the task once (or drops its future if cancelled).
    pub(crate) fn run(self) {
        let this = ManuallyDrop::new(self);
        // SAFETY: `run` consumes the reference that `this` owns; the vtable
        // belongs to this task.
        unsafe { (this.header().vtable.run)(this.0) }
    }

    /// Completes a task that could not be bound to a closed loop: drops its
    /// future and stores a "loop closed" error. Consumes this reference and
    /// the live-task list's reference, which was never handed out.
    pub(crate) fn refuse(self) {
        let this = ManuallyDrop::new(self);
        let header = this.header();
        if header.state.transition_to_shutdown() {
            // SAFETY: the transition made us the owner of the future; we hold
            // this reference plus the list's unused one.
            unsafe {
                (header.vtable.shutdown)(this.0, TaskErrorKindHint::Refused);
                drop_references(this.0, 1);
            }
        } else {
            // SAFETY: we own both references.
            unsafe { drop_references(this.0, 2) }
        }
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        // SAFETY: a Notified owns one reference.
        unsafe { drop_references(self.0, 1) }
    }
}

/// Drops the future of a task taken from the live-task list at loop
/// shutdown. Consumes the list's reference.
///
/// # Safety
/// The caller must own the live-task list's reference to `ptr`.
pub(crate) unsafe fn shutdown_task(ptr: NonNull<Header>) {
    // SAFETY: the caller owns a reference.
    let header = unsafe { header(ptr) };
    if header.state.transition_to_shutdown() {
        // SAFETY: the transition made us the owner of the future; `shutdown`
        // consumes the list's reference.
        unsafe { (header.vtable.shutdown)(ptr, TaskErrorKindHint::Cancelled) }
    } else {
        // A worker is polling it (and will drop it on return, since the
        // cancel flag is now set) or it already completed.
        // SAFETY: we own the list's reference.
        unsafe { drop_references(ptr, 1) }
    }
}

/// Reads the output into `dst` (`*mut Option<Result<T, TaskError>>`).
///
/// # Safety
/// The task must be complete, the caller must be the `Task<T>` handle
/// (JOIN_INTEREST set) and `T` must be the future's output type.
pub(crate) unsafe fn read_output(ptr: NonNull<Header>, dst: *mut ()) {
    // SAFETY: forwarded from the caller's contract.
    unsafe { (header(ptr).vtable.read_output)(ptr, dst) }
}

/// Whether the stored output is an error other than a cancellation (a
/// panic, or a refusal by a closed loop); false once the output was taken.
///
/// # Safety
/// The task must be complete and the caller must be the `Task<T>` handle
/// (JOIN_INTEREST set), which owns the output and does not take it meanwhile.
pub(crate) unsafe fn output_is_failure(ptr: NonNull<Header>) -> bool {
    // SAFETY: forwarded from the caller's contract.
    unsafe { (header(ptr).vtable.output_is_failure)(ptr) }
}

/// Drops the stored output.
///
/// # Safety
/// The task must be complete and the caller must own the output.
pub(crate) unsafe fn drop_output_of(ptr: NonNull<Header>) {
    // SAFETY: forwarded from the caller's contract.
    unsafe { (header(ptr).vtable.drop_output)(ptr) }
}

impl Header {
    /// True once the task finished.
    pub(crate) fn is_done(&self) -> bool {
        self.state.load().is_complete()
    }

    /// True once the task finished because it was cancelled.
    pub(crate) fn is_cancelled(&self) -> bool {
        let state = self.state.load();
        state.is_complete() && state.is_cancelled()
    }

    /// Writes the join waker.
    ///
    /// # Safety
    /// Only the handle may call this, and only while JOIN_WAKER is clear.
    pub(crate) unsafe fn set_join_waker(&self, waker: Waker) {
        // SAFETY: per the contract the handle has exclusive access.
        self.join_waker
            .with_mut(|slot| unsafe { *slot = Some(waker) });
    }

    /// Whether the stored join waker would wake the same task as `waker`.
    ///
    /// # Safety
    /// Only the handle may call this, while JOIN_WAKER is set (only reads
    /// happen then).
    pub(crate) unsafe fn join_waker_will_wake(&self, waker: &Waker) -> bool {
        // SAFETY: per the contract nobody writes the slot concurrently.
        self.join_waker.with(|slot| unsafe {
            (*slot)
                .as_ref()
                .is_some_and(|stored| stored.will_wake(waker))
        })
    }

    /// Wakes the join waker from the completer.
    ///
    /// # Safety
    /// Only the completer may call this, after the transition to COMPLETE
    /// found JOIN_WAKER set.
    unsafe fn wake_join_waker(&self) {
        // SAFETY: per the contract the handle no longer writes the slot.
        self.join_waker.with(|slot| unsafe {
            if let Some(waker) = (*slot).as_ref() {
                // User code: its panic must not skip the done callbacks,
                // nor kill the worker completing the task.
                crate::util::contain_panic(|| waker.wake_by_ref());
            }
        });
    }
}

/// Catches a panic so that it becomes the task's outcome.
fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Box<dyn std::any::Any + Send>> {
    catch_unwind(AssertUnwindSafe(f))
}

/// # Safety
/// Caller holds one reference, consumed here; `F` is the task's future type.
unsafe fn run<F>(ptr: NonNull<Header>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // SAFETY: the caller holds a reference and the vtable matches F.
    let cell = unsafe { cell::<F>(ptr) };
    let header = &cell.header;
    match header.state.transition_to_running() {
        ToRunning::Skip => {
            // SAFETY: we own the reference being dropped.
            unsafe { drop_references(ptr, 1) };
            return;
        }
        ToRunning::Cancel => {
            // SAFETY: RUNNING is ours; we own one reference.
            unsafe { finish::<F>(ptr, TaskErrorKindHint::Cancelled) };
            return;
        }
        ToRunning::Poll => {}
    }

    // The waker borrows our reference instead of taking one.
    // SAFETY: the reference we hold outlives this poll.
    let waker = ManuallyDrop::new(unsafe { waker::borrowed(ptr) });
    let mut cx = Context::from_waker(&waker);
    let polled = {
        let _current = context::enter_task(ptr);
        cell.stage.with_mut(|stage| {
            catch(|| match
                // SAFETY: RUNNING gives us exclusive access to the stage;
                // the future is never moved out of its allocation.
                unsafe { &mut *stage } {
                Stage::Running(future) => {
                    // SAFETY: the future is pinned inside the task allocation.
                    unsafe { Pin::new_unchecked(future) }.poll(&mut cx)
                }
                _ => unreachable!("a running task always holds its future"),
            })
        })
    };

    let outcome = match polled {
        Ok(Poll::Pending) => match header.state.transition_to_idle() {
            ToIdle::Idle => {
                // SAFETY: we own the reference being dropped.
                unsafe { drop_references(ptr, 1) };
                return;
            }
            ToIdle::Notified => {
                // SAFETY: our reference moves to the run queue.
                header
                    .scheduler
                    .yield_now(unsafe { Notified::from_raw(ptr) });
                return;
            }
            ToIdle::Cancelled => {
                // SAFETY: RUNNING is still ours; we own one reference.
                unsafe { finish::<F>(ptr, TaskErrorKindHint::Cancelled) };
                return;
            }
        },
        Ok(Poll::Ready(value)) => Ok(value),
        Err(payload) => Err(TaskError::panic(header.id, header.name.as_deref(), payload)),
    };
    // SAFETY: RUNNING is ours.
    let outcome = match unsafe { drop_future::<F>(cell) } {
        Ok(()) => outcome,
        Err(payload) => Err(TaskError::panic(header.id, header.name.as_deref(), payload)),
    };
    // SAFETY: RUNNING is ours; we own one reference.
    unsafe { complete::<F>(ptr, outcome) }
}

/// Drops the future, catching a panic in its destructor.
///
/// # Safety
/// The caller must own the stage (hold RUNNING).
unsafe fn drop_future<F: Future>(cell: &Cell<F>) -> Result<(), Box<dyn std::any::Any + Send>> {
    cell.stage.with_mut(|stage| {
        // SAFETY: exclusive access per the contract.
        catch(|| unsafe { *stage = Stage::Consumed })
    })
}

/// Drops the future of a task that will not run again and completes it with
/// an error of `kind`.
///
/// # Safety
/// The caller holds RUNNING and one reference, consumed here.
unsafe fn finish<F>(ptr: NonNull<Header>, kind: TaskErrorKindHint)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // SAFETY: forwarded from the caller.
    let cell = unsafe { cell::<F>(ptr) };
    let header = &cell.header;
    let _current = context::enter_task(ptr);
    // SAFETY: RUNNING is ours.
    let outcome = match unsafe { drop_future::<F>(cell) } {
        Err(payload) => TaskError::panic(header.id, header.name.as_deref(), payload),
        Ok(()) => match kind {
            TaskErrorKindHint::Cancelled => TaskError::cancelled(header.id, header.name.as_deref()),
            TaskErrorKindHint::Refused => TaskError::closed(header.id, header.name.as_deref()),
        },
    };
    drop(_current);
    // SAFETY: forwarded from the caller.
    unsafe { complete::<F>(ptr, Err(outcome)) }
}

/// Stores the outcome, publishes COMPLETE and notifies the handle and the
/// done callbacks.
///
/// # Safety
/// The caller holds RUNNING and one reference, consumed here.
unsafe fn complete<F>(ptr: NonNull<Header>, outcome: Result<F::Output, TaskError>)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // SAFETY: forwarded from the caller.
    let cell = unsafe { cell::<F>(ptr) };
    let header = &cell.header;
    let cancelled = matches!(&outcome, Err(e) if e.is_cancelled());
    // SAFETY: RUNNING gives exclusive access to the stage.
    cell.stage
        .with_mut(|stage| unsafe { *stage = Stage::Finished(outcome) });

    let prev = header.state.transition_to_complete(cancelled);
    if !prev.is_join_interested() {
        // Nobody will read the output: it is ours to drop.
        // SAFETY: COMPLETE without JOIN_INTEREST makes the completer the owner.
        let _ = cell
            .stage
            .with_mut(|stage| catch(|| unsafe { *stage = Stage::Consumed }));
    } else if prev.has_join_waker() {
        // SAFETY: we performed the transition that found JOIN_WAKER set.
        unsafe { header.wake_join_waker() };
    }

    // SAFETY: we own a reference for the duration of the callbacks.
    let this = ManuallyDrop::new(unsafe { TaskRef::from_raw(ptr) });
    header.done_callbacks.close_and_run(&this);

    let released = header.scheduler.release(ptr);
    // SAFETY: our reference, plus the list's if it handed it back.
    unsafe { drop_references(ptr, 1 + usize::from(released)) }
}

/// # Safety
/// The caller won `transition_to_shutdown` and owns one reference.
unsafe fn shutdown<F>(ptr: NonNull<Header>, kind: TaskErrorKindHint)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // SAFETY: forwarded from the caller.
    unsafe { finish::<F>(ptr, kind) }
}

/// # Safety
/// See `Vtable::read_output`.
unsafe fn read_output_cell<F: Future>(ptr: NonNull<Header>, dst: *mut ()) {
    // SAFETY: the vtable matches F.
    let cell = unsafe { cell::<F>(ptr) };
    cell.stage.with_mut(|stage| {
        // SAFETY: COMPLETE with JOIN_INTEREST gives the handle the output.
        let stage = unsafe { &mut *stage };
        if let Stage::Finished(_) = stage {
            let Stage::Finished(output) = std::mem::replace(stage, Stage::Consumed) else {
                unreachable!()
            };
            // SAFETY: dst points to an Option<Result<F::Output, TaskError>>.
            unsafe { *dst.cast::<Option<Result<F::Output, TaskError>>>() = Some(output) };
        }
    });
}

/// # Safety
/// See `output_is_failure`.
unsafe fn output_is_failure_cell<F: Future>(ptr: NonNull<Header>) -> bool {
    // SAFETY: the vtable matches F.
    let cell = unsafe { cell::<F>(ptr) };
    cell.stage.with(|stage| {
        // SAFETY: the handle owns the completed output; nobody writes it now.
        matches!(unsafe { &*stage }, Stage::Finished(Err(e)) if !e.is_cancelled())
    })
}

/// # Safety
/// See `Vtable::drop_output`.
unsafe fn drop_output_cell<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the vtable matches F.
    let cell = unsafe { cell::<F>(ptr) };
    // SAFETY: the caller owns the output.
    cell.stage
        .with_mut(|stage| unsafe { *stage = Stage::Consumed });
}

/// # Safety
/// No references remain.
unsafe fn dealloc_cell<F: Future>(ptr: NonNull<Header>) {
    // SAFETY: the allocation was made by `allocate` as a Box<Cell<F>>, and
    // nobody else can reach it.
    drop(unsafe { Box::from_raw(ptr.cast::<Cell<F>>().as_ptr()) });
}
