//! `TaskError`: why a task produced no value.

use std::any::Any;
use std::fmt;
use std::io;
use std::sync::Mutex;

/// Why awaiting a task (or a promise, or a concurrent future) gave no value:
/// it was cancelled, it panicked, its loop was closed before it could run,
/// or the OS refused the thread it needed (a blocking job).
///
/// Its `Display` says which task and why. A panic's payload is kept and can
/// be taken back with [`into_panic`](TaskError::into_panic), e.g. to resume
/// the panic with [`std::panic::resume_unwind`].
///
/// # Examples
///
/// ```
/// let err = evloop::run(async {
///     let task = evloop::spawn(async { panic!("boom") });
///     task.await.unwrap_err()
/// });
/// assert!(err.is_panic());
/// assert_eq!(err.panic_message(), Some("boom"));
/// assert!(err.to_string().contains("panicked: boom"));
/// ```
pub struct TaskError {
    kind: Kind,
    task_id: Option<u64>,
    task_name: Option<String>,
}

enum Kind {
    Cancelled,
    Panic {
        /// Behind a mutex only so that `TaskError` is `Sync`; never contended.
        payload: Mutex<Box<dyn Any + Send + 'static>>,
        message: Option<String>,
    },
    Closed,
    /// The OS refused to start the thread the work needed.
    NoThread(io::Error),
}

/// Unwinds out of a task's poll to end the task with `Kind` instead of a
/// panic: the task's catch (see `TaskError::panic`) recognises it. Used by
/// futures of this crate whose failure is not a panic of user code.
struct Raised(Kind);

impl Kind {
    fn panic(payload: Box<dyn Any + Send>) -> Kind {
        let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
            Some((*s).to_owned())
        } else {
            payload.downcast_ref::<String>().cloned()
        };
        Kind::Panic {
            payload: Mutex::new(payload),
            message,
        }
    }
}

impl TaskError {
    fn new(kind: Kind, id: Option<u64>, name: Option<&str>) -> TaskError {
        TaskError {
            kind,
            task_id: id,
            task_name: match (name, id) {
                (Some(name), _) => Some(name.to_owned()),
                (None, Some(id)) => Some(super::default_name(id)),
                (None, None) => None,
            },
        }
    }

    pub(crate) fn cancelled(id: u64, name: Option<&str>) -> TaskError {
        TaskError::new(Kind::Cancelled, Some(id), name)
    }

    /// The error of a task whose poll unwound with `payload`: a panic, or
    /// the error a future of this crate raised with [`TaskError::raise`].
    pub(crate) fn panic(id: u64, name: Option<&str>, payload: Box<dyn Any + Send>) -> TaskError {
        let kind = match payload.downcast::<Raised>() {
            Ok(raised) => raised.0,
            Err(payload) => Kind::panic(payload),
        };
        TaskError::new(kind, Some(id), name)
    }

    /// Ends the task being polled with this error (named after that task),
    /// rather than with a value. The unwinding does not run the panic hook.
    pub(crate) fn raise(self) -> ! {
        std::panic::resume_unwind(Box::new(Raised(self.kind)))
    }

    pub(crate) fn closed(id: u64, name: Option<&str>) -> TaskError {
        TaskError::new(Kind::Closed, Some(id), name)
    }

    /// A cancellation of something that is not a task (a promise, a
    /// concurrent future cancelled from its caller's thread).
    pub(crate) fn cancelled_untracked() -> TaskError {
        TaskError::new(Kind::Cancelled, None, None)
    }

    /// Something that is not a task did not run: its loop is closed.
    pub(crate) fn closed_untracked() -> TaskError {
        TaskError::new(Kind::Closed, None, None)
    }

    /// Something that is not a task did not run: the OS refused to start a
    /// thread for it.
    pub(crate) fn no_thread_untracked(err: io::Error) -> TaskError {
        TaskError::new(Kind::NoThread(err), None, None)
    }

