//! asyncio's `open_unix_connection` and `start_unix_server`: the streams of
//! a Unix socket.

use std::future::Future;
use std::io;
use std::path::Path;
use std::sync::Arc;

use super::server::serve;
use super::{DEFAULT_LIMIT, Server, StreamReader, StreamWriter, check_limit, streams};
use crate::net::unix::{SocketAddr, UnixListener, UnixStream};
use crate::runtime::Handle;

/// Connects to the Unix socket at `path` and returns its reader and writer
/// (asyncio's `open_unix_connection`). A NUL first byte names an abstract
/// address. The writer's `peer_addr` and `local_addr` are errors: a Unix
/// socket has no IP address.
///
/// # Panics
///
/// Panics outside an event loop.
///
/// # Examples
///
/// ```
/// use evloop::net::{open_unix_connection, start_unix_server};
///
/// evloop::run(async {
///     let server = start_unix_server(
///         |mut reader, writer| async move {
///             let line = reader.readline().await.unwrap_or_default();
///             writer.write(&line.to_ascii_uppercase());
///         },
///         "\0evloop-doc-open-unix",
///     )
///     .await?;
///     let (mut reader, writer) = open_unix_connection("\0evloop-doc-open-unix").await?;
///     writer.write(b"hello\n");
///     assert_eq!(reader.readline().await?, b"HELLO\n");
///     server.close();
///     server.wait_closed().await;
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })
/// .unwrap();
/// ```
pub async fn open_unix_connection(
    path: impl AsRef<Path>,
) -> io::Result<(StreamReader, StreamWriter)> {
    open_unix_connection_with_limit(path, DEFAULT_LIMIT).await
}

/// [`open_unix_connection`] with the reader's limit set to `limit` bytes.
/// A limit of 0 is an [`io::ErrorKind::InvalidInput`] error.
///
/// # Panics
///
/// Panics outside an event loop.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let error = evloop::net::open_unix_connection_with_limit("\0evloop-doc-limit", 0)
///         .await
///         .unwrap_err();
///     assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
/// });
/// ```
pub async fn open_unix_connection_with_limit(
    path: impl AsRef<Path>,
    limit: usize,
) -> io::Result<(StreamReader, StreamWriter)> {
    check_limit(limit)?;
    let handle = Handle::current();
    let stream = UnixStream::connect(path).await?;
    Ok(streams(Arc::new(stream), limit, handle))
}

/// Listens on the Unix socket at `path` and serves each connection with
/// `handler`, in a task of its own (asyncio's `start_unix_server`). A NUL
/// first byte names an abstract address.
///
/// A file at `path` (a stale socket of an earlier run, say) gives an
/// [`io::ErrorKind::AddrInUse`] error that says so; asyncio would remove a
/// stale socket file silently.
///
/// # Panics
///
/// Panics outside an event loop.
///
/// # Examples
///
/// See [`open_unix_connection`].
pub async fn start_unix_server<H, F>(
    handler: H,
    path: impl AsRef<Path>,
) -> io::Result<Server<SocketAddr>>
where
    H: Fn(StreamReader, StreamWriter) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    start_unix_server_with_limit(handler, path, DEFAULT_LIMIT).await
}

/// [`start_unix_server`] with each reader's limit set to `limit` bytes. A
/// limit of 0 is an [`io::ErrorKind::InvalidInput`] error.
///
/// # Panics
///
/// Panics outside an event loop.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let server = evloop::net::start_unix_server_with_limit(
///         |_reader, _writer| async {},
///         "\0evloop-doc-server-limit",
///         1024,
///     )
///     .await?;
///     assert!(server.is_serving());
///     assert!(server.local_addr().as_pathname().is_none());
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub async fn start_unix_server_with_limit<H, F>(
    handler: H,
    path: impl AsRef<Path>,
    limit: usize,
) -> io::Result<Server<SocketAddr>>
where
    H: Fn(StreamReader, StreamWriter) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    check_limit(limit)?;
    let handle = Handle::current();
    let listener = UnixListener::bind(path)?;
    let local_addr = listener.local_addr()?;
    Ok(serve(
        Box::new(listener),
        local_addr,
        handler,
        limit,
        handle,
    ))
}
