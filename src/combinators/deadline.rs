//! The time limit of `wait` and `as_completed`: the only part of the
//! combinators that needs the reactor's timers.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::time::{Sleep, sleep};

/// An optional deadline, taken when the combinator is created (as asyncio
/// counts a timeout from the call).
pub(crate) struct Deadline {
    timer: Option<Sleep>,
}

impl Deadline {
    /// A deadline `timeout` from now, or none.
    pub(crate) fn after(timeout: Option<Duration>) -> Deadline {
        Deadline {
            timer: timeout.map(sleep),
        }
    }

    /// Ready once the deadline passed; never ready without a deadline.
    pub(crate) fn poll_elapsed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.timer {
            Some(timer) => Pin::new(timer).poll(cx),
            None => Poll::Pending,
        }
    }
}