    /// A panic in something that is not a task (a blocking job).
    pub(crate) fn panic_untracked(payload: Box<dyn Any + Send>) -> TaskError {
        TaskError::new(Kind::panic(payload), None, None)
    }

    /// True when the task was cancelled (asyncio's `CancelledError`).
    pub fn is_cancelled(&self) -> bool {
        matches!(self.kind, Kind::Cancelled)
    }

    /// True when the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self.kind, Kind::Panic { .. })
    }

    /// True when the loop was closed before the work could run.
    pub fn is_loop_closed(&self) -> bool {
        matches!(self.kind, Kind::Closed)
    }

    /// The OS's error when the work could not run because the OS refused to
    /// start a thread for it (a [`run_in_executor`](crate::Handle::run_in_executor)
    /// job when the blocking pool has no thread and cannot start one, for
    /// example under a process or memory limit).
    pub fn os_error(&self) -> Option<&io::Error> {
        match &self.kind {
            Kind::NoThread(err) => Some(err),
            _ => None,
        }
    }

    /// The id of the task this error comes from, if it comes from a task.
    pub fn task_id(&self) -> Option<u64> {
        self.task_id
    }

    /// The name of the task this error comes from, if it comes from a task.
    pub fn task_name(&self) -> Option<&str> {
        self.task_name.as_deref()
    }

    /// The panic message, when the task panicked with a string payload
    /// (`panic!("...")` with or without format arguments).
    pub fn panic_message(&self) -> Option<&str> {
        match &self.kind {
            Kind::Panic { message, .. } => message.as_deref(),
            _ => None,
        }
    }

    /// The panic payload; panics when this error is not a panic (check
    /// [`is_panic`](TaskError::is_panic) or use
    /// [`try_into_panic`](TaskError::try_into_panic)).
    pub fn into_panic(self) -> Box<dyn Any + Send + 'static> {
        match self.try_into_panic() {
            Ok(payload) => payload,
            Err(err) => panic!("`TaskError::into_panic` called on a non-panic error: {err}"),
        }
    }

    /// The panic payload, or the error itself when it is not a panic.
    pub fn try_into_panic(self) -> Result<Box<dyn Any + Send + 'static>, TaskError> {
        match self.kind {
            Kind::Panic { payload, .. } => Ok(match payload.into_inner() {
                Ok(p) => p,
                Err(poisoned) => poisoned.into_inner(),
            }),
            kind => Err(TaskError { kind, ..self }),
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.task_name {
            Some(name) => write!(f, "task '{name}' ")?,
            None => f.write_str("the operation ")?,
        }
        match &self.kind {
            Kind::Cancelled => f.write_str("was cancelled"),
            Kind::Panic {
                message: Some(message),
                ..
            } => write!(f, "panicked: {message}"),
            Kind::Panic { message: None, .. } => {
                f.write_str("panicked (with a non-string payload)")
            }
            Kind::Closed => f.write_str(
                "did not run: its event loop is closed (submit work before closing the loop)",
            ),
            Kind::NoThread(err) => write!(
                f,
                "did not run: the OS refused to start a thread for it ({err}); \
                 check the process's thread and memory limits"
            ),
        }
    }
}

impl fmt::Debug for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::Cancelled => "Cancelled",
            Kind::Panic { .. } => "Panic",
            Kind::Closed => "LoopClosed",
            Kind::NoThread(_) => "NoThread",
        };
        f.debug_struct("TaskError")
            .field("kind", &kind)
            .field("task_id", &self.task_id)
            .field("task_name", &self.task_name)
            .field("panic_message", &self.panic_message())
            .finish()
    }
}

impl std::error::Error for TaskError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            Kind::NoThread(err) => Some(err),
            _ => None,
        }
    }
}

impl From<TaskError> for std::io::Error {
    fn from(err: TaskError) -> std::io::Error {
        let kind = if err.is_cancelled() {
            std::io::ErrorKind::Interrupted
        } else if let Some(os) = err.os_error() {
            os.kind()
        } else {
            std::io::ErrorKind::Other
        };
        std::io::Error::new(kind, err.to_string())
    }
}
