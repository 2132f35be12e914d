//! Unix domain sockets: [`UnixListener`], [`UnixStream`] and its owned
//! halves, [`UnixDatagram`] (asyncio's `create_unix_server`,
//! `create_unix_connection` and `AF_UNIX` datagram endpoints).
//!
//! An address is a path in the file system, or on Linux a name in the
//! abstract namespace: a path whose first byte is NUL (`"\0name"`, as in
//! Python), or a [`SocketAddr`] made with
//! `std::os::linux::net::SocketAddrExt::from_abstract_name`. An abstract
//! name leaves no file behind.
//!
//! Binding a path where a file already exists fails with
//! [`io::ErrorKind::AddrInUse`], and the message says whether a server
//! still listens there or the file is a stale socket left by an earlier
//! run (remove it first, e.g. with `std::fs::remove_file`). Dropping a
//! listener does not remove its socket file.
//!
//! # Examples
//!
//! ```
//! use evloop::net::{UnixListener, UnixStream};
//!
//! evloop::run(async {
//!     let listener = UnixListener::bind("\0evloop-doc-unix-module")?;
//!     let server = evloop::spawn(async move {
//!         let (mut socket, _) = listener.accept().await?;
//!         let mut buf = [0; 5];
//!         let n = socket.read(&mut buf).await?;
//!         socket.write_all(&buf[..n]).await
//!     });
//!     let mut client = UnixStream::connect("\0evloop-doc-unix-module").await?;
//!     client.write_all(b"hello").await?;
//!     let mut echoed = [0; 5];
//!     let n = client.read(&mut echoed).await?;
//!     assert_eq!(&echoed[..n], b"hello");
//!     server.await.unwrap()
//! })
//! .unwrap();
//! ```

use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use std::os::unix::net::UnixDatagram as StdDatagram;

pub use std::os::unix::net::SocketAddr;

use super::socket::{StreamSocket, futures_io_for};
use super::stream::{AcceptTransport, Listener, Transport, no_ip_address};
use crate::reactor::{self, fd::FdSource, io::Direction, io::IoSource};

/// The address of `path`: a pathname, or an abstract name when the path
/// starts with a NUL byte.
fn socket_addr(path: &Path) -> io::Result<SocketAddr> {
    match path.as_os_str().as_bytes() {
        [0, name @ ..] => abstract_addr(name),
        _ => SocketAddr::from_pathname(path),
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn abstract_addr(name: &[u8]) -> io::Result<SocketAddr> {
    use std::os::linux::net::SocketAddrExt;
    SocketAddr::from_abstract_name(name)
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn abstract_addr(_name: &[u8]) -> io::Result<SocketAddr> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "abstract Unix socket names exist on Linux only",
    ))
}

/// Explains an `AddrInUse` from binding `addr`: who holds the path.
fn explain_bind_error(error: io::Error, addr: &SocketAddr) -> io::Error {
    let Some(path) = addr.as_pathname() else {
        return error;
    };
    if error.kind() != io::ErrorKind::AddrInUse {
        return error;
    }
    let shown = path.display();
    let reason = match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_socket() => {
            format!("{shown} exists and is not a socket")
        }
        Ok(_) => match std::os::unix::net::UnixStream::connect(path) {
            Err(refused) if refused.kind() == io::ErrorKind::ConnectionRefused => format!(
                "{shown} is a stale socket file (nothing listens on it, probably left by an \
                 earlier run): remove it before binding"
            ),
            _ => format!("another socket already listens on {shown}"),
        },
        Err(_) => return error,
    };
    io::Error::new(io::ErrorKind::AddrInUse, reason)
}

/// A Unix socket listening for connections (asyncio's
/// `create_unix_server` / `start_unix_server` without the streams).
///
/// Dropping the listener closes it: a task still waiting in
/// [`accept`](UnixListener::accept) wakes up with an error of kind
/// [`io::ErrorKind::ConnectionAborted`].
///
/// # Examples
///
/// See the [module documentation](self).
pub struct UnixListener {
    io: Arc<IoSource<mio::net::UnixListener>>,
}

