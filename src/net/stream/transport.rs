//! [`Transport`]: what a [`StreamReader`](super::StreamReader) and a
//! [`StreamWriter`](super::StreamWriter) need from the byte stream under
//! them, so that TCP, Unix sockets and a subprocess's pipes all hand out the
//! same reader and writer (asyncio's transports).

use std::fmt;
use std::future::Future;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::net::TcpStream;

/// A non-blocking byte stream registered with the reactor. The reader and
/// the writer share it through an `Arc`: one task reads, one writes.
pub(crate) trait Transport: fmt::Debug + Send + Sync + 'static {
    /// Polls a read (`Ok(0)` is the end of the stream).
    fn poll_read_shared(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;

    /// Writes without waiting: `WouldBlock` when there is no room.
    fn try_write(&self, buf: &[u8]) -> io::Result<usize>;

    /// Polls a write.
    fn poll_write_shared(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;

    /// Ends the write side (`Write`) or the whole stream (`Both`).
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;

    /// The peer's IP address; an error for a transport that has none.
    fn peer_addr(&self) -> io::Result<SocketAddr>;

    /// The local IP address; an error for a transport that has none.
    fn local_addr(&self) -> io::Result<SocketAddr>;
}

/// The error of [`Transport::peer_addr`] and [`Transport::local_addr`] for
/// a transport that is not an IP connection.
pub(crate) fn no_ip_address(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("{what} has no IP address"),
    )
}

impl Transport for TcpStream {
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

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        TcpStream::peer_addr(self)
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        TcpStream::local_addr(self)
    }
}

/// The connections accepted by a listener, as transports: the listening
/// side of [`start_server`](super::start_server) and its Unix twin.
pub(crate) trait Listener: Send + Sync + 'static {
    /// Waits for the next connection. The future does not borrow the
    /// listener; it fails once the listener is dropped.
    fn accept_transport(&self) -> AcceptTransport;
}

/// The future of [`Listener::accept_transport`].
pub(crate) type AcceptTransport =
    Pin<Box<dyn Future<Output = io::Result<Arc<dyn Transport>>> + Send>>;

impl Listener for crate::net::TcpListener {
    fn accept_transport(&self) -> AcceptTransport {
        let accept = self.accept();
        Box::pin(async move {
            let (stream, _peer) = accept.await?;
            Ok(Arc::new(stream) as Arc<dyn Transport>)
        })
    }
}
