//! evloop and tokio behind one trait, so each workload is written once and
//! both runtimes run exactly the same code around their own calls. This is
//! also the one place where the two runtimes are built: `WORKERS` worker
//! threads each, everything else left at its default; and `Uncounted`,
//! evloop with its counting off, to measure what counting costs.

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

/// Worker threads of both runtimes.
pub const WORKERS: usize = 2;

/// What a workload needs from a runtime.
pub trait Runtime: 'static {
    /// A spawned task's handle; awaiting it yields the task's outcome.
    type Join<T: Send + 'static>: Future<Output = Result<T, Self::Error>> + Send + 'static;
    /// Why a task did not produce its value.
    type Error: Debug;

    /// Drives `future` on the calling thread (`run_until_complete` /
    /// `block_on`).
    fn block_on<F: Future>(&self, future: F) -> F::Output;

    /// Spawns from a thread that is not one of the runtime's workers.
    fn spawn_remote<F>(&self, future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Spawns on the current runtime, from inside one of its tasks.
    fn spawn<F>(future: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;

    /// Lets the other tasks run (`asyncio.sleep(0)`).
    fn yield_now() -> impl Future<Output = ()> + Send;

    /// Completes after `duration` (`asyncio.sleep`).
    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static;
}

/// Set to `uncounted` to measure the scheduler rows against evloop itself
/// with its counting off (`Builder::count_polls(false)`) instead of tokio:
/// what counting costs, interleaved in one process (see README.md).
pub const PEER_ENV: &str = "EVLOOP_BENCH_PEER";

/// Whether the peer column is evloop without counting (`PEER_ENV`).
pub fn peer_is_uncounted() -> bool {
    std::env::var(PEER_ENV).is_ok_and(|v| v == "uncounted")
}

/// The peer column's name.
pub fn peer_name() -> &'static str {
    if peer_is_uncounted() {
        "uncounted"
    } else {
        "tokio"
    }
}

/// A runtime that the peer column can measure.
pub trait Peer: Runtime {
    /// Builds it with `WORKERS` workers.
    fn new() -> Self;
}

/// An evloop loop and a handle to it (cloned once, not per spawn).
pub struct Evloop {
    event_loop: evloop::EventLoop,
    handle: evloop::Handle,
}

impl Evloop {
    /// A loop with `WORKERS` workers.
    pub fn new() -> Evloop {
        Evloop::counting(true)
    }

    /// A loop with `WORKERS` workers that counts polls or not.
    fn counting(on: bool) -> Evloop {
        let event_loop = evloop::EventLoop::builder()
            .worker_threads(WORKERS)
            .count_polls(on)
            .build()
            .expect("evloop loop starts");
        let handle = event_loop.handle();
        Evloop { event_loop, handle }
    }

    /// For the workloads that drive the loop from another thread.
    pub fn handle(&self) -> &evloop::Handle {
        &self.handle
    }
}

impl Runtime for Evloop {
    type Join<T: Send + 'static> = evloop::Task<T>;
    type Error = evloop::TaskError;

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.event_loop.run_until_complete(future)
    }

    fn spawn_remote<F>(&self, future: F) -> evloop::Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    fn spawn<F>(future: F) -> evloop::Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        evloop::spawn(future)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        evloop::yield_now()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static {
        evloop::sleep(duration)
    }
}

/// evloop with its counting off (`Builder::count_polls(false)`), the
/// peer that shows what counting costs. Inside its tasks the free
/// functions (`evloop::spawn`...) are the same as for `Evloop`.
pub struct Uncounted(Evloop);

impl Peer for Uncounted {
    fn new() -> Uncounted {
        Uncounted(Evloop::counting(false))
    }
}

impl Runtime for Uncounted {
    type Join<T: Send + 'static> = evloop::Task<T>;
    type Error = evloop::TaskError;

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }

    fn spawn_remote<F>(&self, future: F) -> evloop::Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.0.spawn_remote(future)
    }

    fn spawn<F>(future: F) -> evloop::Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        Evloop::spawn(future)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        Evloop::yield_now()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static {
        Evloop::sleep(duration)
    }
}

/// A tokio multi-thread runtime.
pub struct Tokio {
    runtime: tokio::runtime::Runtime,
}

impl Tokio {
    /// A multi-thread runtime with `WORKERS` workers, I/O and timers on.
    pub fn new() -> Tokio {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(WORKERS)
            .enable_all()
            .build()
            .expect("tokio runtime starts");
        Tokio { runtime }
    }

    /// For the workloads that drive the runtime from another thread.
    pub fn handle(&self) -> &tokio::runtime::Handle {
        self.runtime.handle()
    }
}

impl Peer for Tokio {
    fn new() -> Tokio {
        Tokio::new()
    }
}

impl Runtime for Tokio {
    type Join<T: Send + 'static> = tokio::task::JoinHandle<T>;
    type Error = tokio::task::JoinError;

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }

    fn spawn_remote<F>(&self, future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime.spawn(future)
    }

    fn spawn<F>(future: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(future)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> + Send + 'static {
        tokio::time::sleep(duration)
    }
}
