//! [`StreamWriter`]: buffered writes that never wait, with a background
//! flush and back-pressure through [`drain`](StreamWriter::drain).
//!
//! # Protocol
//!
//! The writer's state sits behind one mutex, shared with at most one
//! *flusher* task; every socket write happens under that mutex, so bytes go
//! out in the order they were written.
//!
//! - `write` sends straight to the socket when nothing is buffered (the
//!   common case costs no task and no wake-up). Whatever the socket does not
//!   take is appended to the buffer, and if no flusher runs, one is spawned
//!   (`flushing` is set before the lock is released). Invariant: bytes in the
//!   buffer imply `flushing`.
//! - The flusher writes the buffer each time the socket turns writable. When
//!   the buffer is empty it performs the shutdown that `write_eof`, `close`
//!   or the writer's drop asked for, clears `flushing` and ends, all under the
//!   lock, so a `write` either sees it running or starts a new one.
//! - *Back-pressure* (asyncio's `pause_writing` / `resume_writing`): a write
//!   that leaves more than the high-water mark buffered sets `paused`; the
//!   flusher clears it once the buffer is down to the low-water mark and
//!   wakes the `drain` callers.
//! - The phase only moves forward: `Open` -> `Eof` (write side to shut) ->
//!   `Closing` (whole connection to shut) -> `Closed`; a write error jumps
//!   to `Closed` at once, dropping the buffer. `Closed` wakes `drain` and
//!   `wait_closed` callers.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};

use super::error::StoredError;
use super::transport::Transport;
use super::waiters::{Waiters, WakeList};
use crate::runtime::Handle;
use crate::util::lock_std as lock;

/// The default high-water mark of the write buffer, as in asyncio; the
/// low-water mark defaults to a quarter of it.
pub(super) const DEFAULT_HIGH_WATER: usize = 64 * 1024;

/// The writing side of a connection (asyncio's `StreamWriter` and the
/// part of its transport that buffers), from
/// [`open_connection`](super::open_connection) or handed to a
/// [`start_server`](super::start_server) handler.
///
/// [`write`](StreamWriter::write) never waits: bytes the socket cannot take
/// at once are buffered and sent in the background as the peer reads, even
/// if nobody awaits anything. [`drain`](StreamWriter::drain) is the
/// back-pressure: it waits while more than the high-water mark (64 KiB) is
/// buffered, until the buffer is down to the low-water mark (16 KiB).
///
/// All methods take `&self`; wrap the writer in an `Arc` to write from
/// several tasks.
///
/// Dropping the writer without [`close`](StreamWriter::close) sends what is
/// buffered, then shuts down the write side (the peer reads end of
/// stream); the socket itself closes once the reader is dropped too.
///
/// # Examples
///
/// ```
/// use evloop::net::{open_connection, start_server};
///
/// evloop::run(async {
///     let server = start_server(
///         |mut reader, writer| async move {
///             while let Ok(line) = reader.readline().await {
///                 if line.is_empty() {
///                     break;
///                 }
///                 writer.write(&line.to_ascii_uppercase());
///                 if writer.drain().await.is_err() {
///                     break;
///                 }
///             }
///         },
///         "127.0.0.1:0",
///     )
///     .await?;
///     let (mut reader, writer) = open_connection(server.local_addr()).await?;
///     writer.write(b"hello\n");
///     writer.drain().await?;
///     assert_eq!(reader.readline().await?, b"HELLO\n");
///     writer.close();
///     writer.wait_closed().await?;
///     Ok::<_, Box<dyn std::error::Error>>(())
/// })
/// .unwrap();
/// ```
pub struct StreamWriter {
    shared: Arc<WriterShared>,
}

/// What the writer and its flusher task share.
struct WriterShared {
    stream: Arc<dyn Transport>,
    /// The loop the flusher task runs on.
    handle: Handle,
    state: Mutex<WriteState>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Writes are accepted.
    Open,
    /// `write_eof` was called or the writer dropped: once the buffer is
    /// sent, the write side is shut down.
    Eof,
    /// `close` was called: once the buffer is sent, the connection is shut
    /// down.
    Closing,
    /// The connection is shut down, or a write failed (`error` says why).
    Closed,
}

