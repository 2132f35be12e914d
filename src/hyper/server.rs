//! Serving HTTP/1 connections: [`serve_connection`], [`http1_builder`],
//! and [`GracefulShutdown`] to let open connections finish.

use std::error::Error as StdError;
use std::future::{Future, poll_fn};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ::hyper::body::{Body, Incoming};
use ::hyper::rt::{Read, Write};
use ::hyper::server::conn::http1;
use ::hyper::service::HttpService;

use super::{HyperIo, HyperTimer};
use crate::net::TcpStream;
use crate::sync::Event;

/// hyper's HTTP/1 server builder with evloop's timer set, so that its
/// timeouts work: keep-alive is on and the request head must arrive within
/// hyper's `header_read_timeout` (30 s unless set otherwise).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let mut builder = evloop::hyper::http1_builder();
/// builder.header_read_timeout(Duration::from_secs(5)).keep_alive(true);
/// ```
pub fn http1_builder() -> http1::Builder {
    let mut builder = http1::Builder::new();
    builder.timer(HyperTimer::new());
    builder
}

/// Serves HTTP/1.1 on `stream` with `service` until the client closes the
/// connection, with [`http1_builder`]'s settings.
///
/// # Examples
///
/// ```no_run
/// use evloop::net::TcpListener;
/// use hyper::{Request, Response, body::Incoming, service::service_fn};
///
/// async fn hello(_: Request<Incoming>) -> Result<Response<String>, std::convert::Infallible> {
///     Ok(Response::new("Hello, world!".to_owned()))
/// }
///
/// async fn serve() -> std::io::Result<()> {
///     let listener = TcpListener::bind("127.0.0.1:3000").await?;
///     loop {
///         let (stream, _) = listener.accept().await?;
///         drop(evloop::spawn(evloop::hyper::serve_connection(stream, service_fn(hello))));
///     }
/// }
///
/// evloop::run(serve()).unwrap();
/// ```
pub async fn serve_connection<S, B>(stream: TcpStream, service: S) -> Result<(), ::hyper::Error>
where
    S: HttpService<Incoming, ResBody = B>,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    B: Body + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    http1_builder()
        .serve_connection(HyperIo::new(stream), service)
        .await
}

/// A connection that can be asked to finish gracefully: hyper's HTTP/1
/// connections, which then end after the response in progress, if any.
pub trait GracefulConnection: Future<Output = Result<(), Self::Error>> {
    /// The connection's error.
    type Error;

    /// Starts a graceful shutdown: no new request is read, the one in
    /// progress is answered, then the connection closes.
    fn graceful_shutdown(self: Pin<&mut Self>);
}

impl<I, S, B> GracefulConnection for http1::Connection<I, S>
where
    S: HttpService<Incoming, ResBody = B>,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    I: Read + Write + Unpin,
    B: Body + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Error = ::hyper::Error;

    fn graceful_shutdown(self: Pin<&mut Self>) {
        http1::Connection::graceful_shutdown(self)
    }
}

impl<I, S, B> GracefulConnection for http1::UpgradeableConnection<I, S>
where
    S: HttpService<Incoming, ResBody = B>,
    S::Error: Into<Box<dyn StdError + Send + Sync>>,
    I: Read + Write + Unpin + Send + 'static,
    B: Body + 'static,
    B::Error: Into<Box<dyn StdError + Send + Sync>>,
{
    type Error = ::hyper::Error;

    fn graceful_shutdown(self: Pin<&mut Self>) {
        http1::UpgradeableConnection::graceful_shutdown(self)
    }
}

/// Graceful shutdown of a server (hyper-util's `GracefulShutdown` for
/// evloop): [`watch`](GracefulShutdown::watch) each connection, and
/// [`shutdown`](GracefulShutdown::shutdown) asks them all to finish the
/// request in progress and close, then waits until they have.
///
/// # Examples
///
/// ```
/// use evloop::hyper::{GracefulShutdown, http1_builder, HyperIo};
/// use evloop::net::{TcpListener, TcpStream};
/// use hyper::service::service_fn;
///
/// evloop::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
///     let (stream, _) = listener.accept().await?;
///
///     let graceful = GracefulShutdown::new();
///     let service = service_fn(|_request| async {
///         Ok::<_, std::convert::Infallible>(hyper::Response::new("bye".to_owned()))
///     });
///     let connection = http1_builder().serve_connection(HyperIo::new(stream), service);
///     evloop::spawn(graceful.watch(connection));
///
///     // An idle keep-alive connection closes at once.
///     graceful.shutdown().await;
///     assert_eq!(client.read(&mut [0; 64]).await?, 0);
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
#[derive(Debug, Default)]
pub struct GracefulShutdown {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    /// Set once shutdown began.
    stopping: Event,
    /// How many watched connections have not ended.
    live: AtomicUsize,
    /// Set each time `live` drops to zero.
    idle: Event,
}

/// Counts one watched connection for as long as it lives.
struct Live(Arc<Shared>);

impl Drop for Live {
    fn drop(&mut self) {
        if self.0.live.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.set();
        }
    }
}

impl GracefulShutdown {
    /// A watcher with no connections yet.
    ///
    /// # Examples
    ///
    /// See [`GracefulShutdown`].
    pub fn new() -> GracefulShutdown {
        GracefulShutdown::default()
    }

    /// Wraps `connection` so that [`shutdown`](GracefulShutdown::shutdown)
    /// can end it gracefully and wait for it; spawn the returned future in
    /// place of the connection. A connection watched after shutdown began
    /// is asked to finish at once.
    ///
    /// # Examples
    ///
    /// See [`GracefulShutdown`].
    pub fn watch<C>(&self, connection: C) -> impl Future<Output = C::Output> + Send + use<C>
    where
        C: GracefulConnection + Send,
    {
        self.shared.live.fetch_add(1, Ordering::AcqRel);
        let live = Live(self.shared.clone());
        async move {
            let shared = &live.0;
            let mut connection = pin!(connection);
            let mut stopping = pin!(shared.stopping.wait());
            let mut asked = false;
            poll_fn(|cx| {
                if !asked && stopping.as_mut().poll(cx).is_ready() {
                    asked = true;
                    connection.as_mut().graceful_shutdown();
                }
                connection.as_mut().poll(cx)
            })
            .await
        }
    }

    /// Asks every watched connection to finish, and waits until all have
    /// ended.
    ///
    /// # Examples
    ///
    /// See [`GracefulShutdown`].
    pub async fn shutdown(self) {
        self.shared.stopping.set();
        loop {
            // Cleared before the count is read, so a connection ending in
            // between sets it again and the wait below returns.
            self.shared.idle.clear();
            if self.shared.live.load(Ordering::Acquire) == 0 {
                return;
            }
            self.shared.idle.wait().await;
        }
    }

    /// How many watched connections have not ended yet.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(evloop::hyper::GracefulShutdown::new().count(), 0);
    /// ```
    pub fn count(&self) -> usize {
        self.shared.live.load(Ordering::Acquire)
    }
}
