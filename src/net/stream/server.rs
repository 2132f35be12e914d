//! [`start_server`] and [`Server`]: a listener whose connections are each
//! served by a handler task.
//!
//! # Protocol
//!
//! One *accept loop* task per server takes connections and spawns one
//! handler task per connection. The server's state sits behind one mutex:
//!
//! - `listener` is `Some` while serving. [`Server::close`] takes it out and
//!   drops it, which wakes the accept loop's pending accept with an error;
//!   the accept loop then sees `None` and ends, dropping the last reference
//!   to the listening socket, and clears `accepting`.
//! - `active` counts the handler tasks; each holds a guard that decrements
//!   it when the task ends, panicked or not.
//! - The server is *fully closed* when `listener` is `None`, `accepting` is
//!   false and `active` is zero; whoever makes that true wakes the waiters of
//!   `wait_closed`.

use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::Poll;
use std::time::Duration;

use super::waiters::{Waiters, WakeList};
use super::{DEFAULT_LIMIT, Listener, StreamReader, StreamWriter, check_limit, streams};
use crate::net::{TcpListener, ToSocketAddrs};
use crate::runtime::Handle;
use crate::util::lock_std as lock;

/// How long the accept loop pauses after an accept error that is not about
/// one connection (out of file descriptors, ...), as asyncio does.
const ACCEPT_RETRY_DELAY: Duration = Duration::from_secs(1);

/// Starts a TCP server on `addr` that serves each connection with
/// `handler(reader, writer)` in a task of its own (asyncio's
/// `start_server`). Port 0 picks a free port; see
/// [`Server::local_addr`].
///
/// The server serves as soon as this returns, until [`Server::close`]. A
/// handler that panics ends its own task only (its connection is closed
/// as its reader and writer are dropped); the server keeps serving.
///
/// # Panics
///
/// Panics outside an event loop.
///
/// # Examples
///
/// ```
/// use evloop::net::{open_connection, start_server};
///
/// evloop::run(async {
///     // An echo server.
///     let server = start_server(
///         |mut reader, writer| async move {
///             while let Ok(data) = reader.read(4096).await {
///                 if data.is_empty() {
///                     break;
///                 }
///                 writer.write(&data);
///                 if writer.drain().await.is_err() {
///                     break;
///                 }
///             }
///         },
///         "127.0.0.1:0",
///     )
///     .await?;
///     let (mut reader, writer) = open_connection(server.local_addr()).await?;
///     writer.write(b"echo?");
///     assert_eq!(reader.readexactly(5).await?, b"echo?");
///     server.close();
///     writer.close();
///     server.wait_closed().await;
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })
/// .unwrap();
/// ```
pub async fn start_server<H, F>(handler: H, addr: impl ToSocketAddrs) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    start_server_with_limit(handler, addr, DEFAULT_LIMIT).await
}

/// [`start_server`] with the readers' limit set to `limit` bytes (asyncio's
/// `start_server(..., limit=limit)`); see [`StreamReader`]. A limit of 0 is
/// an [`io::ErrorKind::InvalidInput`] error.
///
/// # Panics
///
/// Panics outside an event loop.
///
/// # Examples
///
/// ```
/// use evloop::net::{open_connection, start_server_with_limit};
///
/// evloop::run(async {
///     let server = start_server_with_limit(
///         |mut reader, writer| async move {
///             let answer: &[u8] = match reader.readline().await {
///                 Ok(_) => b"ok\n",
///                 Err(_) => b"line too long\n",
///             };
///             writer.write(answer);
///         },
///         "127.0.0.1:0",
///         16,
///     )
///     .await?;
///     let (mut reader, writer) = open_connection(server.local_addr()).await?;
///     writer.write(&[b'x'; 100]);
///     writer.write(b"\n");
///     assert_eq!(reader.readline().await?, b"line too long\n");
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })
/// .unwrap();
/// ```
pub async fn start_server_with_limit<H, F>(
    handler: H,
    addr: impl ToSocketAddrs,
    limit: usize,
) -> io::Result<Server>
where
    H: Fn(StreamReader, StreamWriter) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    check_limit(limit)?;
    let handle = Handle::current();
    let listener = TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    Ok(serve(
        Box::new(listener),
        local_addr,
        handler,
        limit,
        handle,
    ))
}