impl UnixListener {
    /// Binds a listener to `path` (a NUL first byte names an abstract
    /// address).
    ///
    /// Fails with [`io::ErrorKind::AddrInUse`] when a file exists at the
    /// path, with a message saying whether it is a live or a stale socket.
    ///
    /// # Panics
    ///
    /// Panics outside an event loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::UnixListener;
    ///
    /// evloop::run(async {
    ///     let dir = std::env::temp_dir().join(format!("evloop-doc-bind-{}", std::process::id()));
    ///     std::fs::create_dir_all(&dir).unwrap();
    ///     let path = dir.join("stale.sock");
    ///     drop(UnixListener::bind(&path).unwrap()); // leaves the file behind
    ///     let error = UnixListener::bind(&path).unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
    ///     assert!(error.to_string().contains("stale"));
    ///     std::fs::remove_dir_all(&dir).unwrap();
    /// });
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        UnixListener::bind_addr(&socket_addr(path.as_ref())?)
    }

    /// Binds a listener to `addr`, a pathname or an abstract address.
    ///
    /// # Panics
    ///
    /// Panics outside an event loop.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(target_os = "linux")]
    /// evloop::run(async {
    ///     use std::os::linux::net::SocketAddrExt;
    ///     let addr = evloop::net::unix::SocketAddr::from_abstract_name(b"evloop-doc-bind-addr")?;
    ///     let listener = evloop::net::UnixListener::bind_addr(&addr)?;
    ///     assert_eq!(listener.local_addr()?.as_abstract_name(), Some(&b"evloop-doc-bind-addr"[..]));
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixListener> {
        let listener =
            mio::net::UnixListener::bind_addr(addr).map_err(|e| explain_bind_error(e, addr))?;
        UnixListener::register(&reactor::current(), listener)
    }

    /// Wraps a listener made with the standard library (it is switched to
    /// non-blocking mode).
    ///
    /// # Panics
    ///
    /// Panics outside an event loop.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[cfg(target_os = "linux")]
    /// evloop::run(async {
    ///     use std::os::linux::net::SocketAddrExt;
    ///     use std::os::unix::net::{SocketAddr, UnixListener};
    ///     let addr = SocketAddr::from_abstract_name(b"evloop-doc-from-std")?;
    ///     let listener = evloop::net::UnixListener::from_std(UnixListener::bind_addr(&addr)?)?;
    ///     assert!(listener.local_addr()?.as_pathname().is_none());
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        UnixListener::register(
            &reactor::current(),
            mio::net::UnixListener::from_std(listener),
        )
    }

    fn register(
        reactor: &reactor::Handle,
        listener: mio::net::UnixListener,
    ) -> io::Result<UnixListener> {
        Ok(UnixListener {
            io: Arc::new(IoSource::new(reactor, listener)?),
        })
    }

    /// Waits for a connection and returns it with the peer's address
    /// (usually unnamed). The future does not borrow the listener.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub fn accept(&self) -> UnixAccept {
        UnixAccept {
            io: self.io.clone(),
        }
    }

    /// Polls for a connection; several tasks may poll one listener.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{UnixListener, UnixStream};
    ///
    /// evloop::run(async {
    ///     let listener = UnixListener::bind("\0evloop-doc-poll-accept")?;
    ///     let _client = UnixStream::connect("\0evloop-doc-poll-accept").await?;
    ///     let (_stream, _peer) = std::future::poll_fn(|cx| listener.poll_accept(cx)).await?;
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
        poll_accept(&self.io, cx)
    }

    /// The address the listener is bound to.
    ///
    /// # Examples
    ///
    /// See [`UnixListener::bind_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }
}

