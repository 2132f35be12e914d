//! IO readiness (`ScheduledIo`): a task waiting on a source against the
//! poller's holder recording its events, a task clearing readiness after
//! `WouldBlock` against a new edge, and the source's close against its
//! waiters.
//!
//! Sources are edge-triggered: an event that is lost is never reported
//! again, so a lost event or a lost waker leaves the task waiting for good,
//! which loom reports as a deadlock.
#![cfg(loom)]

use std::future::poll_fn;
use std::io;
use std::task::Poll;

use evloop::loom_hooks::{Direction, IoReadiness};
use evloop_loom_tests::{Counter, CountingWaker, model};
use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::thread;

/// A task first polls with one waker, then waits with another (as a future
/// moved to another task does), while the poller's holder records the
/// source becoming readable: the waker the task waits with is woken, or the
/// task sees the readiness when it looks again.
#[test]
fn a_readiness_event_racing_a_waiting_task_wakes_its_latest_waker() {
    model(|| {
        let io = Arc::new(IoReadiness::new());
        let holder = thread::spawn({
            let io = io.clone();
            move || io.event(true, false)
        });
        let wakes = Counter::new();
        let first = CountingWaker::waker(&wakes);
        let early = io.poll_ready(&mut std::task::Context::from_waker(&first), Direction::Read);
        if early.is_pending() {
            block_on(poll_fn(|cx| io.poll_ready(cx, Direction::Read))).expect("the source is open");
        }
        holder.join().expect("the holder does not panic");
    });
}

/// A socket with a count of bytes waiting to be read.
struct Socket {
    readiness: IoReadiness,
    available: AtomicUsize,
}

impl Socket {
    /// A non-blocking read of one byte.
    fn read(&self) -> io::Result<()> {
        let mut available = self.available.load(Ordering::Acquire);
        loop {
            if available == 0 {
                return Err(io::ErrorKind::WouldBlock.into());
            }
            match self.available.compare_exchange(
                available,
                available - 1,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => available = actual,
            }
        }
    }

    /// Data arrives: the OS poller reports a new edge.
    fn receive(&self) {
        self.available.fetch_add(1, Ordering::AcqRel);
        self.readiness.event(true, false);
    }
}

/// A task reads a byte, then finds the socket drained (`WouldBlock`) and
/// clears the readiness it saw, while a second byte arrives with a new
/// edge: the clear must not erase that edge, so the task reads the second
/// byte.
#[test]
fn clearing_readiness_after_would_block_keeps_an_edge_that_arrived_meanwhile() {
    model(|| {
        let socket = Arc::new(Socket {
            readiness: IoReadiness::new(),
            available: AtomicUsize::new(0),
        });
        socket.receive();
        let sender = thread::spawn({
            let socket = socket.clone();
            move || socket.receive()
        });
        let mut read = 0;
        block_on(poll_fn(|cx| {
            loop {
                let event = match socket.readiness.poll_ready(cx, Direction::Read) {
                    Poll::Ready(ready) => ready.expect("the source is open"),
                    Poll::Pending => return Poll::Pending,
                };
                match socket.read() {
                    Ok(()) => {
                        read += 1;
                        if read == 2 {
                            return Poll::Ready(());
                        }
                    }
                    Err(_) => socket.readiness.clear_readiness(event),
                }
            }
        }));
        sender.join().expect("the sender does not panic");
    });
}

/// A task waits to write while the source is closed, and another (with
/// its own waker) waits to read: both are woken, and each direction
/// reports an error.
#[test]
fn closing_a_source_wakes_the_waiters_of_both_directions_with_an_error() {
    model(|| {
        let io = Arc::new(IoReadiness::new());
        let reader_wakes = Counter::new();
        let reader = CountingWaker::waker(&reader_wakes);
        let mut reader_cx = std::task::Context::from_waker(&reader);
        assert!(io.poll_ready(&mut reader_cx, Direction::Read).is_pending());
        let closer = thread::spawn({
            let io = io.clone();
            move || io.close()
        });
        let written = block_on(poll_fn(|cx| io.poll_ready(cx, Direction::Write)));
        assert!(written.is_err(), "a closed source reports an error");
        closer.join().expect("the closer does not panic");
        assert_eq!(reader_wakes.get(), 1, "the reader is woken once");
        match io.poll_ready(&mut reader_cx, Direction::Read) {
            Poll::Ready(Err(_)) => {}
            _ => panic!("a closed source reports an error"),
        }
    });
}
