//! UDP: [`UdpSocket`].

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::SocketAddr;

use crate::net::ToSocketAddrs;
use crate::net::addr::{each_addr, resolve};
use crate::reactor::{self, io::Direction, io::IoSource};

/// A UDP socket (asyncio's datagram endpoint).
///
/// Every method takes `&self`, so one socket can be shared between tasks
/// (behind an `Arc`); each datagram is received by one of the tasks
/// waiting in `recv_from` / `recv`.
///
/// # Examples
///
/// ```
/// use evloop::net::UdpSocket;
///
/// evloop::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await?;
///     let b = UdpSocket::bind("127.0.0.1:0").await?;
///     a.send_to(b"hi", b.local_addr()?).await?;
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!((&buf[..n], from), (&b"hi"[..], a.local_addr()?));
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub struct UdpSocket {
    io: IoSource<mio::net::UdpSocket>,
}

impl UdpSocket {
    /// Binds a socket to `addr` (port 0 picks a free port).
    ///
    /// # Panics
    ///
    /// Panics outside an event loop.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let socket = evloop::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(socket.local_addr().unwrap().port() != 0);
    /// });
    /// ```
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let reactor = reactor::current();
        each_addr(addr, |addr| {
            let reactor = reactor.clone();
            async move {
                let socket = mio::net::UdpSocket::bind(addr)?;
                Ok(UdpSocket {
                    io: IoSource::new(&reactor, socket)?,
                })
            }
        })
        .await
    }

    /// Wraps a socket made with the standard library (it is switched to
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
    ///     let std_socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    ///     let socket = evloop::net::UdpSocket::from_std(std_socket).unwrap();
    ///     assert!(socket.local_addr().is_ok());
    /// });
    /// ```
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: IoSource::new(&reactor::current(), mio::net::UdpSocket::from_std(socket))?,
        })
    }

    /// Sends one datagram to `target` (the first address it resolves to);
    /// returns the number of bytes sent.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket`].
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = resolve(&target).await?[0];
        poll_fn(|cx| {
            self.io
                .poll_io(cx, Direction::Write, |socket| socket.send_to(buf, target))
        })
        .await
    }

    /// Waits for one datagram; returns its length and sender. A datagram
    /// longer than `buf` is truncated.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket`].
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        poll_fn(|cx| {
            self.io
                .poll_io(cx, Direction::Read, |socket| socket.recv_from(buf))
        })
        .await
    }

    /// Sets the default peer: [`send`](UdpSocket::send) goes to it, and
    /// [`recv`](UdpSocket::recv) only receives from it.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::UdpSocket;
    ///
    /// evloop::run(async {
    ///     let a = UdpSocket::bind("127.0.0.1:0").await?;
    ///     let b = UdpSocket::bind("127.0.0.1:0").await?;
    ///     a.connect(b.local_addr()?).await?;
    ///     b.connect(a.local_addr()?).await?;
    ///     a.send(b"ping").await?;
    ///     let mut buf = [0; 8];
    ///     let n = b.recv(&mut buf).await?;
    ///     assert_eq!(&buf[..n], b"ping");
    ///     assert_eq!(a.peer_addr()?, b.local_addr()?);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        each_addr(addr, |addr| async move { self.io.source().connect(addr) }).await
    }

    /// Sends one datagram to the connected peer.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket::connect`].
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| {
            self.io
                .poll_io(cx, Direction::Write, |socket| socket.send(buf))
        })
        .await
    }

    /// Waits for one datagram from the connected peer.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket::connect`].
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| {
            self.io
                .poll_io(cx, Direction::Read, |socket| socket.recv(buf))
        })
        .await
    }

    /// The address the socket is bound to.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket::bind`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().local_addr()
    }

    /// The connected peer's address.
    ///
    /// # Examples
    ///
    /// See [`UdpSocket::connect`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.source().peer_addr()
    }
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}
