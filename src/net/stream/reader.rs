//! [`StreamReader`]: buffered reads of lines, exact counts and separators.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::sync::Arc;

use super::buffer::{ReadBuffer, Scan, scan};
use super::error::{IncompleteReadError, LimitOverrunError, StoredError, StreamError};
use super::transport::Transport;

/// The reading side of a connection (asyncio's `StreamReader`), from
/// [`open_connection`](super::open_connection) or handed to a
/// [`start_server`](super::start_server) handler.
///
/// Bytes come from the socket into a buffer when a read needs them, and a
/// read takes what it returns out of that buffer. Every read method is
/// cancel-safe: if its future is dropped before it completes, the bytes it
/// had received stay in the buffer for the next read.
///
/// The reader's *limit* (64 KiB unless opened with
/// [`open_connection_with_limit`](super::open_connection_with_limit) or
/// [`start_server_with_limit`](super::start_server_with_limit)) bounds how
/// far [`readline`](StreamReader::readline) and
/// [`readuntil`](StreamReader::readuntil) look for their separator, so an
/// endless line from the peer costs an error, not unbounded memory: the
/// buffer of such a search never holds more than the limit plus 64 KiB.
///
/// Once a read fails with an IO error, every later read fails with the same
/// error, as asyncio's reader keeps its exception.
///
/// # Examples
///
/// ```
/// use evloop::net::{open_connection, start_server};
///
/// evloop::run(async {
///     let server = start_server(
///         |_reader, writer| async move {
///             writer.write(b"HELO example\r\nSIZE 5\r\nhello tail");
///             writer.close();
///         },
///         "127.0.0.1:0",
///     )
///     .await?;
///     let (mut reader, _writer) = open_connection(server.local_addr()).await?;
///     assert_eq!(reader.readuntil(b"\r\n").await?, b"HELO example\r\n");
///     assert_eq!(reader.readline().await?, b"SIZE 5\r\n");
///     assert_eq!(reader.readexactly(5).await?, b"hello");
///     assert_eq!(reader.read_to_end().await?, b" tail");
///     assert!(reader.at_eof());
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })
/// .unwrap();
/// ```
pub struct StreamReader {
    stream: Arc<dyn Transport>,
    buffer: ReadBuffer,
    limit: usize,
    /// The peer closed its side: no more bytes will come.
    eof: bool,
    /// The IO error a read ran into, reported by every later read.
    error: Option<StoredError>,
}

impl StreamReader {
    pub(crate) fn new(stream: Arc<dyn Transport>, limit: usize) -> StreamReader {
        StreamReader {
            stream,
            buffer: ReadBuffer::default(),
            limit,
            eof: false,
            error: None,
        }
    }