/// Serves the connections of `listener` with `handler`, each in a task of
/// the loop of `handle`.
pub(super) fn serve<A, H, F>(
    listener: Box<dyn Listener>,
    local_addr: A,
    handler: H,
    limit: usize,
    handle: Handle,
) -> Server<A>
where
    H: Fn(StreamReader, StreamWriter) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let shared = Arc::new(ServerShared {
        state: Mutex::new(ServerState {
            listener: Some(listener),
            accepting: true,
            active: 0,
            waiters: Waiters::default(),
        }),
    });
    let accept_loop = accept_loop(shared.clone(), Arc::new(handler), limit, handle.clone());
    // Detached: it ends when the server is closed.
    drop(handle.spawn(accept_loop));
    Server { shared, local_addr }
}

/// A running server from [`start_server`] (asyncio's `Server`), or from
/// [`start_unix_server`](super::start_unix_server) with `A` the Unix
/// socket address.
///
/// Cheap to clone: clones control the same server. Dropping every clone
/// does not stop it (asyncio's loop keeps serving a server nobody refers
/// to as well); it serves until [`close`](Server::close) or until the loop
/// closes.
///
/// # Examples
///
/// See [`start_server`].
#[derive(Clone)]
pub struct Server<A = SocketAddr> {
    shared: Arc<ServerShared>,
    local_addr: A,
}

struct ServerShared {
    state: Mutex<ServerState>,
}

struct ServerState {
    /// The listening socket; `None` once the server is closed.
    listener: Option<Box<dyn Listener>>,
    /// The accept loop task still runs (and may hold the socket open).
    accepting: bool,
    /// Handler tasks that have not ended.
    active: usize,
    /// `wait_closed` callers, and the accept loop while it pauses.
    waiters: Waiters,
}

impl ServerState {
    fn fully_closed(&self) -> bool {
        self.listener.is_none() && !self.accepting && self.active == 0
    }
}

impl<A: Clone> Server<A> {
    /// The address the server listens on (asyncio's `server.sockets`).
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let server = evloop::start_server(|_reader, _writer| async {}, "127.0.0.1:0").await?;
    ///     assert!(server.local_addr().ip().is_loopback());
    ///     assert_ne!(server.local_addr().port(), 0);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn local_addr(&self) -> A {
        self.local_addr.clone()
    }
}

impl<A> Server<A> {
    /// Whether the server accepts new connections, i.e. was not closed
    /// (asyncio's `is_serving`).
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let server = evloop::start_server(|_reader, _writer| async {}, "127.0.0.1:0").await?;
    ///     assert!(server.is_serving());
    ///     server.close();
    ///     assert!(!server.is_serving());
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn is_serving(&self) -> bool {
        self.shared.lock().listener.is_some()
    }

    /// Stops accepting connections (asyncio's `close`): no connection is
    /// handed to the handler from now on, and the listening socket is
    /// closed, so new connections are refused (the accept loop lets go of
    /// the socket right after; a connection the OS accepted in between is
    /// reset, never served). Connections already accepted are left to their
    /// handlers. Does not wait; see [`wait_closed`](Server::wait_closed).
    ///
    /// # Examples
    ///
    /// See [`start_server`].
    pub fn close(&self) {
        let mut state = self.shared.lock();
        let listener = state.listener.take();
        let mut wakers = WakeList::new();
        state.waiters.take_into(&mut wakers);
        drop(state);
        // Dropping it wakes the accept loop, which lets go of the socket.
        drop(listener);
        wakers.wake_all();
    }

    /// Waits until the server is closed and every connection's handler has
    /// finished (asyncio 3.12's `wait_closed`). It does not close the server
    /// itself: before [`close`](Server::close) it waits for it. Once it
    /// returns, the listening socket is closed.
    ///
    /// # Examples
    ///
    /// See [`start_server`].
    pub async fn wait_closed(&self) {
        poll_fn(|cx| {
            let mut state = self.shared.lock();
            if state.fully_closed() {
                return Poll::Ready(());
            }
            state.waiters.register(cx.waker());
            Poll::Pending
        })
        .await
    }

