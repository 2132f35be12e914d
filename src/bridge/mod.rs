//! The thread-loop bridge: the [`ConcurrentFuture`] that
//! [`Handle::run_coroutine_threadsafe`](crate::Handle::run_coroutine_threadsafe)
//! gives back (asyncio's `run_coroutine_threadsafe` and
//! `concurrent.futures.Future`): block on it from a plain thread, wait for
//! it with a timeout, cancel it, or `.await` it from a task of another loop.
//! Its plain-closure sibling, `call_soon_threadsafe`, lives with the other
//! callbacks (`callbacks/`); [`CallbackHandle`] is re-exported here.
//!
//! A closed loop refuses work at once, without blocking and without
//! panicking: the future is done with a "loop closed" error
//! ([`TaskError::is_loop_closed`]).
//!
//! # Examples
//!
//! The seed pattern: a loop running on its own thread, fed by another.
//!
//! ```
//! let lp = evloop::EventLoop::new().unwrap();
//! let handle = lp.handle();
//! let runner = std::thread::spawn(move || {
//!     lp.run_forever();
//!     lp.close();
//! });
//!
//! let futures: Vec<_> = (0..10)
//!     .map(|i| handle.run_coroutine_threadsafe(async move { i * i }))
//!     .collect();
//! let squares: Vec<i32> = futures.into_iter().map(|f| f.result().unwrap()).collect();
//! assert_eq!(squares[9], 81);
//!
//! handle.stop();
//! runner.join().unwrap();
//! ```

mod concurrent;
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_hooks;

use std::sync::Arc;

pub use crate::callbacks::CallbackHandle;
#[allow(deprecated)]
pub use concurrent::WaitError;
pub use concurrent::{ConcurrentFuture, Outcome};

use crate::scheduler;
use crate::task::{Task, TaskError};

/// The [`ConcurrentFuture`] of `task`, a task of the loop whose scheduler
/// is `scheduler`: it completes when the task does.
pub(crate) fn concurrent_future<T>(
    mut task: Task<T>,
    scheduler: &Arc<scheduler::Shared>,
) -> ConcurrentFuture<T>
where
    T: Send + 'static,
{
    let task_ref = task.task_ref();
    let (completer, mut concurrent) = concurrent::pair(None, Some(Arc::downgrade(scheduler)));
    concurrent.set_task(task_ref.clone());
    // The callback owns the task handle, so it can take the output; it runs
    // once, when the task completes (or now, if it already did).
    task_ref.add_done_callback(move |_| {
        let outcome = task
            .try_result()
            .unwrap_or_else(|| Err(TaskError::cancelled_untracked()));
        completer.complete(outcome);
    });
    concurrent
}
