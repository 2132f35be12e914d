//! [`TcpStream`]: a connected socket, read and written by one task at a
//! time.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::mem::MaybeUninit;
use std::net::{Shutdown, SocketAddr};
use std::task::{Context, Poll};

use crate::net::ToSocketAddrs;
use crate::net::addr::each_addr;
use crate::net::socket::{StreamSocket, futures_io_for};
use crate::reactor::{self, io::Direction};

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
    pub(in crate::net) socket: StreamSocket<mio::net::TcpStream>,
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
        each_addr(addr, |addr| TcpStream::connect_addr(reactor.clone(), addr)).await
    }

    async fn connect_addr(reactor: reactor::Handle, addr: SocketAddr) -> io::Result<TcpStream> {
        let stream = TcpStream::register(&reactor, mio::net::TcpStream::connect(addr)?)?;
        // A non-blocking connect completes when the socket turns writable;
        // its outcome is then the socket's pending error, if any.
        let registration = stream.socket.registration();
        poll_fn(|cx| {
            loop {
                let ready = match registration.poll_ready(cx, Direction::Write) {
                    Poll::Ready(ready) => ready?,
                    Poll::Pending => return Poll::Pending,
                };
                if let Some(error) = stream.socket.source().take_error()? {
                    return Poll::Ready(Err(error));
                }
                match stream.socket.source().peer_addr() {
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

    pub(super) fn register(
        reactor: &reactor::Handle,
        stream: mio::net::TcpStream,
    ) -> io::Result<TcpStream> {
        Ok(TcpStream {
            socket: StreamSocket::register(reactor, stream)?,
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
        self.socket.read(buf).await
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
        self.socket.write(buf).await
    }

    /// Writes all of `buf`, waiting for room as often as needed.
    ///
    /// # Examples
    ///
    /// See [`TcpStream`].
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.socket.write_all(buf).await
    }

    /// Shuts down the read side, the write side or both; shutting down the
    /// write side sends end-of-stream to the peer (asyncio's `write_eof`).
    ///
    /// A connection the peer already reset or closed is shut down already:
    /// that is a success, not the OS's `ENOTCONN`.
    ///
    /// # Examples
    ///
    /// See [`TcpStream`].
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.socket.shutdown(how)
    }

    /// The address of the peer.
    ///
    /// # Examples
    ///
    /// See [`TcpStream::connect`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.socket.source().peer_addr()
    }

    /// The local address of the connection.
    ///
    /// # Examples
    ///
    /// See [`TcpListener`](super::TcpListener).
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.source().local_addr()
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
        self.socket.source().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Examples
    ///
    /// See [`TcpStream::set_nodelay`].
    pub fn nodelay(&self) -> io::Result<bool> {
        self.socket.source().nodelay()
    }

    /// Resolves when the stream looks readable (data, end of stream or an
    /// error to report), possibly spuriously: the next
    /// [`try_read`](TcpStream::try_read) may still return `WouldBlock`,
    /// and then waiting again waits for the next change.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use evloop::net::{TcpListener, TcpStream};
    ///
    /// evloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (server, _) = listener.accept().await?;
    ///     let mut buf = [0; 8];
    ///     assert_eq!(server.try_read(&mut buf).unwrap_err().kind(), std::io::ErrorKind::WouldBlock);
    ///
    ///     poll_fn(|cx| client.poll_write_ready(cx)).await?;
    ///     assert_eq!(client.try_write(b"hey")?, 3);
    ///     let n = loop {
    ///         poll_fn(|cx| server.poll_read_ready(cx)).await?;
    ///         match server.try_read(&mut buf) {
    ///             Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
    ///             read => break read?,
    ///         }
    ///     };
    ///     assert_eq!(&buf[..n], b"hey");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.socket.poll_ready(cx, Direction::Read)
    }

    /// Resolves when the stream looks writable (possibly spuriously, as
    /// for [`poll_read_ready`](TcpStream::poll_read_ready)).
    ///
    /// # Examples
    ///
    /// See [`poll_read_ready`](TcpStream::poll_read_ready).
    pub fn poll_write_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.socket.poll_ready(cx, Direction::Write)
    }

    /// Reads without waiting: `WouldBlock` when no data is there (the
    /// readiness is then cleared, so
    /// [`poll_read_ready`](TcpStream::poll_read_ready) waits for new data).
    ///
    /// # Examples
    ///
    /// See [`poll_read_ready`](TcpStream::poll_read_ready).
    pub fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.socket.try_read(buf)
    }

    /// Writes without waiting: `WouldBlock` when there is no room.
    ///
    /// # Examples
    ///
    /// See [`poll_read_ready`](TcpStream::poll_read_ready).
    pub fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.socket.try_write(buf)
    }

    /// Polls a read into memory that need not be initialised: on
    /// `Ok(n)`, the first `n` elements of `buf` hold the bytes read and are
    /// initialised; `Ok(0)` is the end of the stream. Nothing zeroes `buf`
    /// first, which is what a reader with a buffer of `MaybeUninit<u8>`
    /// (hyper's, for one) wants.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::mem::MaybeUninit;
    /// use evloop::net::{TcpListener, TcpStream};
    ///
    /// evloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     client.write_all(b"raw").await?;
    ///
    ///     let mut buf = [MaybeUninit::<u8>::uninit(); 16];
    ///     let n = poll_fn(|cx| server.poll_read_uninit(cx, &mut buf)).await?;
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
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

futures_io_for!(read TcpStream, |stream| stream.socket);
futures_io_for!(write TcpStream, |stream| stream.socket);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::TcpListener;

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