fn poll_accept(
    io: &IoSource<mio::net::UnixListener>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<(UnixStream, SocketAddr)>> {
    let (stream, peer) = match io.poll_io(cx, Direction::Read, |listener| listener.accept()) {
        Poll::Ready(Ok(accepted)) => accepted,
        Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
        Poll::Pending => return Poll::Pending,
    };
    Poll::Ready(UnixStream::register(io.registration().handle(), stream).map(|s| (s, peer)))
}

impl Drop for UnixListener {
    fn drop(&mut self) {
        // Wakes pending `UnixAccept` futures with an error now.
        self.io.registration().close();
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl Listener for UnixListener {
    fn accept_transport(&self) -> AcceptTransport {
        let accept = self.accept();
        Box::pin(async move {
            let (stream, _peer) = accept.await?;
            Ok(Arc::new(stream) as Arc<dyn Transport>)
        })
    }
}

/// The future returned by [`UnixListener::accept`].
///
/// # Examples
///
/// ```
/// use evloop::net::UnixListener;
///
/// evloop::run(async {
///     let listener = UnixListener::bind("\0evloop-doc-unix-accept").unwrap();
///     let pending = listener.accept();
///     drop(listener);
///     let error = pending.await.unwrap_err();
///     assert_eq!(error.kind(), std::io::ErrorKind::ConnectionAborted);
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct UnixAccept {
    io: Arc<IoSource<mio::net::UnixListener>>,
}

impl Future for UnixAccept {
    type Output = io::Result<(UnixStream, SocketAddr)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        poll_accept(&self.io, cx)
    }
}

impl fmt::Debug for UnixAccept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixAccept").finish_non_exhaustive()
    }
}

/// A Unix stream connection. It implements `futures-io`'s `AsyncRead` and
/// `AsyncWrite`; split it with [`into_split`](UnixStream::into_split) to
/// read and write from different tasks.
///
/// # Examples
///
/// ```
/// use evloop::net::UnixStream;
///
/// evloop::run(async {
///     let (mut a, mut b) = UnixStream::pair()?;
///     a.write_all(b"ping").await?;
///     let mut buf = [0; 4];
///     let mut got = 0;
///     while got < 4 {
///         got += b.read(&mut buf[got..]).await?;
///     }
///     assert_eq!(&buf, b"ping");
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct UnixStream {
    socket: StreamSocket<mio::net::UnixStream>,
}

/// How long to wait before retrying a connect that found the listener's
/// backlog full (Linux reports that with `EAGAIN` rather than queueing).
const BACKLOG_FULL_RETRY: Duration = Duration::from_millis(1);

