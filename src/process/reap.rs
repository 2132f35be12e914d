//! Waiting for a child to exit, and reaping it so that no zombie is left.
//!
//! On Linux 5.3 and later a child is watched through a *pidfd*
//! (`pidfd_open`), registered with the loop's reactor: it turns readable
//! when the child exits. Elsewhere, or when `pidfd_open` is refused, the
//! child is watched through `SIGCHLD` with a [`Signals`] listener. Either
//! way the watch is set up before the first `try_wait`, and a wait always
//! tries `waitpid` before it sleeps, so an exit that happened before
//! anyone waited is found at once.
//!
//! A child dropped before it was reaped is waited for by a task of its
//! loop. If that loop is closed (or closes first), the child goes to the
//! process-wide orphan list, which every later spawn and drop sweeps.

use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::process::ExitStatus;
use std::sync::Mutex;
use std::task::{Context, Poll};

use futures_core::Stream;

use crate::reactor::{self, fd::FdSource, io::Direction, io::IoSource};
use crate::signal::{SIGCHLD, Signals};
use crate::util::lock_std as lock;
use crate::util::sys;

/// How the exit of a child is noticed.
#[derive(Debug)]
pub(super) enum ExitWatch {
    /// Readable once the child has exited.
    Pidfd(IoSource<FdSource<OwnedFd>>),
    /// Each `SIGCHLD` is a reason to look again.
    Sigchld(Signals),
}

impl ExitWatch {
    /// Watches the child `pid` (not reaped yet) through the reactor.
    pub(super) fn new(reactor: &reactor::Handle, pid: u32) -> io::Result<ExitWatch> {
        match open_pidfd(pid) {
            Some(fd) => Ok(ExitWatch::Pidfd(IoSource::new(reactor, FdSource(fd))?)),
            None => ExitWatch::sigchld(reactor),
        }
    }

    /// The `SIGCHLD` watch, for systems without pidfds.
    pub(super) fn sigchld(reactor: &reactor::Handle) -> io::Result<ExitWatch> {
        Ok(ExitWatch::Sigchld(Signals::with_reactor(
            reactor,
            &[SIGCHLD],
        )?))
    }
}

/// A pidfd for `pid`, or `None` where there is none to be had: no pidfds
/// on this system, or a failure (`EPERM` from a seccomp filter, say); the
/// caller then falls back to `SIGCHLD`.
fn open_pidfd(pid: u32) -> Option<OwnedFd> {
    let pid = libc::pid_t::try_from(pid).ok()?;
    sys::pidfd_open(pid).ok().flatten()
}

/// Polls for the exit of `child`, reaping it. `Ok(status)` once reaped.
pub(super) fn poll_exit(
    child: &mut std::process::Child,
    watch: &mut ExitWatch,
    cx: &mut Context<'_>,
) -> Poll<io::Result<ExitStatus>> {
    match watch {
        ExitWatch::Pidfd(pidfd) => pidfd.poll_io(cx, Direction::Read, |_| {
            child
                .try_wait()?
                .ok_or_else(|| io::ErrorKind::WouldBlock.into())
        }),
        ExitWatch::Sigchld(signals) => loop {
            if let Some(status) = child.try_wait()? {
                return Poll::Ready(Ok(status));
            }
            match Pin::new(&mut *signals).poll_next(cx) {
                Poll::Ready(Some(_)) => continue,
                Poll::Ready(None) => {
                    return Poll::Ready(Err(io::Error::other(
                        "the event loop's reactor has shut down",
                    )));
                }
                Poll::Pending => return Poll::Pending,
            }
        },
    }
}

/// Children nobody waits for any more whose loop could not reap them.
static ORPHANS: Mutex<Vec<std::process::Child>> = Mutex::new(Vec::new());

/// Hands a child that has not exited yet to the orphan list.
pub(super) fn adopt(child: std::process::Child) {
    lock(&ORPHANS).push(child);
}

/// Reaps the orphans that have exited since the last sweep.
pub(super) fn sweep_orphans() {
    let mut orphans = lock(&ORPHANS);
    // An error means the child was reaped elsewhere: nothing left to do.
    orphans.retain_mut(|child| matches!(child.try_wait(), Ok(None)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::poll_fn;

    /// The fallback for systems without pidfds, exercised on every system.
    #[test]
    fn the_sigchld_watch_reaps_a_child_that_exits_before_and_after_the_wait() {
        crate::run(async {
            let reactor = reactor::current();
            for script in ["exit 4", "sleep 0.05; exit 5"] {
                let mut child = std::process::Command::new("/bin/sh")
                    .args(["-c", script])
                    .spawn()
                    .unwrap();
                let mut watch = ExitWatch::sigchld(&reactor).unwrap();
                let status = poll_fn(|cx| poll_exit(&mut child, &mut watch, cx))
                    .await
                    .unwrap();
                assert!(matches!(status.code(), Some(4 | 5)));
            }
        });
    }

    #[test]
    fn orphans_are_reaped_by_a_later_sweep() {
        let child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        adopt(child);
        // `true` exits promptly; sweep until the orphan list lets it go.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            sweep_orphans();
            if !lock(&ORPHANS).iter().any(|c| c.id() == pid) {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "orphan {pid} never reaped"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    }
}
