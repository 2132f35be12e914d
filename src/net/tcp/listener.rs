//! [`TcpListener`] and the ways to take its connections: [`Accept`],
//! [`Incoming`].

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::TcpStream;
use crate::net::ToSocketAddrs;
use crate::net::addr::each_addr;
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
        each_addr(addr, |addr| {
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
