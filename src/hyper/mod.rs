//! hyper 1.x on evloop (feature `hyper`): what hyper-util's `rt::tokio`
//! and `server` give tokio users.
//!
//! - [`HyperIo`]: evloop's [`TcpStream`](crate::net::TcpStream) (and any
//!   futures-io type) as hyper's `Read` / `Write`, reading straight into
//!   hyper's uninitialised buffer; and hyper's IO as futures-io.
//! - [`HyperExecutor`]: hyper's `Executor`, spawning onto a loop.
//! - [`HyperTimer`]: hyper's `Timer` on evloop's timers (header-read and
//!   keep-alive timeouts).
//! - [`serve_connection`] and [`http1_builder`]: an HTTP/1.1 server
//!   connection in one call; [`GracefulShutdown`] to let open connections
//!   finish before the server stops.
//!
//! | hyper-util (tokio)              | evloop                      |
//! |---------------------------------|-----------------------------|
//! | `rt::TokioIo`                   | [`HyperIo`]                 |
//! | `rt::TokioExecutor`             | [`HyperExecutor`]           |
//! | `rt::TokioTimer`                | [`HyperTimer`]              |
//! | `server::graceful::GracefulShutdown` | [`GracefulShutdown`]   |
//!
//! # Examples
//!
//! A hello-world server, answering one request here:
//!
//! ```
//! use evloop::net::{TcpListener, TcpStream};
//! use hyper::{Request, Response, body::Incoming, service::service_fn};
//!
//! async fn hello(_: Request<Incoming>) -> Result<Response<String>, std::convert::Infallible> {
//!     Ok(Response::new("Hello, world!".to_owned()))
//! }
//!
//! evloop::run(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let addr = listener.local_addr()?;
//!     evloop::spawn(async move {
//!         let (stream, _) = listener.accept().await?;
//!         evloop::hyper::serve_connection(stream, service_fn(hello)).await.map_err(std::io::Error::other)
//!     });
//!
//!     let mut client = TcpStream::connect(addr).await?;
//!     client.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await?;
//!     let mut response = Vec::new();
//!     let mut buf = [0; 1024];
//!     while let n @ 1.. = client.read(&mut buf).await? {
//!         response.extend_from_slice(&buf[..n]);
//!     }
//!     assert!(response.ends_with(b"Hello, world!"));
//!     Ok::<_, std::io::Error>(())
//! })
//! .unwrap();
//! ```

mod io;
mod rt;
mod server;

pub use io::HyperIo;
pub use rt::{HyperExecutor, HyperTimer};
pub use server::{GracefulConnection, GracefulShutdown, http1_builder, serve_connection};
