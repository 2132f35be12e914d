//! The raw task: one allocation holding the header and the future (later its
//! output), the type-erased vtable, and the counted references that hand it
//! around.
//!
//! # Where the task system's `unsafe` lives
//!
//! Here, and in two small files:
//!
//! - `waker.rs`: the `RawWakerVTable`, whose functions are `unsafe fn` by
//!   definition; each treats the waker's data pointer as one task reference.
//! - `context.rs`: the current-task thread-local keeps a borrowed task
//!   pointer (valid while its poll runs) and turns it into a `TaskRef`.
//!
//! Everything else in `task/`, and every user of it (the scheduler, the loom
//! hooks), goes through the safe types of this file:
//!
//! - [`RawRef`]: one counted reference (the core of `TaskRef`): cloning
//!   takes another, dropping gives it back; it reads the header, cancels,
//!   and drops the future at loop shutdown.
//! - [`JoinRef`]: the `Task<T>` handle's reference, which also holds the
//!   right to the output (JOIN_INTEREST): it waits for completion through
//!   the join waker, takes the output, and drops it if nobody took it. The
//!   `Send`/`Sync` impls of `Task<T>` are here too.
//! - [`Notified`]: a run queue's reference: it runs the task, or refuses it.
//! - [`new_task`]: allocates a task and returns those three references.
//! - [`LinkedTasks`]: one shard of the live-task list, an intrusive list
//!   through the headers' links.

use std::future::Future;
use std::marker::PhantomData;
use std::mem::ManuallyDrop;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc as StdArc;
use std::sync::atomic::AtomicU64 as StdAtomicU64;
use std::task::{Context, Poll, Waker};

use super::done::DoneCallbacks;
use super::error::TaskError;
use super::info::{PollObserver, TaskStats};
use super::state::{OnWake, State, ToIdle, ToRunning};
use super::{Task, TaskRef, context, waker};
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

    /// Removes a completed task from the live-task list, and gives back the
    /// reference the list held (`None` when the task was not linked).
    fn release(&self, task: &TaskRef) -> Option<TaskRef>;

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
    /// Poll counts and times, and the spawn site (`info.rs`); right after
    /// the fields every poll reads, so that counting a poll touches no
    /// other part of the header.
    pub(crate) stats: TaskStats,
    pub(crate) done_callbacks: DoneCallbacks,
    /// Written by the `Task<T>` handle while JOIN_WAKER is clear; read-only
    /// while it is set, by the handle and by the completer (see rule 5 in
    /// `task/mod.rs`).
    join_waker: UnsafeCell<Option<Waker>>,
    /// The live-task list this task may be linked into (see `LinkedTasks`).
    owner: u64,
    /// Intrusive links of the live-task list, only touched by the
    /// `LinkedTasks` shard that owns the task, through `&mut`.
    links: UnsafeCell<Links>,
}

// SAFETY: every field is either Sync itself (state, ids, name, scheduler,
// callbacks) or an UnsafeCell whose access is serialised by the state
// machine (join waker) or by the live-task list's shard (links).
unsafe impl Send for Header {}
// SAFETY: see above.
unsafe impl Sync for Header {}

/// Type-erased operations on a `Cell<F>`.
struct Vtable {
    /// Runs the task, telling the observer about the poll; consumes the
    /// caller's reference.
    run: unsafe fn(NonNull<Header>, Option<&PollObserver>),
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
enum TaskErrorKindHint {
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

/// Allocates a task that belongs to the live-task list `owner` (see
/// [`LinkedTasks::new_list`]) and returns its three references: the
/// handle's, its first run's, and the one the live-task list will hold.
pub(crate) fn new_task<F>(
    future: F,
    id: u64,
    name: Option<Box<str>>,
    scheduler: StdArc<dyn Schedule>,
    owner: u64,
    stats: TaskStats,
) -> (JoinRef<F::Output>, Notified, TaskRef)
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
            stats,
            join_waker: UnsafeCell::new(None),
            owner,
            links: UnsafeCell::new(Links::default()),
        },
        stage: UnsafeCell::new(Stage::Running(future)),
    });
    // Cell is repr(C) with the header first, so the cell pointer is a header pointer.
    let ptr = NonNull::from(Box::leak(cell)).cast::<Header>();
    // `State::new` counts exactly these three references; the handle's
    // output type is the future's.
    let join = JoinRef {
        task: TaskRef { raw: RawRef(ptr) },
        _output: PhantomData,
    };
    (join, Notified(ptr), TaskRef { raw: RawRef(ptr) })
}

