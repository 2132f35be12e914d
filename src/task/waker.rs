//! The waker vtable shared by every task: a waker is one task reference.

use std::ptr::NonNull;
use std::task::{RawWaker, RawWakerVTable, Waker};

use super::raw::{Header, Notified, dealloc, drop_references, header};
use super::state::OnWake;

static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

/// A waker that borrows the caller's reference; wrap it in `ManuallyDrop`.
///
/// # Safety
/// The caller must hold a reference for as long as the waker is used, and
/// must not drop the returned waker (clones are fine: they take their own).
pub(super) unsafe fn borrowed(ptr: NonNull<Header>) -> Waker {
    // SAFETY: the vtable's functions treat the data pointer as a task
    // reference, which the caller guarantees.
    unsafe { Waker::from_raw(RawWaker::new(ptr.as_ptr().cast(), &VTABLE)) }
}

fn task(data: *const ()) -> NonNull<Header> {
    // SAFETY: wakers are only built from non-null task pointers.
    unsafe { NonNull::new_unchecked(data.cast_mut().cast()) }
}

unsafe fn clone(data: *const ()) -> RawWaker {
    // SAFETY: the waker being cloned holds a reference.
    unsafe { header(task(data)) }.state.ref_inc();
    RawWaker::new(data, &VTABLE)
}

unsafe fn wake(data: *const ()) {
    let ptr = task(data);
    // SAFETY: the waker holds a reference, consumed here.
    let header = unsafe { header(ptr) };
    match header.state.transition_to_notified_by_val() {
        // SAFETY: the waker's reference moves to the run queue.
        OnWake::Submit => header
            .scheduler
            .schedule(unsafe { Notified::from_raw(ptr) }),
        OnWake::Nothing => {}
        // SAFETY: the transition dropped the last reference.
        OnWake::Dealloc => unsafe { dealloc(ptr) },
    }
}

unsafe fn wake_by_ref(data: *const ()) {
    let ptr = task(data);
    // SAFETY: the waker holds a reference.
    let header = unsafe { header(ptr) };
    if header.state.transition_to_notified_by_ref() == OnWake::Submit {
        // SAFETY: the transition took a new reference for the run queue.
        header
            .scheduler
            .schedule(unsafe { Notified::from_raw(ptr) });
    }
}

unsafe fn drop_waker(data: *const ()) {
    // SAFETY: the waker owns one reference.
    unsafe { drop_references(task(data), 1) }
}
