//! A child's standard streams as transports, so that they are handed out as
//! the same [`StreamReader`] / [`StreamWriter`] as a socket.

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use mio::unix::pipe::{Receiver, Sender};

use crate::net::{StreamReader, StreamWriter, Transport, no_ip_address};
use crate::reactor::{self, io::Direction, io::IoSource};
use crate::runtime::Handle;
use crate::util::lock_std as lock;

/// The child's stdin as a writer. Shutting it down closes the pipe, which
/// is how the child reads end of file.
pub(super) fn writer(
    handle: &Handle,
    reactor: &reactor::Handle,
    pipe: std::process::ChildStdin,
) -> io::Result<StreamWriter> {
    let sender = Sender::from(pipe);
    sender.set_nonblocking(true)?;
    let io = IoSource::new(reactor, sender)?;
    let transport = PipeWriter {
        io: Mutex::new(Some(io)),
    };
    Ok(StreamWriter::new(Arc::new(transport), handle.clone()))
}

/// The child's stdout or stderr as a reader.
pub(super) fn reader(reactor: &reactor::Handle, receiver: Receiver) -> io::Result<StreamReader> {
    receiver.set_nonblocking(true)?;
    let transport = PipeReader {
        io: IoSource::new(reactor, receiver)?,
    };
    Ok(StreamReader::new(
        Arc::new(transport),
        crate::net::DEFAULT_LIMIT,
    ))
}

/// The write end of a pipe; `None` once closed.
struct PipeWriter {
    io: Mutex<Option<IoSource<Sender>>>,
}

impl PipeWriter {
    fn with_open<R>(&self, op: impl FnOnce(&IoSource<Sender>) -> io::Result<R>) -> io::Result<R> {
        match &*lock(&self.io) {
            Some(io) => op(io),
            None => Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the child's stdin was closed",
            )),
        }
    }
}

impl Transport for PipeWriter {
    fn poll_read_shared(&self, _cx: &mut Context<'_>, _buf: &mut [u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(write_only()))
    }

    fn try_write(&self, buf: &[u8]) -> io::Result<usize> {
        self.with_open(|io| {
            io.registration()
                .try_io(Direction::Write, || io.source().write(buf))
        })
    }

    fn poll_write_shared(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match &*lock(&self.io) {
            Some(io) => io.poll_io(cx, Direction::Write, |mut pipe| pipe.write(buf)),
            None => Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
        }
    }

    fn shutdown(&self, _how: Shutdown) -> io::Result<()> {
        // Dropping the source deregisters it and closes the descriptor.
        let closed = lock(&self.io).take();
        drop(closed);
        Ok(())
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        Err(no_ip_address("a pipe"))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Err(no_ip_address("a pipe"))
    }
}

impl fmt::Debug for PipeWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PipeWriter")
            .field("open", &lock(&self.io).is_some())
            .finish()
    }
}

fn write_only() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "the child's stdin is write-only",
    )
}

fn read_only() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "the child's output is read-only",
    )
}

/// The read end of a pipe.
#[derive(Debug)]
struct PipeReader {
    io: IoSource<Receiver>,
}

impl Transport for PipeReader {
    fn poll_read_shared(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Direction::Read, |mut pipe| pipe.read(buf))
    }

    fn try_write(&self, _buf: &[u8]) -> io::Result<usize> {
        Err(read_only())
    }

    fn poll_write_shared(&self, _cx: &mut Context<'_>, _buf: &[u8]) -> Poll<io::Result<usize>> {
        Poll::Ready(Err(read_only()))
    }

    fn shutdown(&self, _how: Shutdown) -> io::Result<()> {
        Ok(())
    }

    fn peer_addr(&self) -> io::Result<SocketAddr> {
        Err(no_ip_address("a pipe"))
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        Err(no_ip_address("a pipe"))
    }
}
