//! evloop: Python's asyncio model in Rust.
#![deny(clippy::undocumented_unsafe_blocks)]

mod loom;

pub mod runtime;
mod scheduler;
pub mod task;

// Reactor thread, timers and network IO.
pub mod net;
mod reactor;
pub mod time;

// Thread-loop bridge and blocking pool.
mod blocking;
pub mod bridge;

// asyncio's combinators and synchronization primitives.
pub mod combinators;
pub mod sync;

pub use blocking::to_thread;
pub use bridge::{CallbackHandle, ConcurrentFuture};
pub use runtime::{Builder, EventLoop, Handle, run};
pub use task::{Task, TaskError, TaskRef, all_tasks, current_task, spawn, yield_now};
