//! The OS calls std does not wrap: sending a signal (`kill`), opening a
//! pidfd (`pidfd_open`), installing a signal handler, and reading the
//! monotonic clock as a plain number (`monotonic_nanos`).
//!
//! This file holds their `unsafe`, because each is a foreign call (or, for
//! the handler, a promise that the code run in a signal handler is
//! async-signal-safe). Each function here is safe to call: it checks what
//! the call needs and turns the OS's failure into an [`io::Error`], so
//! `signal/` and `process/` keep no `unsafe` of their own.

use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::os::raw::c_int;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};

/// Sends `signal` to the process `pid` (`kill(2)`); the OS's error (no
/// such process, not a signal number, not permitted) as an [`io::Error`].
pub(crate) fn kill(pid: libc::pid_t, signal: c_int) -> io::Result<()> {
    // SAFETY: kill(2) takes two integers and touches no memory of ours.
    if unsafe { libc::kill(pid, signal) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The monotonic clock (`CLOCK_MONOTONIC`, the clock `Instant` reads) in
/// nanoseconds, never zero. `Instant` hides its value, and getting a number
/// out of it means subtracting a reference `Instant`, which costs more
/// instructions than the clock read itself. Workers read it when they park
/// and wake, and twice per poll when polls are timed precisely
/// (`task::info`).
#[inline]
pub(crate) fn monotonic_nanos() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through the pointer, which
    // points to a live, writable timespec of ours. Its only failure is an
    // unknown clock, and CLOCK_MONOTONIC always exists; `now` is
    // initialised either way.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    let nanos = (now.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(now.tv_nsec as u64);
    nanos.max(1)
}

/// A pidfd for the process `pid` (`pidfd_open(2)`): a descriptor that turns
/// readable when the process exits. `Ok(None)` where the system has no
/// pidfds (not Linux, or Linux before 5.3).
#[cfg(any(target_os = "linux", target_os = "android"))]
pub(crate) fn pidfd_open(pid: libc::pid_t) -> io::Result<Option<OwnedFd>> {
    use std::os::fd::FromRawFd;
    // SAFETY: pidfd_open takes a pid and flags and returns a new file
    // descriptor or -1; it touches no memory of ours.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        let error = io::Error::last_os_error();
        return match error.raw_os_error() {
            Some(libc::ENOSYS) => Ok(None),
            _ => Err(error),
        };
    }
    let fd = c_int::try_from(fd).map_err(|_| io::Error::other("pidfd out of range"))?;
    // SAFETY: `fd` was just returned by pidfd_open, is open, and nothing
    // else owns it (pidfd_open sets close-on-exec, so no child inherits it).
    Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// A pidfd for the process `pid`: this system has none.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
pub(crate) fn pidfd_open(_pid: libc::pid_t) -> io::Result<Option<OwnedFd>> {
    Ok(None)
}

/// Installs a process-wide handler for `signal` (through
/// `signal-hook-registry`, which chains any handler installed before it
/// and keeps `errno`) that adds one to `deliveries`, then writes the byte
/// `signal` to `wake_up` and ignores the outcome. `wake_up` should be
/// non-blocking: a full pipe then drops the byte instead of blocking the
/// interrupted thread.
///
/// The handler stays installed for the rest of the process.
pub(crate) fn register_signal_action(
    signal: c_int,
    deliveries: &'static AtomicU64,
    wake_up: &'static UnixStream,
) -> io::Result<()> {
    let byte = signal as u8;
    let action = move || {
        deliveries.fetch_add(1, Ordering::SeqCst);
        let mut pipe = wake_up;
        let _ = pipe.write(&[byte]);
    };
    // SAFETY: `action` is async-signal-safe: it performs one lock-free
    // atomic add and one write(2) on a socket that lives for the rest of
    // the process (both are `'static`), allocates nothing, takes no lock
    // and cannot panic (the write's error is discarded).
    unsafe { signal_hook_registry::register(signal, action) }.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kill_with_signal_zero_checks_that_the_process_exists() {
        let own = libc::pid_t::try_from(std::process::id()).unwrap();
        kill(own, 0).unwrap();
        let error = kill(own, -5).unwrap_err();
        assert_eq!(error.raw_os_error(), Some(libc::EINVAL));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn pidfd_open_of_a_missing_process_is_an_error() {
        // pid_max is at most 2^22, so this pid names no process.
        match pidfd_open(i32::MAX) {
            Ok(None) => {} // a kernel without pidfds
            Ok(Some(_)) => panic!("a pidfd for a process that cannot exist"),
            Err(error) => assert_eq!(error.raw_os_error(), Some(libc::ESRCH)),
        }
    }
}
