//! Unix signals through the reactor: [`ctrl_c`], the [`Signals`] stream,
//! and (on [`Handle`](crate::Handle)) asyncio's `add_signal_handler` /
//! `remove_signal_handler`.
//!
//! Signals are process-wide: every listener of a signal, on any loop, sees
//! each delivery. A delivery that arrives after a listener was created is
//! kept until the listener looks, even if nobody was awaiting it then.
//! Like the OS, a listener coalesces deliveries it has not looked at yet:
//! two `SIGHUP`s in a row may be reported once.
//!
//! | asyncio                                   | evloop                                          |
//! |-------------------------------------------|-------------------------------------------------|
//! | `loop.add_signal_handler(sig, cb)`        | `Handle::add_signal_handler(sig, cb)`           |
//! | `loop.remove_signal_handler(sig)`         | `Handle::remove_signal_handler(sig)`            |
//! | awaiting a `KeyboardInterrupt`            | [`ctrl_c`]`().await`                            |
//! | (no equivalent)                           | [`Signals::new`]`(&[SIGTERM, SIGHUP])`, a stream |
//!
//! # Differences from asyncio
//!
//! - Once evloop has caught a signal, the process keeps catching it:
//!   removing the last handler or dropping the last [`Signals`] leaves the
//!   signal ignored rather than restoring its default action (asyncio
//!   restores `SIG_DFL`). The OS handler is shared by every loop and
//!   library of the process, so it is never uninstalled.
//! - Handlers may be added from any thread, not only the main one.
//!
//! # Examples
//!
//! ```
//! use evloop::signal::{SIGUSR1, Signals};
//!
//! evloop::run(async {
//!     let mut signals = Signals::new(&[SIGUSR1])?;
//!     // SAFETY: raise(3) has no preconditions; SIGUSR1 is caught from here on.
//!     unsafe { libc::raise(SIGUSR1) };
//!     assert_eq!(signals.recv().await, Some(SIGUSR1));
//!     Ok::<_, std::io::Error>(())
//! })
//! .unwrap();
//! ```

mod handler;
mod registry;

pub(crate) use handler::{add_handler, remove_handler};

use std::fmt;
use std::future::{Future, poll_fn};
use std::io::{self, Read};
use std::os::raw::c_int;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::reactor::{self, io::Direction, io::IoSource};
use registry::Globals;

pub use libc::{
    SIGALRM, SIGCHLD, SIGHUP, SIGINT, SIGKILL, SIGPIPE, SIGQUIT, SIGSTOP, SIGTERM, SIGUSR1,
    SIGUSR2, SIGWINCH,
};

/// A stream of the signals delivered to the process, among those it was
/// created for: a [`Stream`] of signal numbers that never ends while its
/// loop runs.
///
/// Creating it installs the OS handler of each signal (once per process),
/// so from then on those signals no longer have their default effect (a
/// `SIGTERM` no longer ends the process, for one).
///
/// # Examples
///
/// See the [module documentation](self).
pub struct Signals {
    globals: &'static Globals,
    /// Each signal with the delivery count last reported.
    seen: Vec<(c_int, u64)>,
    /// Where the next scan of `seen` starts, so no signal starves another.
    next: usize,
    /// The pipe's read end, registered with the loop's reactor.
    pipe: IoSource<mio::net::UnixStream>,
    id: u64,
}

static NEXT_LISTENER_ID: AtomicU64 = AtomicU64::new(0);

impl Signals {
    /// Listens for `signals` (numbers such as [`SIGTERM`], [`SIGHUP`]).
    ///
    /// Fails with [`io::ErrorKind::InvalidInput`] for a number that is not
    /// a signal or a signal that cannot be caught ([`SIGKILL`],
    /// [`SIGSTOP`], `SIGSEGV`...), or for an empty list; with an error
    /// outside an event loop.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::signal::{SIGKILL, Signals};
    ///
    /// evloop::run(async {
    ///     let error = Signals::new(&[SIGKILL]).unwrap_err();
    ///     assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    ///     assert!(Signals::new(&[0]).is_err());
    /// });
    /// ```
    pub fn new(signals: &[c_int]) -> io::Result<Signals> {
        let Some(reactor) = reactor::try_current() else {
            return Err(io::Error::other(
                "Signals::new must be called inside an evloop event loop",
            ));
        };
        Signals::with_reactor(&reactor, signals)
    }