#[derive(Debug)]
struct WriteState {
    /// Bytes waiting for the socket: `buffer[sent..]`.
    buffer: Vec<u8>,
    sent: usize,
    high_water: usize,
    low_water: usize,
    /// More than `high_water` was buffered and the buffer has not yet been
    /// drained down to `low_water`: `drain` waits.
    paused: bool,
    /// A flusher task runs (or is about to).
    flushing: bool,
    phase: Phase,
    /// The write side was shut down (`Phase::Eof` done).
    eof_sent: bool,
    /// Bytes were written after `close` or `write_eof` and thrown away.
    wrote_after_end: bool,
    error: Option<StoredError>,
    drain_waiters: Waiters,
    close_waiters: Waiters,
}

impl WriteState {
    fn pending(&self) -> &[u8] {
        &self.buffer[self.sent..]
    }

    fn pending_len(&self) -> usize {
        self.buffer.len() - self.sent
    }

    /// Forgets the first `n` pending bytes, which the socket took.
    fn consume(&mut self, n: usize) {
        self.sent += n;
        if self.sent == self.buffer.len() {
            self.buffer.clear();
            self.sent = 0;
            if self.buffer.capacity() > 4 * self.high_water.max(DEFAULT_HIGH_WATER) {
                self.buffer
                    .shrink_to(self.high_water.max(DEFAULT_HIGH_WATER));
            }
        } else if self.sent >= self.buffer.len() / 2 {
            self.buffer.drain(..self.sent);
            self.sent = 0;
        }
    }

    /// Pauses `drain` when too much is buffered, resumes it when enough was
    /// sent.
    fn update_pause(&mut self, wakers: &mut WakeList) {
        let pending = self.pending_len();
        if pending > self.high_water {
            self.paused = true;
        } else if self.paused && pending <= self.low_water {
            self.paused = false;
            self.drain_waiters.take_into(wakers);
        }
    }

    /// Ends the connection after a write error: the buffer is dropped.
    fn fail(&mut self, error: &io::Error, wakers: &mut WakeList) {
        self.error = Some(StoredError::new(error));
        self.buffer = Vec::new();
        self.sent = 0;
        self.paused = false;
        self.mark_closed(wakers);
    }

    fn mark_closed(&mut self, wakers: &mut WakeList) {
        self.phase = Phase::Closed;
        self.drain_waiters.take_into(wakers);
        self.close_waiters.take_into(wakers);
    }
}

impl StreamWriter {
    pub(crate) fn new(stream: Arc<dyn Transport>, handle: Handle) -> StreamWriter {
        StreamWriter {
            shared: Arc::new(WriterShared {
                stream,
                handle,
                state: Mutex::new(WriteState {
                    buffer: Vec::new(),
                    sent: 0,
                    high_water: DEFAULT_HIGH_WATER,
                    low_water: DEFAULT_HIGH_WATER / 4,
                    paused: false,
                    flushing: false,
                    phase: Phase::Open,
                    eof_sent: false,
                    wrote_after_end: false,
                    error: None,
                    drain_waiters: Waiters::default(),
                    close_waiters: Waiters::default(),
                }),
            }),
        }
    }

    /// Writes `data` without waiting (asyncio's `write`): what the socket
    /// cannot take now is buffered and sent in the background. Follow a
    /// series of writes with [`drain`](StreamWriter::drain) to keep the
    /// buffer bounded when the peer reads slowly.
    ///
    /// A write error closes the writer and is reported by `drain` and
    /// `wait_closed`. Bytes written after [`close`](StreamWriter::close) or
    /// [`write_eof`](StreamWriter::write_eof) are discarded, and `drain`
    /// reports [`io::ErrorKind::BrokenPipe`] from then on (asyncio raises
    /// at the write).
    ///
    /// # Examples
    ///
    /// See [`StreamWriter`].
    pub fn write(&self, data: &[u8]) {
        let mut state = self.shared.lock();
        if state.phase != Phase::Open {
            if state.error.is_none() {
                state.wrote_after_end = true;
            }
            return;
        }
        let mut wakers = WakeList::new();
        let mut rest = data;
        if !state.flushing {
            // Nothing is buffered: straight to the socket.
            while !rest.is_empty() {
                match self.shared.stream.try_write(rest) {
                    Ok(0) => {
                        state.fail(&io::ErrorKind::WriteZero.into(), &mut wakers);
                        drop(state);
                        wakers.wake_all();
                        return;
                    }
                    Ok(n) => rest = &rest[n..],
                    Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                    Err(error) => {
                        state.fail(&error, &mut wakers);
                        drop(state);
                        wakers.wake_all();
                        return;
                    }
                }
            }
        }
        if rest.is_empty() {
            return;
        }
        state.buffer.extend_from_slice(rest);
        state.update_pause(&mut wakers);
        let start_flusher = !state.flushing;
        state.flushing = true;
        drop(state);
        if start_flusher {
            self.shared.spawn_flusher();
        }
    }

