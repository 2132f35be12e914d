//! [`Event`]: asyncio's `Event`, a flag that tasks can wait for.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::loom::Mutex;
use crate::util::lock;
use crate::util::wait_list::{WaitList, WaiterKey, WakeList};

/// A flag that tasks can wait to see set, like `asyncio.Event`.
///
/// [`set`](Event::set) wakes every task in [`wait`](Event::wait); tasks that
/// call `wait` while the flag is set return at once. [`clear`](Event::clear)
/// resets the flag. A waiter that was woken by `set` returns even if `clear` is
/// called before it gets to run, as in asyncio.
///
/// An `Event` is a handle: [`Clone`] gives another handle to the same event (an
/// `Arc` inside). It is `Send + Sync`, so one thread's task may set it for
/// tasks on other workers.
///
/// Difference from asyncio: `wait()` returns `()` rather than `True`.
///
/// # Examples
///
/// ```
/// use evloop::sync::Event;
///
/// evloop::run(async {
///     let event = Event::new();
///     let waiter = evloop::spawn({
///         let event = event.clone();
///         async move { event.wait().await }
///     });
///     event.set();
///     waiter.await.unwrap();
///     assert!(event.is_set());
/// });
/// ```
#[derive(Clone)]
pub struct Event {
    state: Arc<Mutex<EventState>>,
}

struct EventState {
    set: bool,
    /// "Notified" means "saw the flag set".
    waiters: WaitList<()>,
}

impl Event {
    /// Creates an event whose flag is not set.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!evloop::sync::Event::new().is_set());
    /// ```
    pub fn new() -> Self {
        Self {
            state: Arc::new(Mutex::new(EventState {
                set: false,
                waiters: WaitList::new(),
            })),
        }
    }

    /// Whether the flag is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = evloop::sync::Event::new();
    /// event.set();
    /// assert!(event.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        lock(&self.state).set
    }

    /// Sets the flag and wakes every waiting task.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = evloop::sync::Event::new();
    /// event.set();
    /// event.set(); // setting twice is harmless
    /// assert!(event.is_set());
    /// ```
    pub fn set(&self) {
        let mut wakers = WakeList::new();
        {
            let mut state = lock(&self.state);
            if state.set {
                return;
            }
            state.set = true;
            state.waiters.notify_all(|_| {}, &mut wakers);
        }
        wakers.wake_all();
    }

    /// Clears the flag: later calls to [`wait`](Self::wait) wait again.
    ///
    /// # Examples
    ///
    /// ```
    /// let event = evloop::sync::Event::new();
    /// event.set();
    /// event.clear();
    /// assert!(!event.is_set());
    /// ```
    pub fn clear(&self) {
        lock(&self.state).set = false;
    }

    /// Waits until the flag is set; returns at once if it already is.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::Event;
    ///
    /// evloop::run(async {
    ///     let event = Event::new();
    ///     event.set();
    ///     event.wait().await; // does not wait
    /// });
    /// ```
    pub fn wait(&self) -> impl Future<Output = ()> + Send + '_ {
        EventWait {
            event: self,
            key: None,
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = lock(&self.state);
        f.debug_struct("Event")
            .field("set", &state.set)
            .field("waiters", &state.waiters.len())
            .finish()
    }
}

/// Future of [`Event::wait`].
struct EventWait<'a> {
    event: &'a Event,
    key: Option<WaiterKey>,
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = lock(&this.event.state);
        match this.key {
            None if state.set => Poll::Ready(()),
            None => {
                this.key = Some(state.waiters.push_back((), cx.waker()));
                Poll::Pending
            }
            Some(_) => state.waiters.poll_queued(&mut this.key, cx.waker()),
        }
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        // A notification of an event is not consumed, so there is nothing to
        // pass on: just leave the queue.
        if let Some(key) = self.key {
            lock(&self.event.state).waiters.remove(key);
        }
    }
}
