//! The owned halves of a [`TcpStream`], for a reading task and a writing
//! task: [`OwnedReadHalf`], [`OwnedWriteHalf`].

use std::fmt;
use std::io;
use std::mem::MaybeUninit;
use std::net::{Shutdown, SocketAddr};
use std::sync::Arc;
use std::task::{Context, Poll};

use super::TcpStream;
use crate::net::socket::futures_io_for;

impl TcpStream {
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
        self.stream.socket.read(buf).await
    }

    /// Polls a read into memory that need not be initialised; see
    /// [`TcpStream::poll_read_uninit`].
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
    ///     let (server, _) = listener.accept().await?;
    ///     let (mut reader, _writer) = server.into_split();
    ///     client.write_all(b"half").await?;
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

futures_io_for!(read OwnedReadHalf, |half| half.stream.socket);

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
        self.stream.socket.write(buf).await
    }

    /// Writes all of `buf`.
    ///
    /// # Examples
    ///
    /// See [`TcpStream::into_split`].
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.stream.socket.write_all(buf).await
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

futures_io_for!(write OwnedWriteHalf, |half| half.stream.socket);
