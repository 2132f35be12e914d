//! evloop: Python's asyncio model in Rust.
#![deny(clippy::undocumented_unsafe_blocks)]

mod loom;

pub mod task;
mod scheduler;
pub mod runtime;

// Reactor thread, timers and network IO.
mod reactor;
pub mod time;
pub mod net;

// Thread-loop bridge and blocking pool.
pub mod bridge;
mod blocking;

// asyncio's combinators and synchronization primitives.
pub mod combinators;
pub mod sync;

// Entry points for the loom models in `loom-tests/`.
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_hooks;

pub use runtime::{Builder, EventLoop, Handle, run};
pub use task::{Task, TaskError, TaskRef, all_tasks, current_task, spawn, yield_now};