    /// Writes each buffer of `data` in turn (asyncio's `writelines`).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{open_connection, start_server};
    ///
    /// evloop::run(async {
    ///     let server = start_server(
    ///         |_reader, writer| async move {
    ///             writer.writelines([&b"a\n"[..], b"b\n"]);
    ///         },
    ///         "127.0.0.1:0",
    ///     )
    ///     .await?;
    ///     let (mut reader, _writer) = open_connection(server.local_addr()).await?;
    ///     assert_eq!(reader.read_to_end().await?, b"a\nb\n");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn writelines<I>(&self, data: I)
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        for chunk in data {
            self.write(chunk.as_ref());
        }
    }

    /// Waits until it is appropriate to write again (asyncio's `drain`):
    /// returns at once unless more than the high-water mark is buffered,
    /// otherwise waits until the background flush brought the buffer down
    /// to the low-water mark.
    ///
    /// It does not wait for the buffer to be empty; to make it do so, set
    /// both marks to zero with
    /// [`set_write_buffer_limits`](StreamWriter::set_write_buffer_limits).
    ///
    /// Fails with the write error that closed the connection, with
    /// [`io::ErrorKind::ConnectionReset`] once the writer is closed, or with
    /// [`io::ErrorKind::BrokenPipe`] if bytes were written after `close` or
    /// `write_eof`.
    ///
    /// # Examples
    ///
    /// See [`StreamWriter`].
    pub async fn drain(&self) -> io::Result<()> {
        poll_fn(|cx| self.poll_drain(cx)).await
    }

    fn poll_drain(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut state = self.shared.lock();
        if let Some(error) = &state.error {
            return Poll::Ready(Err(error.to_io_error()));
        }
        if state.wrote_after_end {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "bytes written after close() or write_eof() were discarded",
            )));
        }
        if state.phase == Phase::Closed {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection lost: the writer is closed",
            )));
        }
        if !state.paused {
            return Poll::Ready(Ok(()));
        }
        state.drain_waiters.register(cx.waker());
        Poll::Pending
    }

    /// Closes the connection (asyncio's `close`): bytes already buffered are
    /// still sent, then both directions are shut down, so the reader of this
    /// connection sees end of stream too. Does not wait; see
    /// [`wait_closed`](StreamWriter::wait_closed).
    ///
    /// # Examples
    ///
    /// See [`StreamWriter`].
    pub fn close(&self) {
        let mut state = self.shared.lock();
        if matches!(state.phase, Phase::Closing | Phase::Closed) {
            return;
        }
        state.phase = Phase::Closing;
        if !state.flushing {
            let mut wakers = WakeList::new();
            self.shared.finish(&mut state, &mut wakers);
            drop(state);
            wakers.wake_all();
        }
    }

    /// Waits until the connection is closed after
    /// [`close`](StreamWriter::close) (asyncio's `wait_closed`): every
    /// buffered byte was handed to the OS and the socket shut down. Returns
    /// the write error if the connection failed instead.
    ///
    /// Like asyncio's, it does not close anything itself: without `close`
    /// (or a write error) it waits forever.
    ///
    /// # Examples
    ///
    /// See [`StreamWriter`].
    pub async fn wait_closed(&self) -> io::Result<()> {
        poll_fn(|cx| {
            let mut state = self.shared.lock();
            if state.phase == Phase::Closed {
                return Poll::Ready(match &state.error {
                    Some(error) => Err(error.to_io_error()),
                    None => Ok(()),
                });
            }
            state.close_waiters.register(cx.waker());
            Poll::Pending
        })
        .await
    }

    /// Whether [`close`](StreamWriter::close) was called or the connection
    /// failed (asyncio's `is_closing`).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{open_connection, start_server};
    ///
    /// evloop::run(async {
    ///     let server = start_server(|_reader, _writer| async {}, "127.0.0.1:0").await?;
    ///     let (_reader, writer) = open_connection(server.local_addr()).await?;
    ///     assert!(!writer.is_closing());
    ///     writer.close();
    ///     assert!(writer.is_closing());
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn is_closing(&self) -> bool {
        matches!(self.shared.lock().phase, Phase::Closing | Phase::Closed)
    }

    /// Shuts down the write side once the buffered bytes are sent (asyncio's
    /// `write_eof`): the peer reads end of stream, and this side can still
    /// read its answer. Later writes are discarded (see
    /// [`write`](StreamWriter::write)).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{open_connection, start_server};
    ///
    /// evloop::run(async {
    ///     // Counts the bytes until end of stream, then answers.
    ///     let server = start_server(
    ///         |mut reader, writer| async move {
    ///             let all = reader.read_to_end().await.unwrap();
    ///             writer.write(all.len().to_string().as_bytes());
    ///         },
    ///         "127.0.0.1:0",
    ///     )
    ///     .await?;
    ///     let (mut reader, writer) = open_connection(server.local_addr()).await?;
    ///     writer.write(b"twelve bytes");
    ///     writer.write_eof();
    ///     assert_eq!(reader.read_to_end().await?, b"12");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn write_eof(&self) {
        let mut state = self.shared.lock();
        if state.phase != Phase::Open {
            return;
        }
        state.phase = Phase::Eof;
        if !state.flushing {
            let mut wakers = WakeList::new();
            self.shared.finish(&mut state, &mut wakers);
            drop(state);
            wakers.wake_all();
        }
    }

    /// Whether [`write_eof`](StreamWriter::write_eof) is supported: always
    /// true for TCP (asyncio's `can_write_eof`).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{open_connection, start_server};
    ///
    /// evloop::run(async {
    ///     let server = start_server(|_reader, _writer| async {}, "127.0.0.1:0").await?;
    ///     let (_reader, writer) = open_connection(server.local_addr()).await?;
    ///     if writer.can_write_eof() {
    ///         writer.write_eof();
    ///     }
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn can_write_eof(&self) -> bool {
        true
    }

    /// How many bytes are buffered, not yet handed to the OS (asyncio's
    /// `transport.get_write_buffer_size()`).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{open_connection, start_server};
    ///
    /// evloop::run(async {
    ///     let server = start_server(|_reader, _writer| async {}, "127.0.0.1:0").await?;
    ///     let (_reader, writer) = open_connection(server.local_addr()).await?;
    ///     writer.write(b"small");
    ///     // A small write on an idle connection goes straight to the OS.
    ///     assert_eq!(writer.write_buffer_size(), 0);
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn write_buffer_size(&self) -> usize {
        self.shared.lock().pending_len()
    }

    /// Sets the high- and low-water marks of
    /// [`drain`](StreamWriter::drain) (asyncio's
    /// `transport.set_write_buffer_limits(high, low)`); the defaults are
    /// 64 KiB and 16 KiB. Fails with [`io::ErrorKind::InvalidInput`] if
    /// `low > high`.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{open_connection, start_server};
    ///
    /// evloop::run(async {
    ///     let server = start_server(|_reader, _writer| async {}, "127.0.0.1:0").await?;
    ///     let (_reader, writer) = open_connection(server.local_addr()).await?;
    ///     // drain() now waits until every byte is handed to the OS.
    ///     writer.set_write_buffer_limits(0, 0)?;
    ///     writer.write(b"hello");
    ///     writer.drain().await?;
    ///     assert_eq!(writer.write_buffer_size(), 0);
    ///     assert!(writer.set_write_buffer_limits(10, 20).is_err());
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn set_write_buffer_limits(&self, high: usize, low: usize) -> io::Result<()> {
        if low > high {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("the low-water mark ({low}) must not exceed the high-water mark ({high})"),
            ));
        }
        let mut state = self.shared.lock();
        state.high_water = high;
        state.low_water = low;
        let mut wakers = WakeList::new();
        state.update_pause(&mut wakers);
        drop(state);
        wakers.wake_all();
        Ok(())
    }

    /// The address of the peer (asyncio's `get_extra_info("peername")`);
    /// an [`io::ErrorKind::Unsupported`] error over a Unix socket or a pipe.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{open_connection, start_server};
    ///
    /// evloop::run(async {
    ///     let server = start_server(|_reader, _writer| async {}, "127.0.0.1:0").await?;
    ///     let (_reader, writer) = open_connection(server.local_addr()).await?;
    ///     assert_eq!(writer.peer_addr()?, server.local_addr());
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.shared.stream.peer_addr()
    }

    /// The local address of the connection (asyncio's
    /// `get_extra_info("sockname")`).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::net::{open_connection, start_server};
    ///
    /// evloop::run(async {
    ///     let server = start_server(|_reader, _writer| async {}, "127.0.0.1:0").await?;
    ///     let (_reader, writer) = open_connection(server.local_addr()).await?;
    ///     assert!(writer.local_addr()?.ip().is_loopback());
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.shared.stream.local_addr()
    }
}