/// Borrows the header behind a live task pointer.
///
/// # Safety
/// `ptr` must point to a task whose reference count the caller keeps above zero.
#[inline]
pub(super) unsafe fn header<'a>(ptr: NonNull<Header>) -> &'a Header {
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
pub(super) unsafe fn drop_references(ptr: NonNull<Header>, count: usize) {
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
pub(super) unsafe fn dealloc(ptr: NonNull<Header>) {
    // SAFETY: the allocation is alive until this call; the vtable matches it.
    unsafe { (header(ptr).vtable.dealloc)(ptr) }
}

/// Takes a new reference to a task and wraps it in a `TaskRef`.
///
/// # Safety
/// The caller keeps the task alive (holds a reference) during the call.
pub(super) unsafe fn new_ref(ptr: NonNull<Header>) -> TaskRef {
    // SAFETY: per the contract the task is alive.
    unsafe { header(ptr) }.state.ref_inc();
    TaskRef { raw: RawRef(ptr) }
}

/// Drops the caller's reference to the task behind `ptr` together with
/// `other`, in one atomic step when `other` is a second reference to the
/// same task (the common case at completion and refusal).
///
/// # Safety
/// The caller owns one reference to `ptr`, consumed here.
unsafe fn drop_with(ptr: NonNull<Header>, other: Option<TaskRef>) {
    let mut count = 1;
    if let Some(other) = other {
        if other.raw.0 == ptr {
            std::mem::forget(other);
            count += 1;
        }
        // Another task's reference (never, from a correct scheduler) is
        // dropped on its own at the end of this scope.
    }
    // SAFETY: the caller's reference, plus `other` when it was forgotten above.
    unsafe { drop_references(ptr, count) }
}

/// One counted reference to a task: the core of `TaskRef`, and so of every
/// handle that reads the header. Cloning takes a reference, dropping gives
/// it back; the last one frees the task.
pub(crate) struct RawRef(NonNull<Header>);

// SAFETY: a reference only reads the header's Sync fields and changes the
// task through atomics; the header is Send and Sync.
unsafe impl Send for RawRef {}
// SAFETY: as above.
unsafe impl Sync for RawRef {}

impl RawRef {
    #[inline]
    pub(crate) fn header(&self) -> &Header {
        // SAFETY: a RawRef owns a reference.
        unsafe { header(self.0) }
    }

    /// Requests cancellation; false when the task had already completed.
    pub(crate) fn cancel(&self) -> bool {
        let header = self.header();
        let (not_done, action) = header.state.transition_to_cancelled();
        if action == OnWake::Submit {
            // The transition took a reference for the run queue.
            header.scheduler.schedule(Notified(self.0));
        }
        not_done
    }

    /// Drops the future of a task taken from the live-task list at loop
    /// shutdown, completing it as cancelled. Consumes the list's reference.
    pub(crate) fn shutdown(self) {
        let this = ManuallyDrop::new(self);
        let header = this.header();
        if header.state.transition_to_shutdown() {
            // SAFETY: the transition made us the owner of the future;
            // `shutdown` consumes the reference `this` owned.
            unsafe { (header.vtable.shutdown)(this.0, TaskErrorKindHint::Cancelled) }
        } else {
            // A worker is polling it (and will drop it on return, since the
            // cancel flag is now set) or it already completed.
            // SAFETY: we own the reference.
            unsafe { drop_references(this.0, 1) }
        }
    }
}

impl Clone for RawRef {
    #[inline]
    fn clone(&self) -> RawRef {
        self.header().state.ref_inc();
        RawRef(self.0)
    }
}

impl Drop for RawRef {
    #[inline]
    fn drop(&mut self) {
        // SAFETY: a RawRef owns one reference.
        unsafe { drop_references(self.0, 1) }
    }
}

impl PartialEq for RawRef {
    fn eq(&self, other: &RawRef) -> bool {
        self.0 == other.0
    }
}

impl Eq for RawRef {}

/// The `Task<T>` handle's reference: a task reference that also holds the
/// right to the output (JOIN_INTEREST). Only [`new_task`] makes one, with
/// the future's output type for `T`.
pub(crate) struct JoinRef<T> {
    task: TaskRef,
    _output: PhantomData<T>,
}

// The public handle's auto traits are spelled out here, beside the rest of
// the task system's unsafe.
// SAFETY: the handle only moves the output (a T) across threads.
unsafe impl<T: Send> Send for Task<T> {}
// SAFETY: `&Task` never reads or moves the output, it only reads the header
// and, in `failed`, the error kind of a stored failure (which nobody writes
// while the handle lives); so T: Send suffices, as for Send.
unsafe impl<T: Send> Sync for Task<T> {}

impl<T> JoinRef<T> {
    /// The task reference this handle holds.
    #[inline]
    pub(crate) fn task(&self) -> &TaskRef {
        &self.task
    }

    fn ptr(&self) -> NonNull<Header> {
        self.task.raw.0
    }

    /// Waits until the task is done without taking its output: the join
    /// waker protocol (rule 5 in `task/mod.rs`).
    pub(crate) fn poll_done(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let header = self.task.raw.header();
        let state = header.state.load();
        if state.is_complete() {
            return Poll::Ready(());
        }
        if state.has_join_waker() {
            // JOIN_WAKER is set: the slot is read-only (the completer may be
            // reading it too), so a shared read is fine.
            // SAFETY: nobody writes the slot while JOIN_WAKER is set.
            let same = header.join_waker.with(|slot| unsafe {
                (*slot)
                    .as_ref()
                    .is_some_and(|stored| stored.will_wake(cx.waker()))
            });
            if same {
                return Poll::Pending;
            }
            if !header.state.unset_join_waker() {
                return Poll::Ready(());
            }
        }
        // SAFETY: JOIN_WAKER is clear, and only this handle (borrowed
        // mutably) sets it: nobody else reads or writes the slot now.
        header
            .join_waker
            .with_mut(|slot| unsafe { *slot = Some(cx.waker().clone()) });
        if header.state.set_join_waker() {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }

    /// Waits for the task and takes its output; `None` once it was taken.
    #[inline]
    pub(crate) fn poll_output(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<T, TaskError>>> {
        std::task::ready!(self.poll_done(cx));
        // SAFETY: poll_done saw COMPLETE.
        Poll::Ready(unsafe { self.read_output() })
    }

    /// Takes the output if the task is complete and nobody took it yet.
    pub(crate) fn try_output(&mut self) -> Option<Result<T, TaskError>> {
        if !self.task.raw.header().is_done() {
            return None;
        }
        // SAFETY: the task is complete.
        unsafe { self.read_output() }
    }

    /// # Safety
    /// The task must be complete.
    unsafe fn read_output(&mut self) -> Option<Result<T, TaskError>> {
        let mut out: Option<Result<T, TaskError>> = None;
        let ptr = self.ptr();
        // SAFETY: the task is complete, this handle holds JOIN_INTEREST (so
        // the output is ours), T is the future's output type (`new_task`),
        // and `&mut self` excludes a concurrent `failed`.
        unsafe { (header(ptr).vtable.read_output)(ptr, (&raw mut out).cast()) };
        out
    }

    /// True when the task finished with an error other than a cancellation
    /// (a panic, or a refusal by a closed loop) whose output was not taken.
    pub(crate) fn failed(&self) -> bool {
        let ptr = self.ptr();
        let header = self.task.raw.header();
        // SAFETY: the output is only read once the task is complete, and we
        // hold JOIN_INTEREST; taking it needs `&mut self`, so it cannot
        // happen while this borrow lives.
        header.is_done() && unsafe { (header.vtable.output_is_failure)(ptr) }
    }
}

impl<T> Drop for JoinRef<T> {
    fn drop(&mut self) {
        let header = self.task.raw.header();
        if !header.state.unset_join_interested() {
            let ptr = self.ptr();
            // Complete: the output is ours to drop.
            // SAFETY: COMPLETE with JOIN_INTEREST gives the handle the output.
            unsafe { (header.vtable.drop_output)(ptr) };
        }
        // The `task` field drops the handle's reference.
    }
}

/// A reference to a task that is due to run: what run queues hold.
pub(crate) struct Notified(NonNull<Header>);

// SAFETY: a task may be run from any worker thread; its future is Send.
unsafe impl Send for Notified {}

impl Notified {
    /// # Safety
    /// The caller transfers one reference it owns to the new `Notified`.
    pub(super) unsafe fn from_raw(ptr: NonNull<Header>) -> Notified {
        Notified(ptr)
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: a Notified owns a reference.
        unsafe { header(self.0) }
    }

    /// Polls the task once (or drops its future if cancelled).
    #[cfg(loom)]
    pub(crate) fn run(self) {
        self.run_with(None);
    }

    /// Polls the task once, counted and timed by a worker's `observer`
    /// when it has one.
    pub(crate) fn run_observed(self, observer: Option<&PollObserver>) {
        self.run_with(observer);
    }

    fn run_with(self, observer: Option<&PollObserver>) {
        let this = ManuallyDrop::new(self);
        // SAFETY: `run` consumes the reference that `this` owns; the vtable
        // belongs to this task.
        unsafe { (this.header().vtable.run)(this.0, observer) }
    }

    /// Completes a task that could not be linked into a closed live-task
    /// list: drops its future and stores a "loop closed" error. Consumes this
    /// reference and `list_ref`, the one the list did not take.
    pub(crate) fn refuse(self, list_ref: TaskRef) {
        let this = ManuallyDrop::new(self);
        let header = this.header();
        if header.state.transition_to_shutdown() {
            // SAFETY: the transition made us the owner of the future;
            // `shutdown` consumes this reference.
            unsafe { (header.vtable.shutdown)(this.0, TaskErrorKindHint::Refused) };
            drop(list_ref);
        } else {
            // SAFETY: we own this reference.
            unsafe { drop_with(this.0, Some(list_ref)) }
        }
    }
}

impl Drop for Notified {
    fn drop(&mut self) {
        // SAFETY: a Notified owns one reference.
        unsafe { drop_references(self.0, 1) }
    }
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

    /// Wakes the join waker from the completer.
    ///
    /// # Safety
    /// Only the completer may call this, after the transition to COMPLETE
    /// found JOIN_WAKER set.
    unsafe fn wake_join_waker(&self) {
        // SAFETY: JOIN_WAKER stays set once COMPLETE is (the handle can no
        // longer clear it), so nobody writes the slot: it is only read.
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
unsafe fn run<F>(ptr: NonNull<Header>, observer: Option<&PollObserver>)
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
    let start = observer.map(|observer| observer.begin(header.id, &header.stats));
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
    if let (Some(observer), Some(start)) = (observer, start) {
        if let Some(took) = observer.end(start, &header.stats) {
            // Still RUNNING: the hook sees the task as it was polled.
            let info = super::info_of(header, super::info::now_stamp());
            observer.report_slow(&info, took);
        }
    }

    let outcome = match polled {
        Ok(Poll::Pending) => match header.state.transition_to_idle() {
            ToIdle::Idle => {
                // SAFETY: we own the reference being dropped.
                unsafe { drop_references(ptr, 1) };
                return;
            }
            ToIdle::Notified => {
                // Our reference moves to the run queue.
                header.scheduler.yield_now(Notified(ptr));
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

    // Our reference, lent to the callbacks and the scheduler; dropped below.
    let this = ManuallyDrop::new(TaskRef { raw: RawRef(ptr) });
    header.done_callbacks.close_and_run(&this);

    let released = header.scheduler.release(&this);
    // SAFETY: `this` owned our reference, which `drop_with` consumes.
    unsafe { drop_with(ptr, released) }
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
/// The task must be complete and the caller must be the `Task<T>` handle
/// (JOIN_INTEREST set), which owns the output and does not take it meanwhile.
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
    // SAFETY: the allocation was made by `new_task` as a Box<Cell<F>>, and
    // nobody else can reach it.
    drop(unsafe { Box::from_raw(ptr.cast::<Cell<F>>().as_ptr()) });
}

/// Links of one task in its shard of the live-task list.
#[derive(Default)]
struct Links {
    prev: Option<NonNull<Header>>,
    next: Option<NonNull<Header>>,
    linked: bool,
}

/// Hands out live-task list ids. Ids only tell lists apart (they choose
/// nothing), so a plain counter is fine under loom as well.
static NEXT_LIST_ID: StdAtomicU64 = StdAtomicU64::new(1);

/// One shard of a live-task list: an intrusive doubly linked list through
/// the headers' links, holding one reference to each task it links.
///
/// Who may touch a task's links: every task carries the id of its list
/// (`Header::owner`, fixed at allocation) and its id picks the shard, so
/// exactly one `LinkedTasks` owns it, and that shard checks ownership before
/// linking or unlinking. Every operation takes the shard by `&mut` (the list
/// keeps each shard behind a lock), so the links of a task, and of its
/// neighbours in the same shard, are never touched by two threads at once.
pub(crate) struct LinkedTasks {
    owner: u64,
    index: usize,
    mask: usize,
    head: Option<NonNull<Header>>,
    len: usize,
}

// SAFETY: the pointers are task references (which may move between threads),
// only followed through `&mut self` or `&self` of the shard that owns them.
unsafe impl Send for LinkedTasks {}

impl LinkedTasks {
    /// The `shards` empty shards of a new live-task list (a power of two),
    /// and the id that the list's tasks must carry (see [`new_task`]). A
    /// task goes to shard `id % shards`.
    pub(crate) fn new_list(shards: usize) -> (u64, Vec<LinkedTasks>) {
        assert!(shards.is_power_of_two());
        let owner = NEXT_LIST_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let list = (0..shards)
            .map(|index| LinkedTasks {
                owner,
                index,
                mask: shards - 1,
                head: None,
                len: 0,
            })
            .collect();
        (owner, list)
    }

    fn owns(&self, header: &Header) -> bool {
        header.owner == self.owner && (header.id as usize) & self.mask == self.index
    }

    /// Reads or writes the links of a task this shard owns.
    ///
    /// # Safety
    /// `task` is alive and owned by this shard (linked here, or checked with
    /// `owns`).
    unsafe fn links<R>(&mut self, task: NonNull<Header>, f: impl FnOnce(&mut Links) -> R) -> R {
        // SAFETY: the task is alive; only the shard that owns it touches its
        // links, and we hold that shard mutably.
        unsafe { header(task) }
            .links
            .with_mut(|links| f(unsafe { &mut *links }))
    }

    /// The task linked after `task`.
    ///
    /// # Safety
    /// As for `links`; a shared borrow of the shard suffices to read.
    unsafe fn next(&self, task: NonNull<Header>) -> Option<NonNull<Header>> {
        // SAFETY: the task is alive; its links are only written through
        // `&mut` of this shard, which our borrow excludes.
        unsafe { header(task) }
            .links
            .with(|links| unsafe { (*links).next })
    }

    /// Links a task at the head, taking over its reference.
    ///
    /// # Panics
    /// If the task belongs to another shard, or is already linked.
    pub(crate) fn push_front(&mut self, task: TaskRef) {
        assert!(
            self.owns(task.raw.header()),
            "task linked into a foreign live-task list"
        );
        let task = ManuallyDrop::new(task).raw.0;
        let old_head = self.head;
        // SAFETY: we own the task (checked above) and hold its reference;
        // every linked task is ours and alive (we hold its reference).
        unsafe {
            self.links(task, |l| {
                assert!(!l.linked, "task linked twice");
                l.prev = None;
                l.next = old_head;
                l.linked = true;
            });
            if let Some(old) = old_head {
                self.links(old, |l| l.prev = Some(task));
            }
        }
        self.head = Some(task);
        self.len += 1;
    }

    /// Unlinks a task; returns the reference this shard held, or `None`
    /// when the task was not linked here.
    pub(crate) fn remove(&mut self, task: &TaskRef) -> Option<TaskRef> {
        if !self.owns(task.raw.header()) {
            return None;
        }
        let ptr = task.raw.0;
        // SAFETY: the task is ours (checked above) and alive (the caller's
        // reference); linked neighbours are ours and alive.
        unsafe {
            let (prev, next, linked) = self.links(ptr, |l| {
                let found = (l.prev, l.next, l.linked);
                *l = Links::default();
                found
            });
            if !linked {
                return None;
            }
            match prev {
                Some(prev) => self.links(prev, |l| l.next = next),
                None => self.head = next,
            }
            if let Some(next) = next {
                self.links(next, |l| l.prev = prev);
            }
        }
        self.len -= 1;
        Some(TaskRef { raw: RawRef(ptr) })
    }

    /// Unlinks the most recently linked task, with the reference this shard
    /// held.
    pub(crate) fn pop_front(&mut self) -> Option<TaskRef> {
        let task = self.head?;
        // SAFETY: the head is linked here, hence ours and alive.
        unsafe {
            self.head = self.links(task, |l| {
                let next = l.next;
                *l = Links::default();
                next
            });
            if let Some(next) = self.head {
                self.links(next, |l| l.prev = None);
            }
        }
        self.len -= 1;
        Some(TaskRef { raw: RawRef(task) })
    }

    /// Pushes a new reference to every linked task that has not completed.
    pub(crate) fn incomplete(&self, out: &mut Vec<TaskRef>) {
        let mut cursor = self.head;
        while let Some(task) = cursor {
            // SAFETY: linked tasks are alive (we hold their references); we
            // only read their links, which nobody writes without `&mut self`.
            let header = unsafe { header(task) };
            if !header.state.load().is_complete() {
                // SAFETY: alive, as above.
                out.push(unsafe { new_ref(task) });
            }
            // SAFETY: as above.
            cursor = unsafe { self.next(task) };
        }
    }

    /// Pushes a new reference to every linked task, complete or not.
    pub(crate) fn linked(&self, out: &mut Vec<TaskRef>) {
        let mut cursor = self.head;
        while let Some(task) = cursor {
            // SAFETY: linked tasks are alive (we hold their references), and
            // their links are only written through `&mut self`.
            unsafe {
                out.push(new_ref(task));
                cursor = self.next(task);
            }
        }
    }

    /// A new reference to the linked task with this id.
    pub(crate) fn find(&self, id: u64) -> Option<TaskRef> {
        let mut cursor = self.head;
        while let Some(task) = cursor {
            // SAFETY: as in `linked`.
            unsafe {
                if header(task).id == id {
                    return Some(new_ref(task));
                }
                cursor = self.next(task);
            }
        }
        None
    }

    /// How many tasks are linked.
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}
