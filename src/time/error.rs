//! The errors of waiting with a time limit: one [`TimeoutError`] for "the
//! time ran out", and [`ResultTimeoutError`] where the wait was for the
//! result of work that may also have failed.

use std::error::Error;
use std::fmt;
use std::io;

use crate::task::TaskError;

/// The deadline of a [`timeout`](crate::timeout) or [`wait_for`](crate::wait_for) passed before the future
/// completed (asyncio's `TimeoutError`).
///
/// It converts into an [`io::Error`] of kind [`io::ErrorKind::TimedOut`], so
/// `?` works in functions returning `io::Result`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// evloop::run(async {
///     let never = std::future::pending::<()>();
///     let error = evloop::timeout(Duration::from_millis(1), never).await.unwrap_err();
///     assert_eq!(error.to_string(), "the operation timed out");
///     let io_error: std::io::Error = error.into();
///     assert_eq!(io_error.kind(), std::io::ErrorKind::TimedOut);
/// });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TimeoutError(());

impl fmt::Display for TimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the operation timed out")
    }
}

impl Error for TimeoutError {}

impl From<TimeoutError> for io::Error {
    fn from(error: TimeoutError) -> io::Error {
        io::Error::new(io::ErrorKind::TimedOut, error)
    }
}

/// Why a wait with a time limit for the result of some work gave no
/// value: the time ran out first (the work is still running), or the work
/// ended without a value. asyncio raises `TimeoutError` for the first, and
/// the work's own exception for the second.
///
/// Returned by [`ConcurrentFuture::result_timeout`](crate::ConcurrentFuture::result_timeout)
/// and by each step of [`as_completed`](crate::as_completed) with a
/// timeout.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use evloop::ResultTimeoutError;
///
/// let lp = evloop::EventLoop::new().unwrap();
/// let (tx, rx) = std::sync::mpsc::channel::<()>();
/// let mut future = lp.handle().run_coroutine_threadsafe(async move {
///     evloop::Handle::current().run_in_executor(move || rx.recv()).await
/// });
/// assert!(matches!(future.result_timeout(Duration::ZERO), Err(ResultTimeoutError::Timeout)));
/// tx.send(()).unwrap();
/// assert!(future.result_timeout(Duration::from_secs(60)).is_ok());
/// ```
#[derive(Debug)]
pub enum ResultTimeoutError {
    /// The time ran out before the work finished; the work goes on, and
    /// whatever waited for it may wait again (asyncio's `TimeoutError`).
    Timeout,
    /// The work ended without a value: it was cancelled, it panicked, or
    /// its loop was closed before it could run.
    Failed(TaskError),
}

impl ResultTimeoutError {
    /// True for [`ResultTimeoutError::Timeout`].
    ///
    /// ```
    /// assert!(evloop::ResultTimeoutError::Timeout.is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, ResultTimeoutError::Timeout)
    }

    /// The work's error, unless this is a timeout.
    ///
    /// ```
    /// assert!(evloop::ResultTimeoutError::Timeout.into_task_error().is_none());
    /// ```
    pub fn into_task_error(self) -> Option<TaskError> {
        match self {
            ResultTimeoutError::Timeout => None,
            ResultTimeoutError::Failed(err) => Some(err),
        }
    }
}

impl fmt::Display for ResultTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResultTimeoutError::Timeout => f.write_str(
                "timed out before the work finished (it is still running; wait again, or cancel \
                 it)",
            ),
            ResultTimeoutError::Failed(err) => fmt::Display::fmt(err, f),
        }
    }
}

impl Error for ResultTimeoutError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ResultTimeoutError::Timeout => None,
            ResultTimeoutError::Failed(err) => Some(err),
        }
    }
}

impl From<TaskError> for ResultTimeoutError {
    fn from(err: TaskError) -> ResultTimeoutError {
        ResultTimeoutError::Failed(err)
    }
}

impl From<TimeoutError> for ResultTimeoutError {
    fn from(_: TimeoutError) -> ResultTimeoutError {
        ResultTimeoutError::Timeout
    }
}
