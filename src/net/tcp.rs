//! TCP: [`TcpListener`], [`TcpStream`] and the stream's owned halves.

use std::fmt;
use std::future::{Future, poll_fn};
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_io::{AsyncRead, AsyncWrite};

use crate::reactor::{self, io::Direction, io::IoSource};

/// A TCP socket listening for connections (the server side of
/// `asyncio.start_server` / `loop.create_server`).
///
/// Dropping the listener closes it: a task still waiting in
/// [`accept`](TcpListener::accept) wakes up with an error of kind
/// [`io::ErrorKind::ConnectionAborted`].
///
/// # Examples
///
/// ```
/// use evloop::net::{TcpListener, TcpStream};
///
/// evloop::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let client = TcpStream::connect(listener.local_addr()?).await?;
///     let (server_side, peer) = listener.accept().await?;
///     assert_eq!(peer, client.local_addr()?);
///     assert_eq!(server_side.peer_addr()?, client.local_addr()?);
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct TcpListener {
    io: Arc<IoSource<mio::net::TcpListener>>,
}

impl TcpListener {
    /// Binds a listener to `addr` (port 0 picks a free port).
    ///
    /// Fails with the OS's error, e.g. [`io::ErrorKind::AddrInUse`] when
    /// another socket listens on the address.
    ///
    /// # Panics
    ///
    /// Panics outside an event loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::TcpListener;
    ///
    /// evloop::run(async {
    ///     let first = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let taken = first.local_addr().unwrap();
    ///     let error = TcpListener::bind(taken).await.unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::AddrInUse);
    /// });
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let reactor = reactor::current();
        super::each_addr(addr, |addr| {
            let reactor = reactor.clone();
            async move {
                let listener = mio::net::TcpListener::bind(addr)?;
                TcpListener::register(&reactor, listener)
            }
        })
        .await
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
    /// evloop::run(async {
    ///     let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let listener = evloop::net::TcpListener::from_std(std_listener).unwrap();
    ///     assert!(listener.local_addr().unwrap().port() != 0);
    /// });
    /// ```
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        let reactor = reactor::current();
        TcpListener::register(&reactor, mio::net::TcpListener::from_std(listener))
    }

    fn register(
        reactor: &reactor::Handle,
        listener: mio::net::TcpListener,
    ) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: Arc::new(IoSource::new(reactor, listener)?),
        })
    }

    /// Waits for a connection and returns it with the peer's address.
    ///
    /// The returned future does not borrow the listener, so it can be moved
    /// into another task; it fails with [`io::ErrorKind::ConnectionAborted`]
    /// if the listener is dropped first.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{TcpListener, TcpStream};
    ///
    /// evloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let accepting = evloop::spawn(listener.accept());
    ///     let _client = TcpStream::connect(addr).await.unwrap();
    ///     let (_stream, peer) = accepting.await.unwrap().unwrap();
    ///     assert!(peer.ip().is_loopback());
    /// });
    /// ```
    pub fn accept(&self) -> Accept {
        Accept {
            io: self.io.clone(),
        }
    }

    /// Polls for a connection: the building block of [`accept`] and
    /// [`incoming`](TcpListener::incoming). Several tasks may poll one
    /// listener; each incoming connection goes to one of them.
    ///
    /// [`accept`]: TcpListener::accept
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{TcpListener, TcpStream};
    ///
    /// evloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let accepted = std::future::poll_fn(|cx| listener.poll_accept(cx)).await;
    ///     assert!(accepted.is_ok());
    /// });
    /// ```
    pub fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        poll_accept(&self.io, cx)
    }

    /// The stream of incoming connections: an endless
    /// [`Stream`](futures_core::Stream) of `io::Result<TcpStream>`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::pin::Pin;
    /// use evloop::net::{TcpListener, TcpStream};
    /// use futures_core::Stream;
    ///
    /// evloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let _client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let mut incoming = listener.incoming();
    ///     let next = poll_fn(|cx| Pin::new(&mut incoming).poll_next(cx)).await;
    ///     assert!(next.unwrap().is_ok());
    /// });
    /// ```
    pub fn incoming(&self) -> Incoming<'_> {
        Incoming { listener: self }
    }

    /// The address the listener is bound to.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let listener = evloop::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(listener.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }
}

fn poll_accept(
    io: &IoSource<mio::net::TcpListener>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
    let (stream, peer) = match io.poll_io(cx, Direction::Read, |listener| listener.accept()) {
        Poll::Ready(Ok(accepted)) => accepted,
        Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
        Poll::Pending => return Poll::Pending,
    };
    Poll::Ready(TcpStream::register(io.registration().handle(), stream).map(|s| (s, peer)))
}

