//! asyncio's streams: [`open_connection`] and [`start_server`] hand out a
//! [`StreamReader`] and a [`StreamWriter`] for each connection.
//!
//! The reader buffers what arrives and reads lines, exact counts and
//! chunks up to a separator; the writer buffers what the socket cannot take
//! at once and sends it in the background, with
//! [`drain`](StreamWriter::drain) as the back-pressure point.
//!
//! | asyncio                                   | evloop                                         |
//! |-------------------------------------------|------------------------------------------------|
//! | `await asyncio.open_connection(host, port)` | `open_connection((host, port)).await`        |
//! | `open_connection(..., limit=n)`           | `open_connection_with_limit(addr, n)`          |
//! | `await asyncio.start_server(cb, host, port)` | `start_server(handler, (host, port)).await` |
//! | `reader.read(n)` / `reader.read()`        | `reader.read(n)` / `reader.read_to_end()`      |
//! | `readline()`, `readexactly(n)`, `readuntil(sep)` | the same names                          |
//! | `writer.write(b)`, `await writer.drain()` | `writer.write(b)`, `writer.drain().await`      |
//! | `writer.close()`, `await writer.wait_closed()` | `writer.close()`, `writer.wait_closed().await` |
//! | `server.close()`, `await server.wait_closed()` | `server.close()`, `server.wait_closed().await` |
//! | `IncompleteReadError`, `LimitOverrunError` | [`StreamError::IncompleteRead`], [`StreamError::LimitOverrun`] |
//!
//! # Differences from asyncio
//!
//! All deliberate:
//!
//! - Errors are values: the read methods return [`StreamError`] (or
//!   [`io::Error`]) instead of raising, and a line over the limit in
//!   `readline` is a [`StreamError::LimitOverrun`] rather than a
//!   `ValueError`. `read(-1)` is [`StreamReader::read_to_end`].
//! - The reader reads from the socket when a read needs bytes, instead of
//!   being fed by a protocol in the background; unread bytes wait in the
//!   OS's buffer, which is back-pressure on the peer just as asyncio's
//!   pausing of the transport is.
//! - The start of a `start_server` handler runs in a task of its own, and
//!   handlers must be `Send` futures, since the loop runs tasks on several
//!   threads. A handler's panic is contained in its task, as asyncio logs a
//!   handler's exception and goes on.
//! - Writing after `close` or `write_eof` discards the bytes and makes
//!   [`drain`](StreamWriter::drain) fail, instead of raising at the write.
//! - Dropping a [`StreamWriter`] sends what is buffered and shuts down the
//!   write side (asyncio closes the transport when the writer is garbage
//!   collected); dropping a [`Server`] leaves it serving until
//!   [`Server::close`].
//! - [`Server::serve_forever`] returns once the server is closed instead of
//!   raising `CancelledError`.
//!
//! # Examples
//!
//! ```
//! use evloop::net::{open_connection, start_server};
//!
//! evloop::run(async {
//!     let server = start_server(
//!         |mut reader, writer| async move {
//!             let name = reader.readline().await.unwrap_or_default();
//!             writer.write(b"hello, ");
//!             writer.write(&name);
//!             writer.close();
//!         },
//!         "127.0.0.1:0",
//!     )
//!     .await?;
//!
//!     let (mut reader, writer) = open_connection(server.local_addr()).await?;
//!     writer.write(b"world\n");
//!     writer.drain().await?;
//!     assert_eq!(reader.readline().await?, b"hello, world\n");
//!
//!     server.close();
//!     server.wait_closed().await;
//!     Ok::<_, Box<dyn std::error::Error>>(())
//! })
//! .unwrap();
//! ```

mod buffer;
mod error;
mod reader;
mod server;
mod transport;
mod unix;
mod waiters;
mod writer;

pub use error::{IncompleteReadError, LimitOverrunError, StreamError};
pub use reader::StreamReader;
pub use server::{Server, start_server, start_server_with_limit};
pub use unix::{
    open_unix_connection, open_unix_connection_with_limit, start_unix_server,
    start_unix_server_with_limit,
};
pub use writer::StreamWriter;

pub(crate) use transport::{AcceptTransport, Listener, Transport, no_ip_address};

use std::io;
use std::sync::Arc;

use crate::net::{TcpStream, ToSocketAddrs};
use crate::runtime::Handle;

/// The default limit of a [`StreamReader`], 64 KiB as in asyncio.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let server = evloop::start_server(|_reader, _writer| async {}, "127.0.0.1:0").await?;
///     let (reader, _writer) = evloop::open_connection(server.local_addr()).await?;
///     assert_eq!(reader.limit(), evloop::net::DEFAULT_LIMIT);
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub const DEFAULT_LIMIT: usize = 64 * 1024;

/// Opens a TCP connection to `addr` and returns its reader and writer
/// (asyncio's `open_connection`). Each resolved address is tried in turn;
/// the error is the OS's, e.g. [`io::ErrorKind::ConnectionRefused`].
///
/// # Panics
///
/// Panics outside an event loop.
///
/// # Examples
///
/// ```
/// use evloop::net::open_connection;
///
/// evloop::run(async {
///     let server = evloop::start_server(
///         |_reader, writer| async move { writer.write(b"welcome\n") },
///         "127.0.0.1:0",
///     )
///     .await?;
///     let (mut reader, _writer) = evloop::open_connection(server.local_addr()).await?;
///     assert_eq!(reader.readline().await?, b"welcome\n");
///
///     server.close();
///     server.wait_closed().await;
///     let refused = open_connection(server.local_addr()).await.unwrap_err();
///     assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })
/// .unwrap();
/// ```
pub async fn open_connection(addr: impl ToSocketAddrs) -> io::Result<(StreamReader, StreamWriter)> {
    open_connection_with_limit(addr, DEFAULT_LIMIT).await
}

/// [`open_connection`] with the reader's limit set to `limit` bytes
/// (asyncio's `open_connection(..., limit=limit)`); see [`StreamReader`].
/// A limit of 0 is an [`io::ErrorKind::InvalidInput`] error.
///
/// # Panics
///
/// Panics outside an event loop.
///
/// # Examples
///
/// See [`LimitOverrunError`].
pub async fn open_connection_with_limit(
    addr: impl ToSocketAddrs,
    limit: usize,
) -> io::Result<(StreamReader, StreamWriter)> {
    check_limit(limit)?;
    let handle = Handle::current();
    let stream = TcpStream::connect(addr).await?;
    Ok(streams(Arc::new(stream), limit, handle))
}

fn check_limit(limit: usize) -> io::Result<()> {
    if limit == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the stream limit must be at least one byte",
        ));
    }
    Ok(())
}

/// The reader and writer of a connected stream.
fn streams(
    stream: Arc<dyn Transport>,
    limit: usize,
    handle: Handle,
) -> (StreamReader, StreamWriter) {
    (
        StreamReader::new(stream.clone(), limit),
        StreamWriter::new(stream, handle),
    )
}
