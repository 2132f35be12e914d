//! The errors of the stream API: [`StreamError`] and the two asyncio
//! exceptions it carries, [`IncompleteReadError`] and [`LimitOverrunError`].

use std::error::Error;
use std::fmt;
use std::io;

/// The end of the stream came before a read could complete (asyncio's
/// `IncompleteReadError`).
///
/// No byte is lost: the bytes that did arrive are in
/// [`partial`](IncompleteReadError::partial), and they are no longer in the
/// reader's buffer.
///
/// # Examples
///
/// ```
/// use evloop::net::{open_connection, start_server, StreamError};
///
/// evloop::run(async {
///     let server = start_server(
///         |_reader, writer| async move {
///             writer.write(b"abc");
///             writer.close();
///         },
///         "127.0.0.1:0",
///     )
///     .await?;
///     let (mut reader, _writer) = open_connection(server.local_addr()).await?;
///     match reader.readexactly(10).await {
///         Err(StreamError::IncompleteRead(error)) => {
///             assert_eq!(error.partial, b"abc");
///             assert_eq!(error.expected, Some(10));
///             assert_eq!(error.to_string(), "end of stream after 3 bytes, 10 were expected");
///         }
///         other => panic!("expected an incomplete read, got {other:?}"),
///     }
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompleteReadError {
    /// The bytes read before the end of the stream.
    pub partial: Vec<u8>,
    /// How many bytes were asked for; `None` for
    /// [`readuntil`](super::StreamReader::readuntil), which waited for a
    /// separator rather than for a count.
    pub expected: Option<usize>,
}

impl fmt::Display for IncompleteReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.expected {
            Some(expected) => write!(
                f,
                "end of stream after {} bytes, {expected} were expected",
                self.partial.len()
            ),
            None => write!(
                f,
                "end of stream after {} bytes, before the separator was found",
                self.partial.len()
            ),
        }
    }
}

impl Error for IncompleteReadError {}

/// A [`readuntil`](super::StreamReader::readuntil) or
/// [`readline`](super::StreamReader::readline) went past the reader's limit
/// (asyncio's `LimitOverrunError`, and the `ValueError` of `readline`).
///
/// After `readuntil` the data stays in the reader's buffer, as in asyncio:
/// read it with [`read`](super::StreamReader::read) or
/// [`readexactly`](super::StreamReader::readexactly). After `readline` the
/// overlong line (or, when its end was not seen yet, all that was buffered)
/// has been discarded.
///
/// # Examples
///
/// ```
/// use evloop::net::{open_connection_with_limit, start_server, StreamError};
///
/// evloop::run(async {
///     let server = start_server(
///         |_reader, writer| async move {
///             writer.write(b"a line longer than eight bytes\n");
///             writer.close();
///         },
///         "127.0.0.1:0",
///     )
///     .await?;
///     let (mut reader, _writer) = open_connection_with_limit(server.local_addr(), 8).await?;
///     match reader.readuntil(b"\n").await {
///         Err(StreamError::LimitOverrun(error)) => assert!(error.consumed > 8),
///         other => panic!("expected a limit overrun, got {other:?}"),
///     }
///     // The data is still there.
///     assert_eq!(reader.read(6).await?, b"a line");
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitOverrunError {
    /// How many bytes the search covered: the separator's position when it
    /// was found beyond the limit, otherwise the number of bytes scanned
    /// without finding it.
    pub consumed: usize,
    /// The reader's limit that was exceeded.
    pub limit: usize,
    /// Whether the separator was found (beyond the limit).
    pub separator_found: bool,
}

impl fmt::Display for LimitOverrunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.separator_found {
            write!(
                f,
                "the separator was found {} bytes in, beyond the limit of {} bytes",
                self.consumed, self.limit
            )?;
        } else {
            write!(
                f,
                "the separator was not found in {} bytes, more than the limit of {} bytes",
                self.consumed, self.limit
            )?;
        }
        f.write_str(" (raise the limit with open_connection_with_limit or start_server_with_limit)")
    }
}

impl Error for LimitOverrunError {}

/// Why a [`StreamReader`](super::StreamReader) read failed.
///
/// It converts from and into [`io::Error`], so `?` works in functions that
/// return `io::Result`: an incomplete read becomes
/// [`io::ErrorKind::UnexpectedEof`], a limit overrun
/// [`io::ErrorKind::InvalidData`], both with this error as their source.
///
/// # Examples
///
/// ```
/// use std::io;
/// use evloop::net::{IncompleteReadError, StreamError};
///
/// let error = StreamError::IncompleteRead(IncompleteReadError {
///     partial: b"ab".to_vec(),
///     expected: Some(4),
/// });
/// let io_error: io::Error = error.into();
/// assert_eq!(io_error.kind(), io::ErrorKind::UnexpectedEof);
///
/// let from_io = StreamError::from(io::Error::from(io::ErrorKind::ConnectionReset));
/// assert!(matches!(from_io, StreamError::Io(_)));
/// ```
#[derive(Debug)]
pub enum StreamError {
    /// The stream ended before the read could complete.
    IncompleteRead(IncompleteReadError),
    /// A line or a chunk up to a separator is longer than the reader's limit.
    LimitOverrun(LimitOverrunError),
    /// The connection failed (reset by the peer, ...).
    Io(io::Error),
}

impl fmt::Display for StreamError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StreamError::IncompleteRead(error) => error.fmt(f),
            StreamError::LimitOverrun(error) => error.fmt(f),
            StreamError::Io(error) => error.fmt(f),
        }
    }
}

impl Error for StreamError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            StreamError::IncompleteRead(error) => Some(error),
            StreamError::LimitOverrun(error) => Some(error),
            StreamError::Io(error) => Some(error),
        }
    }
}

impl From<io::Error> for StreamError {
    fn from(error: io::Error) -> StreamError {
        StreamError::Io(error)
    }
}

impl From<IncompleteReadError> for StreamError {
    fn from(error: IncompleteReadError) -> StreamError {
        StreamError::IncompleteRead(error)
    }
}

impl From<LimitOverrunError> for StreamError {
    fn from(error: LimitOverrunError) -> StreamError {
        StreamError::LimitOverrun(error)
    }
}

impl From<StreamError> for io::Error {
    fn from(error: StreamError) -> io::Error {
        match error {
            StreamError::IncompleteRead(error) => {
                io::Error::new(io::ErrorKind::UnexpectedEof, error)
            }
            StreamError::LimitOverrun(error) => io::Error::new(io::ErrorKind::InvalidData, error),
            StreamError::Io(error) => error,
        }
    }
}

/// A copy of an [`io::Error`] kept to be reported again (io errors are not
/// `Clone`): the OS error code when there is one, else kind and message.
#[derive(Debug, Clone)]
pub(super) struct StoredError {
    kind: io::ErrorKind,
    os_code: Option<i32>,
    message: String,
}

impl StoredError {
    pub(super) fn new(error: &io::Error) -> StoredError {
        StoredError {
            kind: error.kind(),
            os_code: error.raw_os_error(),
            message: error.to_string(),
        }
    }

    pub(super) fn to_io_error(&self) -> io::Error {
        match self.os_code {
            Some(code) => io::Error::from_raw_os_error(code),
            None => io::Error::new(self.kind, self.message.clone()),
        }
    }
}
