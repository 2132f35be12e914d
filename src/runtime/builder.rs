//! `Builder`: how many workers, what the threads are called.

use std::io;
use std::time::Duration;

use super::EventLoop;

/// Configures an [`EventLoop`] before it starts (asyncio has no such thing:
/// its loop is one thread; evloop's has workers, a reactor thread and a
/// blocking pool).
///
/// # Examples
///
/// ```
/// let lp = evloop::EventLoop::builder()
///     .worker_threads(2)
///     .thread_name("app")
///     .build()
///     .unwrap();
/// assert_eq!(lp.run_until_complete(async { 1 + 1 }), 2);
/// ```
#[derive(Debug, Clone)]
pub struct Builder {
    pub(crate) worker_threads: usize,
    pub(crate) max_blocking_threads: usize,
    pub(crate) thread_keep_alive: Duration,
    pub(crate) thread_name: String,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            worker_threads: num_cpus::get().max(1),
            max_blocking_threads: 512,
            thread_keep_alive: Duration::from_secs(10),
            thread_name: "evloop".to_owned(),
        }
    }
}

impl Builder {
    /// A builder with the defaults: one worker per CPU, at most 512
    /// blocking threads, threads named "evloop-...".
    pub fn new() -> Builder {
        Builder::default()
    }

    /// How many worker threads run tasks (default: the number of CPUs).
    /// Zero makes [`build`](Builder::build) fail.
    pub fn worker_threads(mut self, count: usize) -> Builder {
        self.worker_threads = count;
        self
    }

    /// The most threads the blocking pool behind
    /// [`run_in_executor`](crate::Handle::run_in_executor) may grow to
    /// (default 512). Zero makes [`build`](Builder::build) fail.
    pub fn max_blocking_threads(mut self, count: usize) -> Builder {
        self.max_blocking_threads = count;
        self
    }

    /// How long an idle thread of the blocking pool waits for a new job
    /// before it exits (default 10 s).
    ///
    /// ```
    /// use std::time::Duration;
    /// let lp = evloop::EventLoop::builder()
    ///     .thread_keep_alive(Duration::from_millis(100))
    ///     .build()
    ///     .unwrap();
    /// # lp.close();
    /// ```
    pub fn thread_keep_alive(mut self, keep_alive: Duration) -> Builder {
        self.thread_keep_alive = keep_alive;
        self
    }

    /// The prefix of every thread's name: `<name>-worker-<i>`,
    /// `<name>-reactor`, `<name>-blocking`.
    pub fn thread_name(mut self, name: impl Into<String>) -> Builder {
        self.thread_name = name.into();
        self
    }

    /// Starts the loop's threads.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for zero workers or zero blocking threads; the OS's
    /// error when a thread or the poller cannot be created.
    ///
    /// ```
    /// let err = evloop::EventLoop::builder().worker_threads(0).build().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn build(self) -> io::Result<EventLoop> {
        if self.worker_threads == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "worker_threads must be at least 1: a loop without workers cannot run tasks",
            ));
        }
        if self.max_blocking_threads == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "max_blocking_threads must be at least 1: run_in_executor needs a thread",
            ));
        }
        EventLoop::start(self)
    }
}