impl Drop for TcpListener {
    fn drop(&mut self) {
        // Pending `Accept` futures may keep the socket itself alive for a
        // while; closing the registration wakes them with an error now.
        self.io.registration().close();
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

/// The future returned by [`TcpListener::accept`].
///
/// # Examples
///
/// ```
/// use evloop::net::{Accept, TcpListener};
///
/// evloop::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let pending: Accept = listener.accept();
///     drop(listener);
///     let error = pending.await.unwrap_err();
///     assert_eq!(error.kind(), std::io::ErrorKind::ConnectionAborted);
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Accept {
    io: Arc<IoSource<mio::net::TcpListener>>,
}

impl Future for Accept {
    type Output = io::Result<(TcpStream, SocketAddr)>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        poll_accept(&self.io, cx)
    }
}

impl fmt::Debug for Accept {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Accept").finish_non_exhaustive()
    }
}

/// The endless stream of connections of a [`TcpListener`], from
/// [`TcpListener::incoming`].
///
/// # Examples
///
/// ```
/// use evloop::net::{Incoming, TcpListener};
///
/// evloop::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let _incoming: Incoming<'_> = listener.incoming();
/// });
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a> {
    listener: &'a TcpListener,
}

impl Stream for Incoming<'_> {
    type Item = io::Result<TcpStream>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.listener
            .poll_accept(cx)
            .map(|accepted| Some(accepted.map(|(stream, _)| stream)))
    }
}

impl fmt::Debug for Incoming<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Incoming")
            .field("listener", self.listener)
            .finish()
    }
}

/// A TCP connection (the socket under asyncio's `open_connection`).
///
/// Reads and writes take `&mut self`: one task reads and writes at a time.
/// To read in one task and write in another, split it with
/// [`into_split`](TcpStream::into_split). It implements `futures-io`'s
/// `AsyncRead` and `AsyncWrite`.
///
/// # Examples
///
/// ```
/// use evloop::net::{TcpListener, TcpStream};
///
/// evloop::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"ping").await?;
///     client.shutdown(std::net::Shutdown::Write)?;
///     let mut received = Vec::new();
///     let mut buf = [0; 16];
///     loop {
///         match server.read(&mut buf).await? {
///             0 => break,
///             n => received.extend_from_slice(&buf[..n]),
///         }
///     }
///     assert_eq!(received, b"ping");
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct TcpStream {
    io: IoSource<mio::net::TcpStream>,
}