impl UnixStream {
    /// Connects to the listener at `path` (a NUL first byte names an
    /// abstract address).
    ///
    /// Fails with [`io::ErrorKind::NotFound`] when no socket file exists,
    /// [`io::ErrorKind::ConnectionRefused`] when nothing listens on it.
    ///
    /// # Panics
    ///
    /// Panics outside an event loop.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let error = evloop::net::UnixStream::connect("/nonexistent/evloop.sock")
    ///         .await
    ///         .unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::NotFound);
    /// });
    /// ```
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let addr = socket_addr(path.as_ref())?;
        UnixStream::connect_addr(&addr).await
    }

    /// Connects to `addr`, a pathname or an abstract address.
    ///
    /// # Panics
    ///
    /// Panics outside an event loop.
    ///
    /// # Examples
    ///
    /// See [`UnixListener::bind_addr`] for making an abstract address.
    pub async fn connect_addr(addr: &SocketAddr) -> io::Result<UnixStream> {
        let reactor = reactor::current();
        let stream = loop {
            match mio::net::UnixStream::connect_addr(addr) {
                Ok(stream) => break stream,
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    crate::time::sleep(BACKLOG_FULL_RETRY).await
                }
                Err(error) => return Err(error),
            }
        };
        let stream = UnixStream::register(&reactor, stream)?;
        poll_fn(|cx| stream.socket.poll_ready(cx, Direction::Write)).await?;
        match stream.socket.source().take_error()? {
            Some(error) => Err(error),
            None => Ok(stream),
        }
    }

    /// A pair of connected streams (`socketpair`).
    ///
    /// # Panics
    ///
    /// Panics outside an event loop.
    ///
    /// # Examples
    ///
    /// See [`UnixStream`].
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let reactor = reactor::current();
        let (a, b) = mio::net::UnixStream::pair()?;
        Ok((
            UnixStream::register(&reactor, a)?,
            UnixStream::register(&reactor, b)?,
        ))
    }

    /// Wraps a connected stream made with the standard library (it is
    /// switched to non-blocking mode).
    ///
    /// # Panics
    ///
    /// Panics outside an event loop.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let (a, _b) = std::os::unix::net::UnixStream::pair()?;
    ///     let stream = evloop::net::UnixStream::from_std(a)?;
    ///     assert!(stream.peer_addr()?.is_unnamed());
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::register(&reactor::current(), mio::net::UnixStream::from_std(stream))
    }

    fn register(reactor: &reactor::Handle, stream: mio::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            socket: StreamSocket::register(reactor, stream)?,
        })
    }

    /// Reads into `buf`, waiting for data; `0` means end of stream.
    ///
    /// # Examples
    ///
    /// See [`UnixStream`].
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.socket.read(buf).await
    }

    /// Polls a read into memory that need not be initialised: on `Ok(n)`,
    /// the first `n` elements of `buf` hold the bytes read and are
    /// initialised; `Ok(0)` is the end of the stream. Nothing zeroes `buf`
    /// first (see [`TcpStream::poll_read_uninit`](crate::net::TcpStream::poll_read_uninit)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::mem::MaybeUninit;
    ///
    /// evloop::run(async {
    ///     let (mut a, mut b) = evloop::net::UnixStream::pair()?;
    ///     a.write_all(b"raw").await?;
    ///     let mut buf = [MaybeUninit::<u8>::uninit(); 16];
    ///     let n = poll_fn(|cx| b.poll_read_uninit(cx, &mut buf)).await?;
    ///     // SAFETY: `poll_read_uninit` initialised the first `n` bytes.
    ///     let read: Vec<u8> = buf[..n].iter().map(|byte| unsafe { byte.assume_init() }).collect();
    ///     assert_eq!(read, b"raw");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_read_uninit(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.socket.poll_read_uninit(cx, buf)
    }

    /// Writes some of `buf`, waiting for room; returns how much was written.
    ///
    /// # Examples
    ///
    /// See [`UnixStream::write_all`].
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.socket.write(buf).await
    }

    /// Writes all of `buf`, waiting for room as often as needed.
    ///
    /// # Examples
    ///
    /// See [`UnixStream`].
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.socket.write_all(buf).await
    }

    /// Shuts down the read side, the write side or both; shutting down the
    /// write side sends end-of-stream to the peer. A connection the peer
    /// already closed is shut down already: that is a success.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let (a, mut b) = evloop::net::UnixStream::pair()?;
    ///     a.shutdown(std::net::Shutdown::Write)?;
    ///     assert_eq!(b.read(&mut [0; 4]).await?, 0);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.socket.shutdown(how)
    }

    /// The address of the peer.
    ///
    /// # Examples
    ///
    /// See [`UnixStream::from_std`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.socket.source().peer_addr()
    }

    /// The local address of the connection.
    ///
    /// # Examples
    ///
    /// See [`UnixStream::from_std`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.source().local_addr()
    }

    /// Splits the stream into a read half and a write half that can move to
    /// different tasks. Dropping the write half shuts down the write side.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let (a, mut b) = evloop::net::UnixStream::pair()?;
    ///     let (mut reader, mut writer) = a.into_split();
    ///     writer.write_all(b"hi").await?;
    ///     drop(writer);
    ///     let mut buf = [0; 2];
    ///     let mut got = 0;
    ///     while got < 2 {
    ///         got += b.read(&mut buf[got..]).await?;
    ///     }
    ///     b.write_all(&buf).await?;
    ///     assert_eq!(reader.read(&mut buf).await?, 2);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let stream = Arc::new(self);
        (
            OwnedReadHalf {
                stream: stream.clone(),
            },
            OwnedWriteHalf { stream },
        )
    }
}

