//! evloop: Python's asyncio model, done properly in Rust.
//!
//! An event loop you embed as the runtime of a server, drive from plain OS
//! threads, and trust under concurrency: tasks run on a per-core
//! work-stealing scheduler, a dedicated reactor thread waits for IO and
//! timers, and a thread-loop bridge lets any thread submit work and get a
//! `concurrent.futures.Future`-style handle back.
//!
//! ```
//! use std::time::Duration;
//!
//! async fn say_after(delay_ms: u64, what: &'static str) -> &'static str {
//!     evloop::sleep(Duration::from_millis(delay_ms)).await;
//!     what
//! }
//!
//! let words = evloop::run(async {
//!     let hello = evloop::spawn(say_after(20, "hello"));
//!     let world = evloop::spawn(say_after(10, "world"));
//!     (hello.await.unwrap(), world.await.unwrap())
//! });
//! assert_eq!(words, ("hello", "world"));
//! ```
//!
//! # From asyncio to evloop
//!
//! | asyncio | evloop |
//! |---|---|
//! | `asyncio.run(main())` | `evloop::run(main())` |
//! | `asyncio.new_event_loop()` | `EventLoop::new()`, `EventLoop::builder()` |
//! | `loop.run_until_complete(f)` | `EventLoop::run_until_complete(f)` |
//! | `loop.run_forever()` / `loop.stop()` | `EventLoop::run_forever()` / `Handle::stop()` |
//! | `loop.close()` | `EventLoop::close()`, `EventLoop::shutdown_timeout(d)` |
//! | `asyncio.get_running_loop()` | `Handle::current()`, `Handle::try_current()` |
//! | `asyncio.set_event_loop(loop)` | `let _guard = handle.enter();` |
//! | `asyncio.create_task(c)`, `loop.create_task(c)` | `evloop::spawn(f)`, `Handle::spawn(f)` |
//! | `create_task(c, name="x")` | `TaskBuilder::new().name("x").spawn(f)` |
//! | `Task.cancel()` / `cancelled()` / `done()` | `Task::cancel()` / `cancelled()` / `done()` |
//! | `Task.result()` | `task.await`, `Task::try_result()` |
//! | `Task.add_done_callback(cb)` | `Task::add_done_callback(cb)` |
//! | `Task.get_name()` | `Task::name()` |
//! | `asyncio.current_task()` / `all_tasks()` | `evloop::current_task()` / `evloop::all_tasks()` |
//! | `asyncio.all_tasks()` + `Task.print_stack()` | `Handle::dump()`: each `TaskInfo` with state, spawn site, polls, time in poll |
//! | debug mode (`PYTHONASYNCIODEBUG=1`, `loop.slow_callback_duration`) | `EVLOOP_DEBUG=1`, `Builder::slow_poll_threshold(d)`, `Builder::on_slow_poll(f)` |
//! | (none) | `Handle::metrics()`: per-worker polls, steals, parks, busy time, queue depths |
//! | `CancelledError` | `TaskError::is_cancelled()` |
//! | `await asyncio.sleep(0)` | `evloop::yield_now().await` |
//! | `await asyncio.sleep(s)` | `evloop::sleep(d).await`, `evloop::sleep_until(t)` |
//! | `asyncio.wait_for(c, t)` / `asyncio.timeout(t)` | `evloop::wait_for(f, d)` / `evloop::timeout(d, f)` |
//! | `asyncio.gather(*cs)` | `evloop::gather(fs)`, `evloop::gather!(a, b, c)` |
//! | `gather(*cs, return_exceptions=True)` | `evloop::gather_settled(fs)` |
//! | `asyncio.wait(ts, return_when=...)` | `evloop::wait(ts, ReturnWhen::..., timeout)` |
//! | `asyncio.as_completed(ts)` | `evloop::as_completed(ts, timeout)` |
//! | `asyncio.shield(t)` | `evloop::shield(t)` |
//! | `async with asyncio.TaskGroup() as tg:` | `evloop::TaskGroup::scope(body)`, `TaskGroup::new()` + `join()` |
//! | `loop.create_future()` | `evloop::Promise::new()` |
//! | `loop.call_soon(cb)` / `call_soon_threadsafe(cb)` | `Handle::call_soon(cb)` / `Handle::call_soon_threadsafe(cb)` |
//! | `loop.call_later(s, cb)` / `call_at(t, cb)` | `Handle::call_later(d, cb)` / `Handle::call_at(t, cb)` |
//! | `loop.time()` | `Handle::time()` |
//! | `asyncio.run_coroutine_threadsafe(c, loop)` | `Handle::run_coroutine_threadsafe(f)` |
//! | `concurrent.futures.Future.result(timeout)` | `ConcurrentFuture::result()`, `result_timeout(d)` |
//! | `loop.run_in_executor(None, f)` / `asyncio.to_thread(f)` | `Handle::run_in_executor(f)` / `evloop::to_thread(f)` |
//! | `asyncio.Lock/Event/Condition/Semaphore/BoundedSemaphore/Barrier` | `evloop::sync::{Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier}` |
//! | `asyncio.Queue/PriorityQueue/LifoQueue` | `evloop::sync::{Queue, PriorityQueue, LifoQueue}` |
//! | `asyncio.open_connection` / `start_server` | `evloop::net::open_connection` / `start_server` |
//! | `asyncio.open_unix_connection` / `start_unix_server` | `evloop::net::open_unix_connection` / `start_unix_server` |
//! | `loop.create_unix_connection` / `create_unix_server` (raw sockets) | `evloop::net::UnixStream::connect` / `UnixListener::bind` |
//! | `AF_UNIX` datagram endpoint | `evloop::net::UnixDatagram` |
//! | `loop.add_signal_handler(sig, cb)` / `remove_signal_handler(sig)` | `Handle::add_signal_handler(sig, cb)` / `Handle::remove_signal_handler(sig)` |
//! | waiting for `KeyboardInterrupt` | `evloop::signal::ctrl_c().await` |
//! | (a stream of signals) | `evloop::signal::Signals::new(&[SIGTERM, SIGHUP])` |
//! | `asyncio.create_subprocess_exec(p, *args, stdout=PIPE)` | `process::Command::new(p).args(args).stdout(Stdio::piped()).spawn()` |
//! | `asyncio.create_subprocess_shell(cmd)` | `process::Command::shell(cmd).spawn()` |
//! | `proc.stdin` / `stdout` / `stderr`, `proc.pid` | `child.stdin` / `stdout` / `stderr` (`StreamWriter` / `StreamReader`), `child.id()` |
//! | `proc.wait()`, `proc.returncode` | `child.wait().await`, `child.returncode()` |
//! | `proc.communicate(input)` | `child.communicate(Some(input)).await` |
//! | `proc.kill()` / `terminate()` / `send_signal(s)` | `child.kill()` / `terminate()` / `send_signal(s)` |
//!
//! Differences from asyncio, all deliberate: the loop runs tasks on several
//! worker threads from the moment it is built (so spawned futures must be
//! `Send`; the future given to `run_until_complete` need not be); dropping
//! a `Task` detaches it instead of letting the garbage collector lose it;
//! cancellation drops the future at its next `.await` (destructors are the
//! `finally` blocks) instead of raising inside it; a panic in a task is
//! caught and reported through its `Task`, like an exception; `dump()`
//! gives each task's spawn site where `all_tasks()` + `print_stack()` give its
//! stack (a suspended Rust future has no stack to walk), and a slow poll is
//! reported while it still runs, not only once it returned.
//!
//! Differences in the OS surface, also deliberate: a stale Unix socket file
//! makes `start_unix_server` / `UnixListener::bind` fail with an `AddrInUse`
//! that says so, instead of being removed silently (removing a file the
//! program did not create is the caller's call); once evloop catches a
//! signal the process keeps catching it (the OS handler is shared by every
//! loop and library of the process), so removing the last handler leaves the
//! signal ignored rather than restoring its default action; signal handlers
//! may be added from any thread; `Command::kill_on_drop` is an option asyncio
//! lacks.
//!
//! Differences in the primitives, also deliberate: cancelling a task that
//! awaits a `Promise` does not cancel the promise (a promise is a shared
//! handle, other clones may be awaited and its result may still be set, so only
//! the cancelled waiter's clone goes); `Semaphore::release` saturates at
//! `usize::MAX` free permits (a `usize` has a ceiling, Python's `int` has not);
//! room made in a full queue is kept for the putter it wakes, so `put_nowait`
//! cannot take it from under it (and `full()` counts it); a `TaskGroup::scope`
//! or group that is dropped from outside (its task cancelled) cancels its
//! children without waiting for them, as a destructor cannot await.
//!
//! Also deliberate: a `Task` handed to `wait_for`, `timeout` or `gather` is
//! detached, not cancelled, when they give up on it, because a `Task` is a
//! handle and dropping a handle detaches (pass `task.cancel_on_drop()` for
//! asyncio's cancel); several threads may each block in `run_until_complete`
//! on one loop at once, because the loop runs on its own workers and those
//! threads only wait (asyncio's "This event loop is already running" is kept
//! for `run_forever`, which one thread at a time may run).
#![deny(clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]

