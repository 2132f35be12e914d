//! Errors of the queue operations, named after asyncio's exceptions.

use std::error::Error;
use std::fmt;

/// The queue was shut down (asyncio's `QueueShutDown`).
///
/// Returned by [`put`](super::GenericQueue::put), which gives the item back in
/// the field, and by [`get`](super::GenericQueue::get) once a shut-down queue
/// has no items left (then the field is `()`).
///
/// # Examples
///
/// ```
/// use evloop::sync::{Queue, QueueShutDown};
///
/// evloop::run(async {
///     let queue = Queue::new(0);
///     queue.shutdown(false);
///     assert_eq!(queue.put("job").await, Err(QueueShutDown("job")));
///     assert_eq!(queue.get().await, Err(QueueShutDown(())));
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QueueShutDown<T = ()>(pub T);

impl<T> QueueShutDown<T> {
    /// The item that could not be put (`()` for a failed get).
    ///
    /// # Examples
    ///
    /// ```
    /// let err = evloop::sync::QueueShutDown(5);
    /// assert_eq!(err.into_inner(), 5);
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("QueueShutDown(..)")
    }
}

impl<T> fmt::Display for QueueShutDown<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the queue is shut down: it accepts no more items and has none left to get")
    }
}

impl<T> Error for QueueShutDown<T> {}

/// Why [`put_nowait`](super::GenericQueue::put_nowait) did not put the item;
/// the item comes back in either case.
///
/// `Full` is asyncio's `QueueFull`, `ShutDown` its `QueueShutDown`.
///
/// # Examples
///
/// ```
/// use evloop::sync::{PutNowaitError, Queue};
///
/// let queue = Queue::new(1);
/// queue.put_nowait(1).unwrap();
/// assert_eq!(queue.put_nowait(2), Err(PutNowaitError::Full(2)));
/// queue.shutdown(false);
/// assert_eq!(queue.put_nowait(3), Err(PutNowaitError::ShutDown(3)));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PutNowaitError<T> {
    /// The queue holds `maxsize` items (asyncio's `QueueFull`).
    Full(T),
    /// The queue was shut down (asyncio's `QueueShutDown`).
    ShutDown(T),
}

impl<T> PutNowaitError<T> {
    /// The item that was not put.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = evloop::sync::Queue::new(1);
    /// queue.put_nowait("a").unwrap();
    /// assert_eq!(queue.put_nowait("b").unwrap_err().into_inner(), "b");
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            PutNowaitError::Full(item) | PutNowaitError::ShutDown(item) => item,
        }
    }

    /// Whether the queue was full (rather than shut down).
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = evloop::sync::Queue::new(1);
    /// queue.put_nowait(()).unwrap();
    /// assert!(queue.put_nowait(()).unwrap_err().is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        matches!(self, PutNowaitError::Full(_))
    }
}

impl<T> fmt::Debug for PutNowaitError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutNowaitError::Full(_) => f.write_str("Full(..)"),
            PutNowaitError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for PutNowaitError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutNowaitError::Full(_) => f.write_str(
                "the queue is full (it holds maxsize items); the item was given back: \
                 await put() to wait for room",
            ),
            PutNowaitError::ShutDown(_) => {
                f.write_str("the queue is shut down; the item was given back")
            }
        }
    }
}

impl<T> Error for PutNowaitError<T> {}

/// Why [`get_nowait`](super::GenericQueue::get_nowait) returned no item.
///
/// `Empty` is asyncio's `QueueEmpty`, `ShutDown` its `QueueShutDown`.
///
/// # Examples
///
/// ```
/// use evloop::sync::{GetNowaitError, Queue};
///
/// let queue: Queue<u8> = Queue::new(0);
/// assert_eq!(queue.get_nowait(), Err(GetNowaitError::Empty));
/// queue.shutdown(false);
/// assert_eq!(queue.get_nowait(), Err(GetNowaitError::ShutDown));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetNowaitError {
    /// No item is available (asyncio's `QueueEmpty`).
    Empty,
    /// The queue was shut down and has no items left (asyncio's `QueueShutDown`).
    ShutDown,
}

impl fmt::Display for GetNowaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetNowaitError::Empty => {
                f.write_str("the queue has no item available: await get() to wait for one")
            }
            GetNowaitError::ShutDown => f.write_str("the queue is shut down and has no items left"),
        }
    }
}

impl Error for GetNowaitError {}

/// [`task_done`](super::GenericQueue::task_done) was called more times than
/// items were put (asyncio's `ValueError: task_done() called too many times`).
///
/// # Examples
///
/// ```
/// let queue: evloop::sync::Queue<u8> = evloop::sync::Queue::new(0);
/// let err = queue.task_done().unwrap_err();
/// assert_eq!(
///     err.to_string(),
///     "task_done() called more times than there were items put into the queue"
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskDoneError;

impl fmt::Display for TaskDoneError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("task_done() called more times than there were items put into the queue")
    }
}

impl Error for TaskDoneError {}