impl Transport for UnixStream {
    fn poll_read_shared(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.socket.poll_read(cx, buf)
    }

    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.socket.try_write(buf)
    }

    fn poll_write_shared(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.socket.poll_write(cx, buf)
    }

    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.socket.shutdown(how)
    }

    fn peer_addr(&self) -> io::Result<std::net::SocketAddr> {
        Err(no_ip_address("a Unix socket"))
    }

    fn local_addr(&self) -> io::Result<std::net::SocketAddr> {
        Err(no_ip_address("a Unix socket"))
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

futures_io_for!(read UnixStream, |stream| stream.socket);
futures_io_for!(write UnixStream, |stream| stream.socket);

/// The read half of a [`UnixStream`], from [`UnixStream::into_split`].
///
/// # Examples
///
/// See [`UnixStream::into_split`].
#[derive(Debug)]
pub struct OwnedReadHalf {
    stream: Arc<UnixStream>,
}

impl OwnedReadHalf {
    /// Reads into `buf`, waiting for data; `0` means end of stream.
    ///
    /// # Examples
    ///
    /// See [`UnixStream::into_split`].
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.stream.socket.read(buf).await
    }

    /// Polls a read into memory that need not be initialised; see
    /// [`UnixStream::poll_read_uninit`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::mem::MaybeUninit;
    ///
    /// evloop::run(async {
    ///     let (mut a, b) = evloop::net::UnixStream::pair()?;
    ///     let (mut reader, _writer) = b.into_split();
    ///     a.write_all(b"half").await?;
    ///     let mut buf = [MaybeUninit::<u8>::uninit(); 16];
    ///     let n = poll_fn(|cx| reader.poll_read_uninit(cx, &mut buf)).await?;
    ///     assert!(n > 0 && n <= 4);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_read_uninit(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.stream.socket.poll_read_uninit(cx, buf)
    }
}

futures_io_for!(read OwnedReadHalf, |half| half.stream.socket);

/// The write half of a [`UnixStream`], from [`UnixStream::into_split`].
/// Dropping it shuts down the write side (the peer reads end of stream).
///
/// # Examples
///
/// See [`UnixStream::into_split`].
#[derive(Debug)]
pub struct OwnedWriteHalf {
    stream: Arc<UnixStream>,
}

impl OwnedWriteHalf {
    /// Writes some of `buf`; returns how much was written.
    ///
    /// # Examples
    ///
    /// See [`UnixStream::into_split`].
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.socket.write(buf).await
    }

    /// Writes all of `buf`.
    ///
    /// # Examples
    ///
    /// See [`UnixStream::into_split`].
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.stream.socket.write_all(buf).await
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        // The peer may already be gone; there is nobody to report to.
        let _ = self.stream.shutdown(Shutdown::Write);
    }
}

futures_io_for!(write OwnedWriteHalf, |half| half.stream.socket);

/// A Unix datagram socket: each send is one message, kept whole. (It
/// keeps std's socket, which has the calls that take an abstract address.)
///
/// Several tasks may use one socket through an `Arc` (all methods take
/// `&self`).
///
/// # Examples
///
/// ```
/// use evloop::net::UnixDatagram;
///
/// evloop::run(async {
///     let server = UnixDatagram::bind("\0evloop-doc-datagram")?;
///     let client = UnixDatagram::unbound()?;
///     client.send_to(b"ping", "\0evloop-doc-datagram").await?;
///     let mut buf = [0; 16];
///     let (n, _from) = server.recv_from(&mut buf).await?;
///     assert_eq!(&buf[..n], b"ping");
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct UnixDatagram {
    io: IoSource<FdSource<StdDatagram>>,
}

