//! Reading from a socket straight into uninitialised memory.
//!
//! This file holds the one `unsafe` of `net`: an IO read into memory that
//! was never initialised. A reader such as hyper hands over a buffer of
//! `MaybeUninit<u8>`; filling it through a `&mut [u8]` would mean zeroing
//! it first on every read, for nothing, since the kernel writes the bytes
//! it reports and reads none of them.

use std::io;
use std::mem::MaybeUninit;

/// Receives into `buf` without initialising it first; on `Ok(n)` the first
/// `n` elements of `buf` are initialised (the kernel wrote them).
#[cfg(unix)]
pub(crate) fn recv_uninit(
    socket: &impl std::os::fd::AsRawFd,
    buf: &mut [MaybeUninit<u8>],
) -> io::Result<usize> {
    // SAFETY: the pointer and length describe `buf`, which is valid for
    // writes of `buf.len()` bytes for the whole call and is not read by
    // `recv`; `recv` writes at most that many bytes and returns how many it
    // wrote, or -1 with the reason in `errno`.
    let received = unsafe { libc::recv(socket.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
    if received < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(received as usize)
}

/// Receives into `buf`; where the socket's descriptor is out of reach,
/// through a zeroed scratch buffer and a copy.
#[cfg(not(unix))]
pub(crate) fn recv_uninit(
    mut socket: impl io::Read,
    buf: &mut [MaybeUninit<u8>],
) -> io::Result<usize> {
    let mut scratch = vec![0; buf.len()];
    let received = socket.read(&mut scratch)?;
    for (slot, byte) in buf.iter_mut().zip(&scratch[..received]) {
        slot.write(*byte);
    }
    Ok(received)
}