impl TcpStream {
    /// Opens a connection to `addr`, trying each resolved address in turn.
    ///
    /// Fails with the OS's error, e.g. [`io::ErrorKind::ConnectionRefused`]
    /// when nothing listens there.
    ///
    /// # Panics
    ///
    /// Panics outside an event loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{TcpListener, TcpStream};
    ///
    /// evloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let stream = TcpStream::connect(addr).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), addr);
    /// });
    /// ```
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let reactor = reactor::current();
        super::each_addr(addr, |addr| TcpStream::connect_addr(reactor.clone(), addr)).await
    }

    async fn connect_addr(reactor: reactor::Handle, addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::register(&reactor, mio::net::TcpStream::connect(addr)?)?;
        // A non-blocking connect completes when the socket turns writable;
        // its outcome is then the socket's pending error, if any.
        let registration = stream.io.registration();
        poll_fn(|cx| {
            loop {
                let ready = match registration.poll_ready(cx, Direction::Write) {
                    Poll::Ready(ready) => ready?,
                    Poll::Pending => return Poll::Pending,
                };
                if let Some(error) = stream.io.source().take_error()? {
                    return Poll::Ready(Err(error));
                }
                match stream.io.source().peer_addr() {
                    Ok(_) => return Poll::Ready(Ok(())),
                    // Spurious readiness: still connecting.
                    Err(error) if error.kind() == io::ErrorKind::NotConnected => {
                        registration.clear_readiness(ready)
                    }
                    Err(error) => return Poll::Ready(Err(error)),
                }
            }
        })
        .await?;
        Ok(stream)
    }

    fn register(reactor: &reactor::Handle, stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: IoSource::new(reactor, stream)?,
        })
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
    ///     let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    ///     let std_stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    ///     let stream = evloop::net::TcpStream::from_std(std_stream).unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), listener.local_addr().unwrap());
    /// });
    /// ```
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::register(&reactor::current(), mio::net::TcpStream::from_std(stream))
    }

    /// Reads into `buf`, waiting for data; returns the number of bytes read,
    /// `0` once the peer has closed its side (end of stream).
    ///
    /// # Examples
    ///
    /// See [`TcpStream`].
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read_shared(cx, buf)).await
    }

    /// Writes some of `buf`, waiting for room; returns how much was written.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{TcpListener, TcpStream};
    ///
    /// evloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let written = client.write(b"hello").await.unwrap();
    ///     assert!(written > 0 && written <= 5);
    /// });
    /// ```
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write_shared(cx, buf)).await
    }

    /// Writes all of `buf`, waiting for room as often as needed.
    ///
    /// # Examples
    ///
    /// See [`TcpStream`].
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        write_all_shared(self, buf).await
    }

    /// Shuts down the read side, the write side or both; shutting down the
    /// write side sends end-of-stream to the peer (asyncio's `write_eof`).
    ///
    /// # Examples
    ///
    /// See [`TcpStream`].
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.source().shutdown(how)
    }

    /// The address of the peer.
    ///
    /// # Examples
    ///
    /// See [`TcpStream::connect`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().peer_addr()
    }

    /// The local address of the connection.
    ///
    /// # Examples
    ///
    /// See [`TcpListener`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }

    /// Sets `TCP_NODELAY`: with `true`, small writes are sent at once
    /// instead of being coalesced (Nagle's algorithm off).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{TcpListener, TcpStream};
    ///
    /// evloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_nodelay(true).unwrap();
    ///     assert!(stream.nodelay().unwrap());
    /// });
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.source().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Examples
    ///
    /// See [`TcpStream::set_nodelay`].
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.source().nodelay()
    }

    /// Splits the stream into a read half and a write half that can move to
    /// different tasks. Dropping the write half shuts down the write side.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{TcpListener, TcpStream};
    ///
    /// evloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     let (mut reader, mut writer) = client.into_split();
    ///     let writing = evloop::spawn(async move { writer.write_all(b"both ways").await });
    ///     let mut buf = [0; 9];
    ///     let mut got = 0;
    ///     while got < buf.len() {
    ///         got += server.read(&mut buf[got..]).await?;
    ///     }
    ///     server.write_all(&buf).await?;
    ///     let mut back = [0; 9];
    ///     let mut got = 0;
    ///     while got < back.len() {
    ///         got += reader.read(&mut back[got..]).await?;
    ///     }
    ///     assert_eq!(&back, b"both ways");
    ///     writing.await.unwrap()
    /// })
    /// .unwrap();
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let stream = Arc::new(self);
        (
            OwnedReadHalf {
                stream: stream.clone(),
            },
            OwnedWriteHalf {
                stream,
                shutdown_on_drop: true,
            },
        )
    }

    /// Resolves when the stream is ready in `direction` (possibly
    /// spuriously: the next try may still return `WouldBlock`).
    fn poll_ready(&self, cx: &mut Context<'_>, direction: Direction) -> Poll<io::Result<()>> {
        self.io
            .registration()
            .poll_ready(cx, direction)
            .map(|ready| ready.map(|_| ()))
    }

    /// Resolves when the stream looks readable (data, end of stream or an
    /// error to report). For streams built on top of `TcpStream`.
    #[cfg_attr(not(test), allow(dead_code))] // for streams built on TcpStream
    pub(crate) fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_ready(cx, Direction::Read)
    }

    /// Resolves when the stream looks writable. For streams built on top of
    /// `TcpStream`.
    #[cfg_attr(not(test), allow(dead_code))] // for streams built on TcpStream
    pub(crate) fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_ready(cx, Direction::Write)
    }

    /// Reads without waiting: `WouldBlock` when no data is there (and the
    /// readiness is cleared, so [`poll_read_ready`] waits for the next edge).
    ///
    /// [`poll_read_ready`]: TcpStream::poll_read_ready
    #[cfg_attr(not(test), allow(dead_code))] // for streams built on TcpStream
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let source = self.io.source();
        self.io
            .registration()
            .try_io(Direction::Read, || (&*source).read(buf))
    }

    /// Writes without waiting: `WouldBlock` when there is no room.
    #[cfg_attr(not(test), allow(dead_code))] // for streams built on TcpStream
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let source = self.io.source();
        self.io
            .registration()
            .try_io(Direction::Write, || (&*source).write(buf))
    }

    /// Polls a read through a shared reference. Callers must not let two
    /// tasks read at once (each would keep re-waking the other).
    pub(crate) fn poll_read_shared(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Read, |mut source| source.read(buf))
    }

    /// Polls a write through a shared reference (one writing task at a
    /// time, as for reads).
    pub(crate) fn poll_write_shared(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Write, |mut source| source.write(buf))
    }

    fn poll_write_vectored_shared(
        &self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io.poll_io(cx, Direction::Write, |mut source| {
            source.write_vectored(bufs)
        })
    }
}

