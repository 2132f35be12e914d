//! asyncio's combinators: run tasks together and wait for them in the ways
//! asyncio does.
//!
//! | asyncio | evloop |
//! |---|---|
//! | `gather(*cs)` | [`gather`], [`gather!`](crate::gather!) |
//! | `gather(*cs, return_exceptions=True)` | [`gather_settled`] |
//! | `wait(ts, return_when=..., timeout=...)` | [`wait`], [`ReturnWhen`] |
//! | `as_completed(ts, timeout=...)` | [`as_completed`] |
//! | `shield(t)` | [`shield`] |
//! | `async with TaskGroup() as tg:` | [`TaskGroup::scope`], [`TaskGroup`] |
//! | `loop.create_future()` | [`Promise`] |
//!
//! Differences from asyncio, all deliberate and described on each item:
//!
//! - Cancellation drops futures, so "cancelling" a combinator is dropping
//!   it (or cancelling the task that awaits it). Dropping a [`gather`]
//!   future or a [`TaskGroup`] cancels the children still running; dropping
//!   a [`wait`] or [`as_completed`] detaches its tasks, which never
//!   cancels them, and dropping a [`shield`] leaves its task running.
//! - [`gather`] cancels the other children after the first failure
//!   (asyncio leaves them running, unobserved).
//! - A failure is a panic (or a cancellation, where asyncio would raise
//!   `CancelledError`), reported as a [`TaskError`](crate::TaskError).
//! - [`wait`] returns lists in input order, not sets.
//! - [`as_completed`] yields results, not awaitables.
//! - [`Promise`] runs its done callbacks on the thread that sets its
//!   outcome, and has no `set_exception` (make `T` a `Result`).

mod as_completed;
mod child;
mod completions;
mod deadline;
mod gather;
mod promise;
mod shield;
mod task_group;
mod wait;

#[allow(deprecated)]
pub use as_completed::AsCompletedError;
pub use as_completed::{AsCompleted, Next, as_completed};
pub use gather::{Gather, GatherSettled, gather, gather_settled};
pub use promise::{InvalidStateError, Promise};
pub use shield::{Shield, shield};
pub use task_group::{GroupError, GroupSpawner, Join, Scope, SpawnError, TaskGroup};
pub use wait::{EmptyWaitError, ReturnWhen, Wait, wait};

/// What the [`gather!`](crate::gather!) macro expands to; not a public API.
#[doc(hidden)]
pub mod __private {
    pub use super::child::Child;
    pub use super::gather::{Children, GatherTuple};
}