    /// Reads up to `n` bytes (asyncio's `read(n)`): the buffered bytes if
    /// there are any, otherwise waits for the next bytes to arrive. Returns
    /// an empty vector at the end of the stream, and at once for `n == 0`.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{open_connection, start_server};
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
    ///     let mut received = Vec::new();
    ///     loop {
    ///         let chunk = reader.read(2).await?;
    ///         if chunk.is_empty() {
    ///             break; // end of stream
    ///         }
    ///         assert!(chunk.len() <= 2);
    ///         received.extend(chunk);
    ///     }
    ///     assert_eq!(received, b"abc");
    ///     assert_eq!(reader.read(0).await?, b"");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn read(&mut self, n: usize) -> io::Result<Vec<u8>> {
        self.check_error()?;
        if n == 0 {
            return Ok(Vec::new());
        }
        if self.buffer.is_empty() && !self.eof {
            self.fill().await?;
        }
        let n = n.min(self.buffer.len());
        Ok(self.buffer.take(n))
    }

    /// Reads everything until the end of the stream (asyncio's `read()` /
    /// `read(-1)`). The limit does not apply: the whole rest of the stream
    /// is held in memory.
    ///
    /// # Examples
    ///
    /// See [`StreamReader`].
    pub async fn read_to_end(&mut self) -> io::Result<Vec<u8>> {
        self.check_error()?;
        while !self.eof {
            self.fill().await?;
        }
        Ok(self.buffer.take_all())
    }

    /// Reads one line, up to and including `b"\n"` (asyncio's
    /// `readline`).
    ///
    /// At the end of the stream it returns the partial last line (without
    /// `b"\n"`), then empty vectors. A line longer than the limit fails
    /// with [`StreamError::LimitOverrun`] and is discarded, as asyncio does:
    /// the whole line if its end was seen, otherwise everything buffered so
    /// far, so the next `readline` returns the rest of the overlong line.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{open_connection, start_server};
    ///
    /// evloop::run(async {
    ///     let server = start_server(
    ///         |_reader, writer| async move {
    ///             writer.write(b"first\nsecond\npartial");
    ///             writer.close();
    ///         },
    ///         "127.0.0.1:0",
    ///     )
    ///     .await?;
    ///     let (mut reader, _writer) = open_connection(server.local_addr()).await?;
    ///     assert_eq!(reader.readline().await?, b"first\n");
    ///     assert_eq!(reader.readline().await?, b"second\n");
    ///     assert_eq!(reader.readline().await?, b"partial");
    ///     assert_eq!(reader.readline().await?, b"");
    ///     Ok::<_, evloop::net::StreamError>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn readline(&mut self) -> Result<Vec<u8>, StreamError> {
        match self.readuntil(b"\n").await {
            Err(StreamError::IncompleteRead(error)) => Ok(error.partial),
            Err(StreamError::LimitOverrun(error)) => {
                let line_end_follows = self
                    .buffer
                    .data()
                    .get(error.consumed..)
                    .is_some_and(|rest| rest.starts_with(b"\n"));
                if line_end_follows {
                    self.buffer.discard(error.consumed + 1);
                } else {
                    self.buffer.discard(self.buffer.len());
                }
                Err(StreamError::LimitOverrun(error))
            }
            other => other,
        }
    }

    /// Reads up to and including `separator` (asyncio's `readuntil`); the
    /// separator may arrive split over several reads.
    ///
    /// Fails with [`StreamError::IncompleteRead`] when the stream ends
    /// first (the bytes received are in the error, and gone from the
    /// buffer), and with [`StreamError::LimitOverrun`] when the separator is
    /// not within the limit; the data then stays in the buffer. An empty
    /// separator is an [`io::ErrorKind::InvalidInput`] error.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{open_connection, start_server, StreamError};
    ///
    /// evloop::run(async {
    ///     let server = start_server(
    ///         |_reader, writer| async move {
    ///             writer.write(b"one--two--three");
    ///             writer.close();
    ///         },
    ///         "127.0.0.1:0",
    ///     )
    ///     .await?;
    ///     let (mut reader, _writer) = open_connection(server.local_addr()).await?;
    ///     assert_eq!(reader.readuntil(b"--").await?, b"one--");
    ///     assert_eq!(reader.readuntil(b"--").await?, b"two--");
    ///     match reader.readuntil(b"--").await {
    ///         Err(StreamError::IncompleteRead(error)) => assert_eq!(error.partial, b"three"),
    ///         other => panic!("expected the end of the stream, got {other:?}"),
    ///     }
    ///     Ok::<_, StreamError>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn readuntil(&mut self, separator: &[u8]) -> Result<Vec<u8>, StreamError> {
        if separator.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "readuntil needs a separator of at least one byte",
            )
            .into());
        }
        self.check_error()?;
        let mut resume_at = 0;
        let found = loop {
            match scan(self.buffer.data(), separator, resume_at, self.limit) {
                Scan::Found(index) => break index,
                Scan::Overrun { consumed } => {
                    return Err(self.overrun(consumed, false));
                }
                Scan::NeedMore { resume_at: next } => resume_at = next,
            }
            if self.eof {
                return Err(IncompleteReadError {
                    partial: self.buffer.take_all(),
                    expected: None,
                }
                .into());
            }
            self.fill().await?;
        };
        if found > self.limit {
            return Err(self.overrun(found, true));
        }
        Ok(self.buffer.take(found + separator.len()))
    }

    /// Reads exactly `n` bytes (asyncio's `readexactly`).
    ///
    /// Fails with [`StreamError::IncompleteRead`] if the stream ends first;
    /// the bytes that did arrive are in the error. `n` is not bounded by the
    /// limit.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{open_connection, start_server};
    ///
    /// evloop::run(async {
    ///     let server = start_server(
    ///         |_reader, writer| async move {
    ///             // A length-prefixed message.
    ///             writer.write(&[0, 5]);
    ///             writer.write(b"hello");
    ///         },
    ///         "127.0.0.1:0",
    ///     )
    ///     .await?;
    ///     let (mut reader, _writer) = open_connection(server.local_addr()).await?;
    ///     let header = reader.readexactly(2).await?;
    ///     let len = u16::from_be_bytes([header[0], header[1]]) as usize;
    ///     assert_eq!(reader.readexactly(len).await?, b"hello");
    ///     Ok::<_, evloop::net::StreamError>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn readexactly(&mut self, n: usize) -> Result<Vec<u8>, StreamError> {
        self.check_error()?;
        while self.buffer.len() < n {
            if self.eof {
                return Err(IncompleteReadError {
                    partial: self.buffer.take_all(),
                    expected: Some(n),
                }
                .into());
            }
            self.fill().await?;
        }
        Ok(self.buffer.take(n))
    }

    /// Whether the stream ended and every byte was read (asyncio's
    /// `at_eof`). It only knows about the end once a read has seen it.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{open_connection, start_server};
    ///
    /// evloop::run(async {
    ///     let server = start_server(
    ///         |_reader, writer| async move {
    ///             writer.write(b"bye\n");
    ///             writer.close();
    ///         },
    ///         "127.0.0.1:0",
    ///     )
    ///     .await?;
    ///     let (mut reader, _writer) = open_connection(server.local_addr()).await?;
    ///     assert!(!reader.at_eof());
    ///     assert_eq!(reader.readline().await?, b"bye\n");
    ///     assert_eq!(reader.readline().await?, b"");
    ///     assert!(reader.at_eof());
    ///     Ok::<_, evloop::net::StreamError>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn at_eof(&self) -> bool {
        self.eof && self.buffer.is_empty()
    }

    /// The limit of [`readline`](StreamReader::readline) and
    /// [`readuntil`](StreamReader::readuntil), in bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{open_connection, open_connection_with_limit, start_server};
    ///
    /// evloop::run(async {
    ///     let server = start_server(|_reader, _writer| async {}, "127.0.0.1:0").await?;
    ///     let (reader, _writer) = open_connection(server.local_addr()).await?;
    ///     assert_eq!(reader.limit(), 64 * 1024);
    ///     let (reader, _writer) = open_connection_with_limit(server.local_addr(), 100).await?;
    ///     assert_eq!(reader.limit(), 100);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The bytes received and not read yet (asyncio keeps them private).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{open_connection, start_server};
    ///
    /// evloop::run(async {
    ///     let server = start_server(
    ///         |_reader, writer| async move {
    ///             writer.write(b"hello");
    ///             writer.close();
    ///         },
    ///         "127.0.0.1:0",
    ///     )
    ///     .await?;
    ///     let (mut reader, _writer) = open_connection(server.local_addr()).await?;
    ///     assert_eq!(reader.readexactly(1).await?, b"h");
    ///     // One socket read brought the rest along.
    ///     assert_eq!(reader.buffered(), b"ello");
    ///     Ok::<_, evloop::net::StreamError>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn buffered(&self) -> &[u8] {
        self.buffer.data()
    }

    /// Reads once from the socket into the buffer; notes the end of the
    /// stream, or keeps the error for later reads.
    async fn fill(&mut self) -> io::Result<()> {
        let stream = &self.stream;
        let buffer = &mut self.buffer;
        loop {
            let spare = buffer.spare();
            match poll_fn(|cx| stream.poll_read_shared(cx, spare)).await {
                Ok(0) => {
                    self.eof = true;
                    return Ok(());
                }
                Ok(n) => {
                    buffer.commit(n);
                    return Ok(());
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => {
                    self.error = Some(StoredError::new(&error));
                    return Err(error);
                }
            }
        }
    }

    fn check_error(&self) -> io::Result<()> {
        match &self.error {
            Some(error) => Err(error.to_io_error()),
            None => Ok(()),
        }
    }

    fn overrun(&self, consumed: usize, separator_found: bool) -> StreamError {
        StreamError::LimitOverrun(LimitOverrunError {
            consumed,
            limit: self.limit,
            separator_found,
        })
    }
}

impl fmt::Debug for StreamReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamReader")
            .field("peer_addr", &self.stream.peer_addr().ok())
            .field("buffered", &self.buffer.len())
            .field("limit", &self.limit)
            .field("eof", &self.eof)
            .finish()
    }
}
