//! The loop a thread belongs to: set on worker threads for their whole
//! life, and on any thread while it drives `run_until_complete`.

use std::cell::{Cell, RefCell};

use super::Handle;
use crate::loom::thread_local_const;

thread_local_const! {
    static CURRENT: RefCell<Option<Handle>> = RefCell::new(None);
    static DRIVING: Cell<bool> = Cell::new(false);
}

/// Restores the previous loop of this thread when dropped.
pub(crate) struct EnterGuard {
    previous: Option<Handle>,
}

/// Makes `handle` the current loop of this thread.
pub(crate) fn enter(handle: Handle) -> EnterGuard {
    EnterGuard {
        previous: CURRENT.with(|current| current.borrow_mut().replace(handle)),
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let previous = self.previous.take();
        // A thread being torn down may have lost its thread-locals already.
        let _ = CURRENT.try_with(|current| *current.borrow_mut() = previous);
    }
}

/// Runs `f` with the current loop's handle, without cloning it.
pub(crate) fn with_current<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
    let mut f = Some(f);
    CURRENT
        .try_with(|current| (f.take().expect("called once"))(current.borrow().as_ref()))
        .unwrap_or_else(|_| (f.take().expect("called once"))(None))
}

/// Marks this thread as driving a loop (`run_until_complete`,
/// `run_forever`); returns false if it already was.
pub(crate) fn begin_driving() -> Option<DrivingGuard> {
    if DRIVING.with(|d| d.replace(true)) {
        None
    } else {
        Some(DrivingGuard)
    }
}

pub(crate) struct DrivingGuard;

impl Drop for DrivingGuard {
    fn drop(&mut self) {
        let _ = DRIVING.try_with(|d| d.set(false));
    }
}
