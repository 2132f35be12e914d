//! The process-wide side of signals: one OS handler per signal, delivery
//! counters, and the wake-up pipe the reactors watch.
//!
//! # Protocol
//!
//! - *OS handler* (installed once per signal through `signal-hook-registry`,
//!   which chains any handler installed before it and keeps `errno`):
//!   increments the signal's delivery counter, then writes one byte to the
//!   wake-up pipe. Both are async-signal-safe: an atomic add and a
//!   non-blocking `write(2)` whose failure (a full pipe) is ignored, since a
//!   byte already in the pipe wakes the readers just as well.
//! - *Listener* ([`super::Signals`]): remembers, per signal, the counter
//!   value it has reported. Polling reports a signal whose counter moved;
//!   otherwise it stores its waker in [`Globals::waiters`], checks the
//!   counters again, then drains the pipe through its own registration
//!   with its loop's reactor (a duplicate of the pipe's read end).
//! - *Broadcast*: whoever drains bytes from the pipe takes every stored
//!   waker and wakes it. The counter is incremented before the byte is
//!   written, so a listener woken by a broadcast, or one that checks the
//!   counters after storing its waker, sees every delivery: a listener
//!   that was not polled when the signal arrived finds it at its next poll,
//!   and listeners on other loops are woken by the broadcast even when the
//!   byte was drained by this loop.

use std::collections::HashMap;
use std::io;
use std::os::raw::c_int;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::Waker;

use crate::util::lock_std as lock;
use crate::util::sys;

/// Signal numbers go from 1 to this (Linux's `SIGRTMAX`).
const MAX_SIGNAL: c_int = 64;

/// The process-wide signal state.
pub(super) struct Globals {
    /// Written by the OS handlers.
    sender: UnixStream,
    /// Read (through duplicates) by the listeners.
    receiver: UnixStream,
    /// Deliveries of each signal since the process started, by number.
    deliveries: [AtomicU64; MAX_SIGNAL as usize + 1],
    /// Which signals have their OS handler installed.
    installed: Mutex<[bool; MAX_SIGNAL as usize + 1]>,
    /// The wakers of waiting listeners, by listener id.
    waiters: Mutex<HashMap<u64, Waker>>,
}

static GLOBALS: OnceLock<Globals> = OnceLock::new();

impl Globals {
    /// The process's signal state, created on first use.
    pub(super) fn get() -> io::Result<&'static Globals> {
        if let Some(globals) = GLOBALS.get() {
            return Ok(globals);
        }
        let (sender, receiver) = UnixStream::pair()?;
        sender.set_nonblocking(true)?;
        receiver.set_nonblocking(true)?;
        // A thread that lost the race drops its pair: there is one pipe.
        Ok(GLOBALS.get_or_init(|| Globals {
            sender,
            receiver,
            deliveries: std::array::from_fn(|_| AtomicU64::new(0)),
            installed: Mutex::new([false; MAX_SIGNAL as usize + 1]),
            waiters: Mutex::new(HashMap::new()),
        }))
    }

    /// Makes sure `signal` is caught, checking that it can be.
    pub(super) fn install(&'static self, signal: c_int) -> io::Result<()> {
        check_signal(signal)?;
        let mut installed = lock(&self.installed);
        if installed[signal as usize] {
            return Ok(());
        }
        let deliveries = &self.deliveries[signal as usize];
        sys::register_signal_action(signal, deliveries, &self.sender).map_err(|error| {
            io::Error::new(
                error.kind(),
                format!("cannot catch {}: {error}", signal_name(signal)),
            )
        })?;
        installed[signal as usize] = true;
        Ok(())
    }

    /// How many times `signal` was delivered so far.
    pub(super) fn deliveries(&self, signal: c_int) -> u64 {
        self.deliveries[signal as usize].load(Ordering::SeqCst)
    }

    /// A duplicate of the pipe's read end, for one listener's registration.
    pub(super) fn receiver(&self) -> io::Result<UnixStream> {
        self.receiver.try_clone()
    }

    /// Stores the waker of listener `id` until the next broadcast.
    pub(super) fn wait(&self, id: u64, waker: &Waker) {
        let mut waiters = lock(&self.waiters);
        match waiters.get_mut(&id) {
            Some(stored) if stored.will_wake(waker) => {}
            Some(stored) => stored.clone_from(waker),
            None => {
                waiters.insert(id, waker.clone());
            }
        }
    }

    /// Forgets listener `id` (it was dropped).
    pub(super) fn forget(&self, id: u64) {
        lock(&self.waiters).remove(&id);
    }

    /// Wakes every waiting listener: some signal was delivered.
    pub(super) fn broadcast(&self) {
        let wakers: Vec<Waker> = lock(&self.waiters).drain().map(|(_, w)| w).collect();
        wakers.into_iter().for_each(Waker::wake);
    }
}

/// Checks that `signal` is a signal number that a handler can catch.
fn check_signal(signal: c_int) -> io::Result<()> {
    if !(1..=MAX_SIGNAL).contains(&signal) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{signal} is not a signal number (valid numbers are 1 to {MAX_SIGNAL})"),
        ));
    }
    if signal_hook_registry::FORBIDDEN.contains(&signal) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} cannot be handled: the OS does not let a process catch it, or catching it \
                 would hide a fault",
                signal_name(signal)
            ),
        ));
    }
    Ok(())
}

/// The usual name of `signal`, for messages.
pub(super) fn signal_name(signal: c_int) -> String {
    let name = match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGWINCH => "SIGWINCH",
        _ => return format!("signal {signal}"),
    };
    name.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uncatchable_and_invalid_signals_are_refused() {
        for signal in [libc::SIGKILL, libc::SIGSTOP, libc::SIGSEGV, 0, -1, 65, 1000] {
            let error = check_signal(signal).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput, "{signal}");
        }
        assert!(check_signal(libc::SIGTERM).is_ok());
        assert!(
            check_signal(libc::SIGKILL)
                .unwrap_err()
                .to_string()
                .contains("SIGKILL")
        );
    }
}