    /// Serves until the server is closed (asyncio's `serve_forever`), then
    /// waits as [`wait_closed`](Server::wait_closed) does.
    ///
    /// Dropping this future after its first poll and before it completes
    /// closes the server, as cancelling asyncio's `serve_forever` does
    /// (without waiting for the handlers). Unlike asyncio, calling it on a closed server is not an
    /// error: it returns once the handlers are done.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{open_connection, start_server};
    ///
    /// evloop::run(async {
    ///     let server = start_server(
    ///         |_reader, writer| async move { writer.write(b"hi\n") },
    ///         "127.0.0.1:0",
    ///     )
    ///     .await?;
    ///     let serving = evloop::spawn({
    ///         let server = server.clone();
    ///         async move { server.serve_forever().await }
    ///     });
    ///     let (mut reader, _writer) = open_connection(server.local_addr()).await?;
    ///     assert_eq!(reader.readline().await?, b"hi\n");
    ///     server.close();
    ///     serving.await.unwrap();
    ///     Ok::<_, Box<dyn std::error::Error>>(())
    /// })
    /// .unwrap();
    /// ```
    pub async fn serve_forever(&self) {
        struct CloseOnCancel<'a, A>(Option<&'a Server<A>>);
        impl<A> Drop for CloseOnCancel<'_, A> {
            fn drop(&mut self) {
                if let Some(server) = self.0 {
                    server.close();
                }
            }
        }
        let mut guard = CloseOnCancel(Some(self));
        self.wait_closed().await;
        guard.0 = None;
    }
}

impl ServerShared {
    fn lock(&self) -> MutexGuard<'_, ServerState> {
        lock(&self.state)
    }

    fn is_closed(&self) -> bool {
        self.lock().listener.is_none()
    }

    /// Counts a new connection; `None` if the server was closed meanwhile
    /// (the connection is then dropped unserved).
    fn start_connection(self: &Arc<ServerShared>) -> Option<ConnectionGuard> {
        let mut state = self.lock();
        state.listener.as_ref()?;
        state.active += 1;
        Some(ConnectionGuard {
            shared: self.clone(),
        })
    }

    fn accept_loop_ended(&self) {
        let mut state = self.lock();
        state.accepting = false;
        self.wake_if_fully_closed(state);
    }

    fn wake_if_fully_closed(&self, mut state: MutexGuard<'_, ServerState>) {
        if state.fully_closed() {
            let mut wakers = WakeList::new();
            state.waiters.take_into(&mut wakers);
            drop(state);
            wakers.wake_all();
        }
    }
}

/// Keeps a connection counted in `active` for as long as its handler task
/// lives (it is dropped when the task ends, returns or panics).
struct ConnectionGuard {
    shared: Arc<ServerShared>,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        state.active -= 1;
        self.shared.wake_if_fully_closed(state);
    }
}

/// Accepts connections until the server is closed, spawning a handler task
/// for each.
async fn accept_loop<H, F>(shared: Arc<ServerShared>, handler: Arc<H>, limit: usize, handle: Handle)
where
    H: Fn(StreamReader, StreamWriter) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    loop {
        let accept = match &shared.lock().listener {
            Some(listener) => listener.accept_transport(),
            None => break,
        };
        match accept.await {
            Ok(stream) => {
                let Some(guard) = shared.start_connection() else {
                    break;
                };
                let (reader, writer) = streams(stream, limit, handle.clone());
                let handler = handler.clone();
                // The handler is called inside the task, so that a panic in
                // it, even before its first await, stays in that task.
                drop(handle.spawn(async move {
                    let _guard = guard;
                    handler(reader, writer).await;
                }));
            }
            Err(_) if shared.is_closed() => break,
            // About one connection, which the peer gave up: take the next.
            Err(error)
                if matches!(
                    error.kind(),
                    io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::Interrupted
                ) => {}
            Err(_) => pause_unless_closed(&shared, ACCEPT_RETRY_DELAY).await,
        }
    }
    shared.accept_loop_ended();
}

/// Waits for `delay`, or less if the server is closed meanwhile.
async fn pause_unless_closed(shared: &ServerShared, delay: Duration) {
    let mut timer = pin!(crate::time::sleep(delay));
    poll_fn(|cx| {
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        let mut state = shared.lock();
        if state.listener.is_none() {
            return Poll::Ready(());
        }
        state.waiters.register(cx.waker());
        Poll::Pending
    })
    .await
}

impl<A: fmt::Debug> fmt::Debug for Server<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Server")
            .field("local_addr", &self.local_addr)
            .field("serving", &state.listener.is_some())
            .field("active_connections", &state.active)
            .finish()
    }
}
