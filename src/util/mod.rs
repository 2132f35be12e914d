//! Machinery shared by every part of the loop: the poison-ignoring lock,
//! the done-callback list with its panic-containing runner, the list of
//! waiting futures (`wait_list`), the blocking wait of a plain thread
//! on a future, and the OS calls std does not wrap (`sys`).
//!
//! This is the bottom layer: it names only [`crate::loom`], `std` and the
//! OS bindings, so any module may use it and it never pulls on a higher one.

mod block_on;
mod done;
mod lock;
#[cfg(unix)]
pub(crate) mod sys;
pub(crate) mod wait_list;

pub(crate) use block_on::{block_on, block_on_until};
pub(crate) use done::{DoneCallback, DoneCallbacks, Taken, run_done_callback};
pub(crate) use lock::{ignore_poison, lock, lock_std};

use std::panic::{AssertUnwindSafe, catch_unwind};

/// Runs `f`, containing its panic: user code (a callback, a waker) that
/// panics must not unwind through the loop thread that called it, nor keep
/// the code after it from running. Returns whether `f` returned normally.
pub(crate) fn contain_panic(f: impl FnOnce()) -> bool {
    catch_unwind(AssertUnwindSafe(f)).is_ok()
}