async fn write_all_shared(stream: &TcpStream, mut buf: &[u8]) -> io::Result<()> {
    while !buf.is_empty() {
        let written = poll_fn(|cx| stream.poll_write_shared(cx, buf)).await?;
        if written == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        buf = &buf[written..];
    }
    Ok(())
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

impl AsyncRead for TcpStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_shared(cx, buf)
    }
}

impl AsyncWrite for TcpStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_shared(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_shared(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Writes go straight to the socket: nothing is buffered here.
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown(Shutdown::Write))
    }
}

/// The read half of a [`TcpStream`], from [`TcpStream::into_split`].
///
/// # Examples
///
/// See [`TcpStream::into_split`].
pub struct OwnedReadHalf {
    stream: Arc<TcpStream>,
}

impl OwnedReadHalf {
    /// Reads into `buf`, waiting for data; `0` means end of stream.
    ///
    /// # Examples
    ///
    /// See [`TcpStream::into_split`].
    pub async fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.stream.poll_read_shared(cx, buf)).await
    }

    /// The address of the peer.
    ///
    /// # Examples
    ///
    /// See [`TcpStream::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// The local address of the connection.
    ///
    /// # Examples
    ///
    /// See [`TcpStream::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }
}

impl fmt::Debug for OwnedReadHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedReadHalf").field(&self.stream).finish()
    }
}

impl AsyncRead for OwnedReadHalf {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_read_shared(cx, buf)
    }
}

/// The write half of a [`TcpStream`], from [`TcpStream::into_split`].
///
/// Dropping it shuts down the write side of the connection (the peer reads
/// end of stream), unless [`forget_shutdown`](OwnedWriteHalf::forget_shutdown)
/// was called.
///
/// # Examples
///
/// See [`TcpStream::into_split`].
pub struct OwnedWriteHalf {
    stream: Arc<TcpStream>,
    shutdown_on_drop: bool,
}

impl OwnedWriteHalf {
    /// Writes some of `buf`; returns how much was written.
    ///
    /// # Examples
    ///
    /// See [`TcpStream::write`].
    pub async fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.stream.poll_write_shared(cx, buf)).await
    }

    /// Writes all of `buf`.
    ///
    /// # Examples
    ///
    /// See [`TcpStream::into_split`].
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        write_all_shared(&self.stream, buf).await
    }

    /// Shuts down the write side now (the peer reads end of stream).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{TcpListener, TcpStream};
    ///
    /// evloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     let (_reader, writer) = client.into_split();
    ///     writer.shutdown().unwrap();
    ///     assert_eq!(server.read(&mut [0; 8]).await.unwrap(), 0);
    /// });
    /// ```
    pub fn shutdown(&self) -> io::Result<()> {
        self.stream.shutdown(Shutdown::Write)
    }

    /// Keeps the write side open when this half is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{TcpListener, TcpStream};
    ///
    /// evloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (_reader, mut writer) = client.into_split();
    ///     writer.forget_shutdown();
    ///     drop(writer);
    /// });
    /// ```
    pub fn forget_shutdown(&mut self) {
        self.shutdown_on_drop = false;
    }

    /// The address of the peer.
    ///
    /// # Examples
    ///
    /// See [`TcpStream::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.stream.peer_addr()
    }

    /// The local address of the connection.
    ///
    /// # Examples
    ///
    /// See [`TcpStream::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.stream.local_addr()
    }
}

impl Drop for OwnedWriteHalf {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // The peer may already be gone; there is nobody to report to.
            let _ = self.stream.shutdown(Shutdown::Write);
        }
    }
}

impl fmt::Debug for OwnedWriteHalf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedWriteHalf").field(&self.stream).finish()
    }
}

impl AsyncWrite for OwnedWriteHalf {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_shared(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream.poll_write_vectored_shared(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.shutdown())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_api_for_streams_waits_for_data_and_clears_on_would_block() {
        crate::run(async {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let mut client = TcpStream::connect(listener.local_addr().unwrap())
                .await
                .unwrap();
            let (server, _) = listener.accept().await.unwrap();
            let mut buf = [0; 16];
            let error = server.try_read(&mut buf).unwrap_err();
            assert_eq!(error.kind(), std::io::ErrorKind::WouldBlock);
            std::future::poll_fn(|cx| server.poll_write_ready(cx))
                .await
                .unwrap();
            client.write_all(b"ready").await.unwrap();
            loop {
                std::future::poll_fn(|cx| server.poll_read_ready(cx))
                    .await
                    .unwrap();
                match server.try_read(&mut buf) {
                    Ok(n) => {
                        assert_eq!(&buf[..n], b"ready");
                        break;
                    }
                    Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => continue,
                    Err(error) => panic!("{error}"),
                }
            }
            assert_eq!(server.try_write(b"back").unwrap(), 4);
        });
    }
}