impl WriterShared {
    fn lock(&self) -> MutexGuard<'_, WriteState> {
        lock(&self.state)
    }

    fn spawn_flusher(self: &Arc<WriterShared>) {
        let shared = self.clone();
        // Detached: it ends by itself once the buffer is empty.
        drop(
            self.handle
                .spawn(async move { poll_fn(|cx| shared.poll_flush(cx)).await }),
        );
    }

    /// The flusher task: writes the buffer as the socket allows, then
    /// performs the pending shutdown and ends.
    fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.lock();
        let mut wakers = WakeList::new();
        let outcome = loop {
            if state.phase == Phase::Closed {
                state.flushing = false;
                break Poll::Ready(());
            }
            if state.pending_len() == 0 {
                self.finish(&mut state, &mut wakers);
                state.flushing = false;
                break Poll::Ready(());
            }
            match self.stream.poll_write_shared(cx, state.pending()) {
                Poll::Ready(Ok(0)) => state.fail(&io::ErrorKind::WriteZero.into(), &mut wakers),
                Poll::Ready(Ok(n)) => {
                    state.consume(n);
                    state.update_pause(&mut wakers);
                }
                Poll::Ready(Err(error)) if error.kind() == io::ErrorKind::Interrupted => {}
                Poll::Ready(Err(error)) => state.fail(&error, &mut wakers),
                Poll::Pending => break Poll::Pending,
            }
        };
        drop(state);
        wakers.wake_all();
        outcome
    }

    /// With nothing left to send, performs the shutdown the phase asks for.
    fn finish(&self, state: &mut WriteState, wakers: &mut WakeList) {
        match state.phase {
            Phase::Open | Phase::Closed => {}
            Phase::Eof => {
                if !state.eof_sent {
                    state.eof_sent = true;
                    if let Err(error) = self.stream.shutdown(Shutdown::Write) {
                        state.fail(&error, wakers);
                    }
                }
            }
            Phase::Closing => {
                // The peer may be gone already; the connection ends either way.
                let _ = self.stream.shutdown(Shutdown::Both);
                state.mark_closed(wakers);
            }
        }
    }
}

impl Drop for StreamWriter {
    fn drop(&mut self) {
        let mut state = self.shared.lock();
        if state.phase != Phase::Open {
            return;
        }
        state.phase = Phase::Eof;
        if !state.flushing {
            state.eof_sent = true;
            // Nobody is left to hear about a failure.
            let _ = self.shared.stream.shutdown(Shutdown::Write);
        }
    }
}

impl fmt::Debug for StreamWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("StreamWriter")
            .field("peer_addr", &self.shared.stream.peer_addr().ok())
            .field("buffered", &state.pending_len())
            .field("phase", &state.phase)
            .finish()
    }
}
