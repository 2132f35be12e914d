//! asyncio's `loop.add_signal_handler` / `remove_signal_handler`: a task of
//! the loop that calls the callback at each delivery, one per loop and
//! signal. `Handle` (in the runtime) delegates here with the loop's
//! scheduler and reactor.
//!
//! The table of installed handlers is keyed by the loop's scheduler and the
//! signal. Each entry holds a weak reference to that scheduler, so its
//! address cannot be reused by another loop while the entry lives. Each
//! handler task owns a guard that removes its own entry when the task
//! ends (cancelled by `remove_signal_handler`, replaced by a newer handler,
//! or dropped when the loop closes), so an entry never outlives its loop.
//! No lock of the table is held while a task is spawned or cancelled: both
//! may drop a task's future, whose guard takes that lock.

use std::io;
use std::os::raw::c_int;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::Signals;
use crate::callbacks::CallbackHandle;
use crate::reactor;
use crate::scheduler;
use crate::util::lock_std as lock;

struct Installed {
    /// The loop the handler belongs to, by its scheduler.
    scheduler: Weak<scheduler::Shared>,
    signal: c_int,
    id: u64,
    callback: CallbackHandle,
}

impl Installed {
    fn is(&self, scheduler: &Arc<scheduler::Shared>, signal: c_int) -> bool {
        self.signal == signal && std::ptr::eq(self.scheduler.as_ptr(), Arc::as_ptr(scheduler))
    }
}

static HANDLERS: Mutex<Vec<Installed>> = Mutex::new(Vec::new());
static NEXT_HANDLER_ID: AtomicU64 = AtomicU64::new(0);

/// Removes the table entry of handler `id` when its task ends.
struct EntryGuard {
    id: u64,
}

impl Drop for EntryGuard {
    fn drop(&mut self) {
        lock(&HANDLERS).retain(|installed| installed.id != self.id);
    }
}

/// Calls `callback` in a task on `scheduler` at each delivery of `signal`,
/// replacing the handler that loop had for it; see
/// [`Handle::add_signal_handler`](crate::Handle::add_signal_handler).
pub(crate) fn add_handler<F>(
    scheduler: &Arc<scheduler::Shared>,
    reactor: &reactor::Handle,
    signal: c_int,
    callback: F,
) -> io::Result<CallbackHandle>
where
    F: FnMut() + Send + 'static,
{
    let mut signals = Signals::with_reactor(reactor, &[signal])?;
    let id = NEXT_HANDLER_ID.fetch_add(1, Ordering::Relaxed);
    let callback_handle = CallbackHandle::pending();
    let replaced = {
        let mut handlers = lock(&HANDLERS);
        let previous = handlers
            .iter()
            .position(|h| h.is(scheduler, signal))
            .map(|index| handlers.swap_remove(index));
        handlers.push(Installed {
            scheduler: Arc::downgrade(scheduler),
            signal,
            id,
            callback: callback_handle.clone(),
        });
        previous
    };
    if let Some(previous) = replaced {
        previous.callback.cancel();
    }
    let guard = EntryGuard { id };
    let mut callback = callback;
    let removed = callback_handle.clone();
    let task = scheduler.spawn(
        async move {
            let _guard = guard;
            while signals.recv().await.is_some() {
                // Cancelling the task stops it at its next await; a delivery
                // seen in the poll running meanwhile must not call it either.
                if removed.cancelled() {
                    break;
                }
                // As asyncio logs a handler's exception and keeps the handler,
                // a panic (reported by the panic hook) does not remove it.
                let _ = catch_unwind(AssertUnwindSafe(&mut callback));
            }
        },
        None,
    );
    callback_handle.set_task(task);
    Ok(callback_handle)
}

/// Removes the handler of `signal` on the loop of `scheduler`; see
/// [`Handle::remove_signal_handler`](crate::Handle::remove_signal_handler).
pub(crate) fn remove_handler(scheduler: &Arc<scheduler::Shared>, signal: c_int) -> bool {
    let removed = {
        let mut handlers = lock(&HANDLERS);
        handlers
            .iter()
            .position(|h| h.is(scheduler, signal))
            .map(|index| handlers.swap_remove(index))
    };
    // A handler whose handle was cancelled is gone already, even if its
    // task has not ended yet.
    removed.is_some_and(|installed| installed.callback.cancel())
}