// The layers, from the bottom up: a module names only modules above it in
// this list. `runtime` assembles the parts before it into a loop; the
// modules after it are built on the loop.
mod loom;

mod util;

pub mod task;

mod scheduler;

mod reactor;

pub mod time;

mod blocking;

mod callbacks;

pub mod signal;

pub mod bridge;

pub mod runtime;

pub mod net;

pub mod process;

pub mod sync;

pub mod combinators;

// hyper's runtime hooks (IO, executor, timer) and HTTP/1 serving, on the
// loop and its sockets.
#[cfg(feature = "hyper")]
pub mod hyper;

// Entry points for the loom models in `loom-tests/`.
#[cfg(loom)]
#[doc(hidden)]
pub mod loom_hooks;

pub use bridge::ConcurrentFuture;
pub use callbacks::CallbackHandle;
pub use combinators::{
    Promise, ReturnWhen, TaskGroup, as_completed, gather, gather_settled, shield, wait,
};
pub use net::{open_connection, start_server};
pub use runtime::{Builder, EnterGuard, EventLoop, Handle, Metrics, WorkerMetrics, run, to_thread};
pub use task::{
    CancelOnDrop, Task, TaskBuilder, TaskInfo, TaskRef, TaskState, all_tasks, current_task, spawn,
    yield_now,
};
pub use time::{sleep, sleep_until, timeout, wait_for};

// Every public error type, named for what it means.
pub use combinators::{EmptyWaitError, GroupError, InvalidStateError, SpawnError};
pub use net::{IncompleteReadError, LimitOverrunError, StreamError};
pub use runtime::AlreadyRunningError;
pub use sync::{
    BrokenBarrierError, GetNowaitError, OverReleaseError, PutNowaitError, QueueShutDown,
    TaskDoneError,
};
pub use task::TaskError;
pub use time::{ResultTimeoutError, TimeoutError};

// Old names, kept so that code written against them still compiles.
#[allow(deprecated)]
pub use combinators::AsCompletedError;