impl UnixDatagram {
    /// A socket bound to `path` (a NUL first byte names an abstract
    /// address); a stale file at the path gives [`io::ErrorKind::AddrInUse`].
    ///
    /// # Panics
    ///
    /// Panics outside an event loop.
    ///
    /// # Examples
    ///
    /// See [`UnixDatagram`].
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::bind_addr(&socket_addr(path.as_ref())?)
    }

    /// A socket bound to `addr`.
    ///
    /// # Panics
    ///
    /// Panics outside an event loop.
    ///
    /// # Examples
    ///
    /// See [`UnixListener::bind_addr`] for making an abstract address.
    pub fn bind_addr(addr: &SocketAddr) -> io::Result<UnixDatagram> {
        let socket = StdDatagram::bind_addr(addr).map_err(|e| explain_bind_error(e, addr))?;
        UnixDatagram::register(socket)
    }

    /// A socket bound to no address: it can send, and receive replies only
    /// on a connected pair.
    ///
    /// # Panics
    ///
    /// Panics outside an event loop.
    ///
    /// # Examples
    ///
    /// See [`UnixDatagram`].
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::register(StdDatagram::unbound()?)
    }

    /// A pair of connected sockets.
    ///
    /// # Panics
    ///
    /// Panics outside an event loop.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let (a, b) = evloop::net::UnixDatagram::pair()?;
    ///     a.send(b"one").await?;
    ///     a.send(b"two").await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(b.recv(&mut buf).await?, 3);
    ///     assert_eq!(&buf[..3], b"one");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = StdDatagram::pair()?;
        Ok((UnixDatagram::register(a)?, UnixDatagram::register(b)?))
    }

    fn register(socket: StdDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        Ok(UnixDatagram {
            io: IoSource::new(&reactor::current(), FdSource(socket))?,
        })
    }

    /// Sets the default peer: [`send`](UnixDatagram::send) goes there and
    /// only its datagrams are received.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let server = evloop::net::UnixDatagram::bind("\0evloop-doc-dgram-connect")?;
    ///     let client = evloop::net::UnixDatagram::unbound()?;
    ///     client.connect("\0evloop-doc-dgram-connect")?;
    ///     client.send(b"hi").await?;
    ///     assert_eq!(server.recv(&mut [0; 8]).await?, 2);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let addr = socket_addr(path.as_ref())?;
        self.io.source().0.connect_addr(&addr)
    }

    /// Sends `buf` as one datagram to the connected peer.
    ///
    /// # Examples
    ///
    /// See [`UnixDatagram::pair`].
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Write, |s| s.0.send(buf))).await
    }

    /// Sends `buf` as one datagram to `path`.
    ///
    /// # Examples
    ///
    /// See [`UnixDatagram`].
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let addr = socket_addr(path.as_ref())?;
        poll_fn(|cx| {
            self.io
                .poll_io(cx, Direction::Write, |s| s.0.send_to_addr(buf, &addr))
        })
        .await
    }

    /// Receives one datagram from the connected peer into `buf` (a longer
    /// datagram is cut to `buf`'s length).
    ///
    /// # Examples
    ///
    /// See [`UnixDatagram::pair`].
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Read, |s| s.0.recv(buf))).await
    }

    /// Receives one datagram and the address it came from.
    ///
    /// # Examples
    ///
    /// See [`UnixDatagram`].
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| self.io.poll_io(cx, Direction::Read, |s| s.0.recv_from(buf))).await
    }

    /// The address the socket is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let socket = evloop::net::UnixDatagram::unbound()?;
    ///     assert!(socket.local_addr()?.is_unnamed());
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().0.local_addr()
    }

    /// The address of the connected peer.
    ///
    /// # Examples
    ///
    /// See [`UnixDatagram::connect`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().0.peer_addr()
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnixDatagram")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
