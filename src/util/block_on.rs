//! A plain thread waiting for a future: it polls the future with a waker
//! that unparks it, and parks between wake-ups.
//!
//! Used by `run_until_complete` (no deadline) and by a blocking
//! `ConcurrentFuture::result` after the future was polled (with a
//! deadline). The flag and the parking go through `crate::loom`, so the
//! bridge's models check the wake-up handoff; loom has no clock, so under
//! it a wait with a deadline parks like one without (a model never lets a
//! deadline pass).

use std::future::Future;
use std::pin::pin;
use std::sync::Arc as StdArc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Instant;

use crate::loom::thread::{self, Thread};
use crate::loom::{AtomicBool, Ordering};

/// Wakes the thread that drives the future. The flag keeps the thread from
/// polling again after a spurious unpark, and an unpark that races ahead
/// of `park` leaves the thread's token, so no wake-up is lost.
struct ThreadWaker {
    thread: Thread,
    notified: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: StdArc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        if !self.notified.swap(true, Ordering::AcqRel) {
            self.thread.unpark();
        }
    }
}

/// Polls `future` on this thread until it completes, sleeping between
/// wake-ups.
pub(crate) fn block_on<F: Future>(future: F) -> F::Output {
    match block_on_until(future, None) {
        Some(output) => output,
        None => unreachable!("a wait without a deadline timed out"),
    }
}

/// Like [`block_on`], but gives up once `deadline` passes (`None`: never):
/// `None` then.
pub(crate) fn block_on_until<F: Future>(future: F, deadline: Option<Instant>) -> Option<F::Output> {
    let mut future = pin!(future);
    let signal = StdArc::new(ThreadWaker {
        thread: thread::current(),
        notified: AtomicBool::new(true),
    });
    let waker = Waker::from(signal.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if signal.notified.swap(false, Ordering::AcqRel) {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return Some(output);
            }
            continue;
        }
        if !park_until(deadline) {
            return None;
        }
    }
}

/// Parks until an unpark or `deadline`; false once the deadline has passed.
#[cfg(not(loom))]
fn park_until(deadline: Option<Instant>) -> bool {
    match deadline {
        None => thread::park(),
        Some(deadline) => {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            thread::park_timeout(left);
        }
    }
    true
}

/// Parks until an unpark: loom has no clock, so no deadline passes.
#[cfg(loom)]
fn park_until(_deadline: Option<Instant>) -> bool {
    thread::park();
    true
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::future::poll_fn;
    use std::sync::mpsc;
    use std::task::Poll;
    use std::time::{Duration, Instant};

    use super::{block_on, block_on_until};

    #[test]
    fn returns_the_output_once_another_thread_wakes_the_future() {
        let (tx, rx) = mpsc::channel();
        let mut waker_sent = false;
        let output = block_on(poll_fn(|cx| {
            if let Ok(value) = rx.try_recv() {
                return Poll::Ready(value);
            }
            if !waker_sent {
                waker_sent = true;
                let (tx, waker) = (tx.clone(), cx.waker().clone());
                std::thread::spawn(move || {
                    tx.send(5).unwrap();
                    waker.wake();
                });
            }
            Poll::Pending
        }));
        assert_eq!(output, 5);
    }

    #[test]
    fn gives_up_at_the_deadline() {
        let deadline = Instant::now() + Duration::from_millis(5);
        assert_eq!(
            block_on_until(std::future::pending::<()>(), Some(deadline)),
            None
        );
        assert!(Instant::now() >= deadline);
    }
}
