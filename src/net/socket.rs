//! [`StreamSocket`]: the machinery of a connected stream socket, written
//! once for every kind ([`TcpStream`](super::TcpStream),
//! [`UnixStream`](super::UnixStream)) and their owned halves.
//!
//! A stream type is a thin wrapper: it holds a `StreamSocket` (its halves
//! an `Arc` of the stream), adds what is particular to its kind (connecting,
//! addresses, options) and forwards reads, writes, readiness and shutdown
//! here. [`futures_io_for!`] writes the `AsyncRead` / `AsyncWrite` impls of
//! each wrapper.

use std::future::poll_fn;
use std::io::{self, IoSlice, Read, Write};
use std::mem::MaybeUninit;
use std::net::Shutdown;
use std::os::fd::AsRawFd;
use std::task::{Context, Poll};

use mio::event::Source;

use crate::net::uninit::recv_uninit;
use crate::reactor::{self, io::Direction, io::IoSource, io::Registration};

/// A mio stream socket: readable and writable through a shared reference,
/// with a descriptor to receive into uninitialised memory, and a shutdown.
pub(crate) trait StreamSource: Source + AsRawFd {
    /// Shuts down one side or both (the socket's own `shutdown`).
    fn shutdown(&self, how: Shutdown) -> io::Result<()>;
}

impl StreamSource for mio::net::TcpStream {
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        mio::net::TcpStream::shutdown(self, how)
    }
}

impl StreamSource for mio::net::UnixStream {
    fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        mio::net::UnixStream::shutdown(self, how)
    }
}

/// A connected stream socket registered with the reactor.
///
/// Every method takes `&self`, so the owned halves can share one socket;
/// the wrappers keep to one reading and one writing task at a time (two
/// tasks waiting in the same direction would keep re-waking each other).
#[derive(Debug)]
pub(crate) struct StreamSocket<S: StreamSource> {
    io: IoSource<S>,
}

impl<S> StreamSocket<S>
where
    S: StreamSource,
    for<'a> &'a S: Read + Write,
{
    /// Registers `source` with the reactor of `reactor`.
    pub(crate) fn register(reactor: &reactor::Handle, source: S) -> io::Result<StreamSocket<S>> {
        Ok(StreamSocket {
            io: IoSource::new(reactor, source)?,
        })
    }

    /// The mio socket, for what is particular to its kind (addresses,
    /// options, the pending error).
    pub(crate) fn source(&self) -> &S {
        self.io.source()
    }

    /// The socket's registration with the reactor.
    pub(crate) fn registration(&self) -> &Registration {
        self.io.registration()
    }

    /// Polls until the socket looks ready in `direction` (possibly
    /// spuriously).
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<()>> {
        self.registration()
            .poll_ready(cx, direction)
            .map(|ready| ready.map(|_| ()))
    }

    /// Reads without waiting; `WouldBlock` clears the read readiness.
    pub(crate) fn try_read(&self, buf: &mut [u8]) -> io::Result<usize> {
        let source = self.source();
        self.registration()
            .try_io(Direction::Read, || (&*source).read(buf))
    }

    /// Writes without waiting; `WouldBlock` clears the write readiness.
    pub(crate) fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        let source = self.source();
        self.registration()
            .try_io(Direction::Write, || (&*source).write(buf))
    }

    /// Polls a read into `buf` (`Ok(0)` is the end of the stream).
    pub(crate) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let len = buf.len();
        self.poll_transfer(cx, Direction::Read, len, |mut source| source.read(buf))
    }

    /// Polls a read into memory that need not be initialised: on `Ok(n)`
    /// the first `n` elements of `buf` are initialised.
    pub(crate) fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        let len = buf.len();
        self.poll_transfer(cx, Direction::Read, len, |source| recv_uninit(source, buf))
    }

    /// Waits for data and reads it into `buf`.
    pub(crate) async fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_read(cx, buf)).await
    }

    /// Polls a write of some of `buf`.
    pub(crate) fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.poll_transfer(cx, Direction::Write, buf.len(), |mut source| {
            source.write(buf)
        })
    }

    /// Polls a write of some of `bufs`, in one system call.
    pub(crate) fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|buf| buf.len()).sum();
        self.poll_transfer(cx, Direction::Write, len, |mut source| {
            source.write_vectored(bufs)
        })
    }

    /// Runs the read or write `op` of up to `len` bytes when `direction`
    /// is ready, like [`Registration::poll_io`], and also forgets the
    /// readiness after a short transfer.
    ///
    /// The OS poller reports a stream socket edge-triggered: it reports
    /// again only when new data or new room arrives. A read that returns
    /// fewer bytes than asked for has emptied the receive buffer, and a
    /// write that takes fewer than offered has filled the send buffer, so
    /// the next attempt would only return `WouldBlock`. Clearing the
    /// readiness now saves that system call, once per request on a
    /// request/response connection (see
    /// [`Registration::poll_io_clearing`]). A read of zero bytes (end of stream)
    /// keeps the readiness: every later read returns zero at once.
    fn poll_transfer(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        len: usize,
        mut op: impl FnMut(&S) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.registration().poll_io_clearing(
            cx,
            direction,
            || op(self.source()),
            |&n| n > 0 && n < len,
        )
    }

    /// Waits for room and writes some of `buf`.
    pub(crate) async fn write(&self, buf: &[u8]) -> io::Result<usize> {
        poll_fn(|cx| self.poll_write(cx, buf)).await
    }

    /// Writes all of `buf`, waiting for room as often as needed.
    pub(crate) async fn write_all(&self, mut buf: &[u8]) -> io::Result<()> {
        while !buf.is_empty() {
            let written = self.write(buf).await?;
            if written == 0 {
                return Err(io::ErrorKind::WriteZero.into());
            }
            buf = &buf[written..];
        }
        Ok(())
    }

    /// Shuts down one side or both. A connection the peer already reset or
    /// closed is shut down already: that is a success, not `ENOTCONN`.
    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        match self.source().shutdown(how) {
            Err(error) if error.kind() == io::ErrorKind::NotConnected => Ok(()),
            result => result,
        }
    }
}

/// Implements futures-io's `AsyncRead` (`read`) and `AsyncWrite`
/// (`write`) for a stream wrapper, given how to reach its
/// [`StreamSocket`] from `&self`. Writes go straight to the socket, so a
/// flush has nothing to do; closing shuts down the write side.
macro_rules! futures_io_for {
    (read $ty:ty, |$this:ident| $socket:expr) => {
        impl futures_io::AsyncRead for $ty {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $socket.poll_read(cx, buf)
            }
        }
    };
    (write $ty:ty, |$this:ident| $socket:expr) => {
        impl futures_io::AsyncWrite for $ty {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $socket.poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let $this = &*self;
                $socket.poll_write_vectored(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                _cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                let $this = &*self;
                std::task::Poll::Ready($socket.shutdown(std::net::Shutdown::Write))
            }
        }
    };
}

pub(crate) use futures_io_for;