    /// Listens for `signals` through the reactor of `reactor`.
    pub(crate) fn with_reactor(
        reactor: &reactor::Handle,
        signals: &[c_int],
    ) -> io::Result<Signals> {
        if signals.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "Signals::new needs at least one signal",
            ));
        }
        let globals = Globals::get()?;
        for &signal in signals {
            globals.install(signal)?;
        }
        let mut seen: Vec<(c_int, u64)> = Vec::with_capacity(signals.len());
        for &signal in signals {
            if !seen.iter().any(|&(s, _)| s == signal) {
                seen.push((signal, globals.deliveries(signal)));
            }
        }
        let pipe = IoSource::new(reactor, mio::net::UnixStream::from_std(globals.receiver()?))?;
        Ok(Signals {
            globals,
            seen,
            next: 0,
            pipe,
            id: NEXT_LISTENER_ID.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// Waits for the next signal and returns its number; `None` once the
    /// loop's reactor has shut down.
    ///
    /// # Examples
    ///
    /// See the [module documentation](self).
    pub async fn recv(&mut self) -> Option<c_int> {
        poll_fn(|cx| Pin::new(&mut *self).poll_next(cx)).await
    }

    /// A signal delivered since it was last reported, if any.
    fn take_delivered(&mut self) -> Option<c_int> {
        let count = self.seen.len();
        for offset in 0..count {
            let index = (self.next + offset) % count;
            let (signal, seen) = &mut self.seen[index];
            let now = self.globals.deliveries(*signal);
            if now != *seen {
                *seen = now;
                self.next = (index + 1) % count;
                return Some(*signal);
            }
        }
        None
    }

    /// Reads what is in the pipe: `Ok` when bytes were read, `WouldBlock`
    /// when it was empty.
    fn drain(pipe: &mio::net::UnixStream) -> io::Result<()> {
        let mut buf = [0u8; 64];
        let mut drained = false;
        loop {
            match (&*pipe).read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(_) => drained = true,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                Err(error) if error.kind() == io::ErrorKind::WouldBlock && drained => {
                    return Ok(());
                }
                Err(error) => return Err(error),
            }
        }
    }
}

impl Stream for Signals {
    type Item = c_int;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<c_int>> {
        let this = &mut *self;
        loop {
            if let Some(signal) = this.take_delivered() {
                return Poll::Ready(Some(signal));
            }
            this.globals.wait(this.id, cx.waker());
            if let Some(signal) = this.take_delivered() {
                return Poll::Ready(Some(signal));
            }
            match this.pipe.poll_io(cx, Direction::Read, Signals::drain) {
                Poll::Ready(Ok(())) => this.globals.broadcast(),
                // The reactor is gone: no delivery can be noticed any more.
                Poll::Ready(Err(_)) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

impl Drop for Signals {
    fn drop(&mut self) {
        self.globals.forget(self.id);
    }
}

impl fmt::Debug for Signals {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let signals: Vec<String> = self
            .seen
            .iter()
            .map(|&(s, _)| registry::signal_name(s))
            .collect();
        f.debug_struct("Signals")
            .field("signals", &signals)
            .finish()
    }
}

/// Waits for `SIGINT` (Ctrl-C in a terminal).
///
/// The listener starts when `ctrl_c` is called inside a loop (otherwise at
/// the first poll), so a Ctrl-C pressed between the call and the `.await`
/// is not lost. From the first call on, Ctrl-C no longer interrupts the
/// process by itself.
///
/// # Examples
///
/// ```
/// evloop::run(async {
///     let interrupted = evloop::signal::ctrl_c();
///     // SAFETY: raise(3) has no preconditions; SIGINT is caught from the call above on.
///     unsafe { libc::raise(libc::SIGINT) };
///     interrupted.await
/// })
/// .unwrap();
/// ```
pub fn ctrl_c() -> CtrlC {
    let signals = reactor::try_current().map(|reactor| Signals::with_reactor(&reactor, &[SIGINT]));
    CtrlC { signals }
}

/// The future of [`ctrl_c`]: resolves once `SIGINT` arrives, or to the
/// error of installing its handler.
///
/// # Examples
///
/// See [`ctrl_c`].
#[must_use = "futures do nothing unless awaited"]
pub struct CtrlC {
    /// `None` until created inside a loop.
    signals: Option<io::Result<Signals>>,
}

impl Future for CtrlC {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let signals = self.signals.get_or_insert_with(|| Signals::new(&[SIGINT]));
        let signals = match signals {
            Ok(signals) => signals,
            Err(error) => return Poll::Ready(Err(io::Error::new(error.kind(), error.to_string()))),
        };
        match Pin::new(signals).poll_next(cx) {
            Poll::Ready(Some(_)) => Poll::Ready(Ok(())),
            Poll::Ready(None) => Poll::Ready(Err(io::Error::other(
                "the event loop's reactor has shut down",
            ))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl fmt::Debug for CtrlC {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CtrlC").finish_non_exhaustive()
    }
}
