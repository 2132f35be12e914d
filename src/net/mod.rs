//! Network IO on the loop's reactor: [`TcpListener`], [`TcpStream`] and
//! [`UdpSocket`].
//!
//! Sockets are non-blocking and registered with the reactor thread,
//! edge-triggered; a task waiting on a socket is woken when the socket
//! becomes ready in the direction it waits for. Every failure is an
//! [`std::io::Error`] carrying the operating system's reason (address in
//! use, connection refused, connection reset by peer...), never a panic.
//!
//! Creating a socket (`bind`, `connect`) must happen inside an event loop;
//! the socket may then be moved and used from any task of that loop.
//! Addresses are anything [`ToSocketAddrs`] accepts (the types of
//! [`std::net::ToSocketAddrs`]); a host name (rather than an IP literal) is
//! resolved by the system's resolver on the loop's blocking pool.
//!
//! [`TcpStream`] and its owned halves implement `futures-io`'s `AsyncRead`
//! and `AsyncWrite`, and the stream of incoming connections implements
//! `futures-core`'s `Stream`, so the ecosystem's IO utilities work on them.
//!
//! | asyncio                                          | evloop                                   |
//! |--------------------------------------------------|------------------------------------------|
//! | `loop.create_server(...)`, `sock_accept`          | `TcpListener::bind(addr)`, `accept()`    |
//! | `loop.sock_connect`, `sock_recv`, `sock_sendall`  | `TcpStream::connect`, `read`, `write_all` |
//! | `loop.create_datagram_endpoint(...)`              | `UdpSocket::bind`, `send_to`, `recv_from` |
//! | `asyncio.open_connection`, `asyncio.start_server` | [`open_connection`], [`start_server`]     |
//!
//! The streams of asyncio ([`StreamReader`] with `readline`, `readexactly`,
//! `readuntil`; [`StreamWriter`] with `write` and `drain`) are built on
//! [`TcpStream`]; see [`open_connection`] and [`start_server`].
//!
//! # Examples
//!
//! ```
//! use evloop::net::{TcpListener, TcpStream};
//!
//! evloop::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     let server = evloop::spawn(async move {
//!         let (mut socket, _) = listener.accept().await?;
//!         let mut buf = [0; 5];
//!         let n = socket.read(&mut buf).await?;
//!         socket.write_all(&buf[..n]).await
//!     });
//!     let mut client = TcpStream::connect(addr).await?;
//!     client.write_all(b"hello").await?;
//!     let mut echoed = [0; 5];
//!     let n = client.read(&mut echoed).await?;
//!     assert_eq!(&echoed[..n], b"hello");
//!     server.await.unwrap()
//! })
//! .unwrap();
//! ```

mod addr;
mod socket;
mod stream;
mod tcp;
mod udp;
mod uninit;
pub mod unix;

pub use addr::ToSocketAddrs;

pub use stream::{
    DEFAULT_LIMIT, IncompleteReadError, LimitOverrunError, Server, StreamError, StreamReader,
    StreamWriter, open_connection, open_connection_with_limit, open_unix_connection,
    open_unix_connection_with_limit, start_server, start_server_with_limit, start_unix_server,
    start_unix_server_with_limit,
};
pub use tcp::{Accept, Incoming, OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
pub use udp::UdpSocket;

pub(crate) use stream::{Transport, no_ip_address};
pub use unix::{UnixDatagram, UnixListener, UnixStream};
