//! [`HyperIo`]: evloop's sockets (and any futures-io type) as hyper's IO,
//! and hyper's IO as futures-io.
//!
//! This file holds the `unsafe` of the hyper module, because hyper's read
//! buffer is uninitialised memory: handing it to a reader means taking it
//! as `MaybeUninit<u8>` and telling hyper afterwards how many bytes were
//! written. Each block says why it is sound.

use std::any::Any;
use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::net::{OwnedReadHalf, OwnedWriteHalf, TcpStream, UnixStream, unix};

/// Adapts IO between evloop and hyper, both ways (hyper-util's `TokioIo`
/// for evloop):
///
/// - it implements `hyper::rt::Read` and `hyper::rt::Write` for a
///   futures-io type `T` ([`AsyncRead`] / [`AsyncWrite`]): evloop's
///   [`TcpStream`], [`UnixStream`] and their owned halves read straight into hyper's
///   uninitialised buffer; any other type gets the unfilled part of the
///   buffer zeroed first, as futures-io's `&mut [u8]` requires;
/// - it implements [`AsyncRead`] and [`AsyncWrite`] for a hyper IO type
///   `T` (an upgraded connection, say), so futures-io code can use it.
///
/// # Examples
///
/// ```
/// use evloop::hyper::{HyperIo, HyperTimer};
/// use evloop::net::TcpListener;
/// use hyper::server::conn::http1;
/// use hyper::service::service_fn;
///
/// evloop::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     evloop::spawn(async move {
///         let (stream, _) = listener.accept().await.unwrap();
///         let hello = service_fn(|_request| async {
///             Ok::<_, std::convert::Infallible>(hyper::Response::new("hello".to_owned()))
///         });
///         http1::Builder::new()
///             .timer(HyperTimer::new())
///             .serve_connection(HyperIo::new(stream), hello)
///             .await
///     });
///
///     let mut client = evloop::net::TcpStream::connect(addr).await?;
///     client.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await?;
///     let mut response = Vec::new();
///     let mut buf = [0; 1024];
///     loop {
///         match client.read(&mut buf).await? {
///             0 => break,
///             n => response.extend_from_slice(&buf[..n]),
///         }
///     }
///     assert!(response.starts_with(b"HTTP/1.1 200 OK"));
///     assert!(response.ends_with(b"hello"));
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
#[derive(Debug)]
pub struct HyperIo<T> {
    inner: T,
}

impl<T> HyperIo<T> {
    /// Wraps `inner`.
    ///
    /// # Examples
    ///
    /// See [`HyperIo`].
    pub fn new(inner: T) -> HyperIo<T> {
        HyperIo { inner }
    }

    /// The wrapped IO object.
    ///
    /// # Examples
    ///
    /// ```
    /// let io = evloop::hyper::HyperIo::new(std::io::Cursor::new(vec![1, 2]));
    /// assert_eq!(io.inner().position(), 0);
    /// ```
    pub fn inner(&self) -> &T {
        &self.inner
    }

    /// The wrapped IO object, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut io = evloop::hyper::HyperIo::new(std::io::Cursor::new(vec![1, 2]));
    /// io.inner_mut().set_position(1);
    /// assert_eq!(io.into_inner().position(), 1);
    /// ```
    pub fn inner_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// Unwraps the IO object.
    ///
    /// # Examples
    ///
    /// See [`inner_mut`](HyperIo::inner_mut).
    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// The readers that can fill uninitialised memory: evloop's own stream
/// sockets and their read halves.
fn uninit_reader(reader: &mut dyn Any) -> Option<UninitReader<'_>> {
    if reader.is::<TcpStream>() {
        reader.downcast_mut().map(UninitReader::Tcp)
    } else if reader.is::<OwnedReadHalf>() {
        reader.downcast_mut().map(UninitReader::TcpHalf)
    } else if reader.is::<UnixStream>() {
        reader.downcast_mut().map(UninitReader::Unix)
    } else {
        reader.downcast_mut().map(UninitReader::UnixHalf)
    }
}

enum UninitReader<'a> {
    Tcp(&'a mut TcpStream),
    TcpHalf(&'a mut OwnedReadHalf),
    Unix(&'a mut UnixStream),
    UnixHalf(&'a mut unix::OwnedReadHalf),
}

impl UninitReader<'_> {
    fn poll_read_uninit(
        self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        match self {
            UninitReader::Tcp(stream) => stream.poll_read_uninit(cx, buf),
            UninitReader::TcpHalf(half) => half.poll_read_uninit(cx, buf),
            UninitReader::Unix(stream) => stream.poll_read_uninit(cx, buf),
            UninitReader::UnixHalf(half) => half.poll_read_uninit(cx, buf),
        }
    }
}

/// Whether `writer` writes several buffers in one system call.
fn writes_vectored(writer: &dyn Any) -> bool {
    writer.is::<TcpStream>()
        || writer.is::<OwnedWriteHalf>()
        || writer.is::<UnixStream>()
        || writer.is::<unix::OwnedWriteHalf>()
}

impl<T> ::hyper::rt::Read for HyperIo<T>
where
    T: AsyncRead + Unpin + 'static,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ::hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let inner = &mut self.get_mut().inner;
        let read = match uninit_reader(inner) {
            Some(reader) => {
                // SAFETY: the slice goes only to `poll_read_uninit`, which
                // writes bytes into it and never de-initialises any.
                let unfilled = unsafe { buf.as_mut() };
                reader.poll_read_uninit(cx, unfilled)
            }
            None => Pin::new(inner).poll_read(cx, buf.initialize_unfilled()),
        };
        match read {
            Poll::Ready(Ok(n)) => {
                // SAFETY: `poll_read_uninit` initialised the first `n` bytes
                // of the unfilled part, or `initialize_unfilled` had
                // initialised all of it.
                unsafe { buf.advance(n) };
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> ::hyper::rt::Write for HyperIo<T>
where
    T: AsyncWrite + Unpin + 'static,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        writes_vectored(&self.inner)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_close(cx)
    }
}

impl<T> AsyncRead for HyperIo<T>
where
    T: ::hyper::rt::Read + Unpin,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut read_buf = ::hyper::rt::ReadBuf::new(buf);
        match Pin::new(&mut self.get_mut().inner).poll_read(cx, read_buf.unfilled()) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(read_buf.filled().len())),
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T> AsyncWrite for HyperIo<T>
where
    T: ::hyper::rt::Write + Unpin,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}
