//! The loop a thread is in, and whether it drives one: the runtime's view of
//! the thread's context (the one thread-local, kept in `task::context` so
//! that the layers below the runtime can read their own parts).
//!
//! A thread is in a loop while an [`EnterGuard`] lives: worker and
//! blocking-pool threads for their whole life, a thread inside
//! `run_until_complete` or `run_forever` for that call, and any thread that
//! called [`Handle::enter`].

use std::fmt;
use std::sync::Arc;

use super::{Handle, LoopInner};
use crate::task::context::{self, EnteredLoop};

/// Makes a loop the current loop of this thread while it lives; returned by
/// [`Handle::enter`]. Dropping it restores the loop that was current
/// before (guards nest).
///
/// The guard belongs to the thread that made it: it is neither `Send` nor
/// `Sync`.
#[must_use = "the loop stays current only while the guard lives"]
pub struct EnterGuard {
    _entered: context::EnterLoop,
    /// Keeps the guard on its thread.
    _not_send: std::marker::PhantomData<*const ()>,
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}

/// The thread's context parts of the loop behind `inner`.
pub(super) fn entered_loop(inner: &Arc<LoopInner>) -> EnteredLoop {
    EnteredLoop {
        scheduler: inner.scheduler.clone(),
        reactor: inner.reactor.as_context_part(),
        runtime: inner.clone(),
    }
}

/// Makes `handle`'s loop the current loop of this thread.
pub(super) fn enter(handle: &Handle) -> EnterGuard {
    EnterGuard {
        _entered: context::enter(entered_loop(&handle.inner)),
        _not_send: std::marker::PhantomData,
    }
}

/// The current loop of this thread.
pub(super) fn current() -> Option<Handle> {
    let runtime = context::with_current(|entered| entered.map(|entered| entered.runtime.clone()))?;
    match Arc::downcast::<LoopInner>(runtime) {
        Ok(inner) => Some(Handle { inner }),
        Err(_) => unreachable!("a loop's runtime part is always a LoopInner"),
    }
}

pub(super) use context::{Driving as DrivingGuard, begin_driving, no_current_loop};
