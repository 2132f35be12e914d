//! IO sources: per-source readiness and the wakers of the tasks waiting on it.
//!
//! # Protocol
//!
//! Sources are registered edge-triggered: mio reports a direction once when
//! it becomes ready, and again only after an operation hit `WouldBlock`. Each
//! source has one [`ScheduledIo`], reached by the reactor through the token
//! (a slot index plus a generation, so that a late event for a slot that was
//! freed and reused is ignored).
//!
//! - *Reactor*: for each event, ORs the event's directions into `readiness`
//!   together with the poll iteration's `tick`, then takes the waker of each
//!   ready direction under the `waiters` lock. The wakers of one iteration are
//!   collected and woken after every lock is released.
//! - *Task*: [`ScheduledIo::poll_ready`] returns at once if the direction is
//!   ready; otherwise it stores its waker under the `waiters` lock and checks
//!   `readiness` again. The reactor sets readiness before taking that lock, so
//!   either the task sees the readiness or the reactor sees the waker.
//! - *Clear*: after the operation returned `WouldBlock` (or moved fewer
//!   bytes than asked, which on a stream socket means the same), the task
//!   clears the direction's "readable" or "writable" bit, but only if the
//!   tick is still the one it observed: an event that arrived in between (a
//!   new edge) is not lost. End of stream, a closed write side and errors
//!   are final and never cleared.
//! - *Close*: when the source is dropped or the reactor shuts down, the
//!   `CLOSED` bit is set for good and both waiters are woken; every later
//!   `poll_ready` returns an error.

use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use mio::event::{Event, Source};
use mio::{Interest, Token};

use super::Handle;
// Through the loom switch, so that the models of IO readiness see them.
use crate::loom::{AtomicU64, Mutex, Ordering};
use crate::util::lock;

pub(crate) const READABLE: u64 = 1 << 0;
pub(crate) const WRITABLE: u64 = 1 << 1;
const READ_CLOSED: u64 = 1 << 2;
const WRITE_CLOSED: u64 = 1 << 3;
const ERROR: u64 = 1 << 4;
/// The source was closed or the reactor is gone: never cleared.
const CLOSED: u64 = 1 << 5;
/// The reason of `CLOSED`: set when the reactor shut down.
const REACTOR_GONE: u64 = 1 << 6;
const READINESS_MASK: u64 = (1 << 32) - 1;
const TICK_SHIFT: u32 = 32;

/// A direction of IO a task can wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Read,
    Write,
}

impl Direction {
    /// The readiness bits that let an operation in this direction proceed
    /// (with data, with end-of-stream, or with an error to report).
    fn mask(self) -> u64 {
        match self {
            Direction::Read => READABLE | READ_CLOSED | ERROR,
            Direction::Write => WRITABLE | WRITE_CLOSED | ERROR,
        }
    }
}

/// Readiness observed by a task: what to clear after a `WouldBlock`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReadyEvent {
    tick: u32,
    bits: u64,
}

/// Tasks waiting on a source, per direction. Usually one per direction;
/// several when tasks share a socket (a UDP socket behind an `Arc`). All
/// waiters of a direction are woken by its readiness: one gets the data,
/// the others see `WouldBlock` and wait again.
#[derive(Debug, Default)]
struct Waiters {
    readers: Vec<Waker>,
    writers: Vec<Waker>,
}

impl Waiters {
    fn add(list: &mut Vec<Waker>, waker: &Waker) {
        if !list.iter().any(|w| w.will_wake(waker)) {
            list.push(waker.clone());
        }
    }
}

/// Readiness and waiters of one registered source.
#[derive(Debug, Default)]
pub(crate) struct ScheduledIo {
    /// Low 32 bits: readiness flags; high 32 bits: tick of the last event.
    readiness: AtomicU64,
    waiters: Mutex<Waiters>,
}

impl ScheduledIo {
    fn ready_event(current: u64, direction: Direction) -> Option<ReadyEvent> {
        let bits = current & (direction.mask() | CLOSED);
        (bits != 0).then_some(ReadyEvent {
            tick: (current >> TICK_SHIFT) as u32,
            bits,
        })
    }

    fn closed_error(current: u64) -> io::Error {
        if current & REACTOR_GONE != 0 {
            io::Error::other("the event loop's reactor has shut down")
        } else {
            io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "the socket was closed while a task was waiting on it",
            )
        }
    }

    /// Resolves when `direction` is ready; errors once the source is closed.
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        let current = self.readiness.load(Ordering::Acquire);
        if let Some(event) = Self::ready_event(current, direction) {
            return Poll::Ready(Self::check_closed(current, event));
        }
        let mut waiters = lock(&self.waiters);
        let list = match direction {
            Direction::Read => &mut waiters.readers,
            Direction::Write => &mut waiters.writers,
        };
        Waiters::add(list, cx.waker());
        let current = self.readiness.load(Ordering::Acquire);
        match Self::ready_event(current, direction) {
            Some(event) => Poll::Ready(Self::check_closed(current, event)),
            None => Poll::Pending,
        }
    }

    fn check_closed(current: u64, event: ReadyEvent) -> io::Result<ReadyEvent> {
        if current & CLOSED != 0 {
            Err(Self::closed_error(current))
        } else {
            Ok(event)
        }
    }

    /// Forgets the readiness seen in `event`, unless a newer event arrived.
    ///
    /// Only "readable" and "writable" are forgotten. End of stream, a
    /// closed write side and an error are final: the OS poller reports
    /// them once, and every later operation meets them at once, so a
    /// read that returned data together with the peer's end of stream
    /// must still find the end of stream ready.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        let clear = event.bits & (READABLE | WRITABLE);
        let mut current = self.readiness.load(Ordering::Acquire);
        loop {
            if (current >> TICK_SHIFT) as u32 != event.tick {
                return;
            }
            let new = current & !clear;
            match self.readiness.compare_exchange_weak(
                current,
                new,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(actual) => current = actual,
            }
        }
    }

    /// Reactor side: records a mio event and collects the wakers it frees.
    fn dispatch(&self, tick: u32, event: &Event, wakers: &mut Vec<Waker>) {
        let mut bits = 0;
        if event.is_readable() {
            bits |= READABLE;
        }
        if event.is_writable() {
            bits |= WRITABLE;
        }
        if event.is_read_closed() {
            bits |= READ_CLOSED;
        }
        if event.is_write_closed() {
            bits |= WRITE_CLOSED;
        }
        if event.is_error() {
            bits |= ERROR;
        }
        self.set_readiness(tick, bits, wakers);
    }

    /// Reactor side: ORs `bits` into the readiness (stamped with `tick`),
    /// then collects the waiters of the directions they make ready.
    pub(crate) fn set_readiness(&self, tick: u32, bits: u64, wakers: &mut Vec<Waker>) {
        let mut current = self.readiness.load(Ordering::Acquire);
        loop {
            let new = ((tick as u64) << TICK_SHIFT) | (current & READINESS_MASK) | bits;
            match self.readiness.compare_exchange_weak(
                current,
                new,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break,
                Err(actual) => current = actual,
            }
        }
        let mut waiters = lock(&self.waiters);
        if bits & Direction::Read.mask() != 0 {
            wakers.append(&mut waiters.readers);
        }
        if bits & Direction::Write.mask() != 0 {
            wakers.append(&mut waiters.writers);
        }
    }

    /// Marks the source closed for good and collects both waiters.
    pub(crate) fn close(&self, reactor_gone: bool, wakers: &mut Vec<Waker>) {
        let bits = if reactor_gone {
            CLOSED | REACTOR_GONE
        } else {
            CLOSED
        };
        self.readiness.fetch_or(bits, Ordering::AcqRel);
        let mut waiters = lock(&self.waiters);
        wakers.append(&mut waiters.readers);
        wakers.append(&mut waiters.writers);
    }
}

/// Bits of a token that hold the slot index; the rest is the generation.
const INDEX_BITS: u32 = 24;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// The token of the reactor's `mio::Waker`; never produced for a source
/// because its index part (`INDEX_MASK`) is out of the slab's range.
pub(crate) const WAKER_TOKEN: Token = Token(usize::MAX);

#[derive(Debug, Default)]
struct Slot {
    io: Option<Arc<ScheduledIo>>,
    generation: usize,
}

/// The registered sources, indexed by token.
#[derive(Debug, Default)]
pub(crate) struct Sources {
    slots: Vec<Slot>,
    free: Vec<usize>,
    /// No registration is accepted any more (reactor shut down).
    closed: bool,
}

impl Sources {
    fn insert(&mut self, io: Arc<ScheduledIo>) -> io::Result<Token> {
        if self.closed {
            return Err(ScheduledIo::closed_error(CLOSED | REACTOR_GONE));
        }
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                if self.slots.len() >= INDEX_MASK {
                    return Err(io::Error::other(
                        "too many sockets registered with the reactor",
                    ));
                }
                self.slots.push(Slot::default());
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[index];
        slot.io = Some(io);
        Ok(Token((slot.generation << INDEX_BITS) | index))
    }

    /// How many sources are registered.
    pub(crate) fn len(&self) -> usize {
        if self.closed {
            0
        } else {
            self.slots.len() - self.free.len()
        }
    }

    fn get(&self, token: Token) -> Option<&Arc<ScheduledIo>> {
        let slot = self.slots.get(token.0 & INDEX_MASK)?;
        if slot.generation == token.0 >> INDEX_BITS {
            slot.io.as_ref()
        } else {
            None
        }
    }

    fn remove(&mut self, token: Token) -> Option<Arc<ScheduledIo>> {
        let index = token.0 & INDEX_MASK;
        let slot = self.slots.get_mut(index)?;
        if slot.generation != token.0 >> INDEX_BITS || slot.io.is_none() {
            return None;
        }
        slot.generation = (slot.generation + 1) & (usize::MAX >> INDEX_BITS);
        self.free.push(index);
        slot.io.take()
    }

    /// Reactor side: records the events of one poll iteration.
    pub(crate) fn dispatch<'a>(
        &self,
        tick: u32,
        events: impl IntoIterator<Item = &'a Event>,
        wakers: &mut Vec<Waker>,
    ) {
        for event in events {
            if event.token() == WAKER_TOKEN {
                continue;
            }
            if let Some(io) = self.get(event.token()) {
                io.dispatch(tick, event, wakers);
            }
        }
    }

    /// Reactor side at shutdown: closes every source and refuses new ones.
    pub(crate) fn close_all(&mut self, wakers: &mut Vec<Waker>) {
        self.closed = true;
        for slot in &mut self.slots {
            if let Some(io) = slot.io.take() {
                io.close(true, wakers);
            }
        }
        self.free.clear();
    }
}

/// A source's link to the reactor: its token and shared readiness.
#[derive(Debug)]
pub(crate) struct Registration {
    handle: Handle,
    token: Token,
    io: Arc<ScheduledIo>,
}

impl Registration {
    /// Registers `source` for `interest`, edge-triggered.
    pub(crate) fn new(
        handle: &Handle,
        source: &mut impl Source,
        interest: Interest,
    ) -> io::Result<Registration> {
        let io = Arc::new(ScheduledIo::default());
        let token = lock(&handle.shared.sources).insert(io.clone())?;
        if let Err(error) = handle.shared.registry.register(source, token, interest) {
            lock(&handle.shared.sources).remove(token);
            return Err(error);
        }
        Ok(Registration {
            handle: handle.clone(),
            token,
            io,
        })
    }

    /// Resolves when `direction` is ready (see the module protocol).
    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
    ) -> Poll<io::Result<ReadyEvent>> {
        self.io.poll_ready(cx, direction)
    }

    /// Forgets readiness after an operation returned `WouldBlock`.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.io.clear_readiness(event)
    }

    /// Runs the non-blocking `op` when `direction` is ready, retrying after
    /// every `WouldBlock` until it completes or the task must wait.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        op: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.poll_io_clearing(cx, direction, op, |_| false)
    }

    /// [`poll_io`](Self::poll_io), also forgetting the readiness after an
    /// `op` whose success `drained` says left nothing to do (a short read
    /// or write on a stream socket): the next attempt would only return
    /// `WouldBlock`. The clear is the tick-checked one, so readiness the
    /// reactor reported after `op` ran is kept.
    pub(crate) fn poll_io_clearing<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> bool,
    ) -> Poll<io::Result<R>> {
        loop {
            let event = match self.poll_ready(cx, direction) {
                Poll::Ready(Ok(event)) => event,
                Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
                Poll::Pending => return Poll::Pending,
            };
            match op() {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    self.clear_readiness(event)
                }
                Ok(done) if drained(&done) => {
                    self.clear_readiness(event);
                    return Poll::Ready(Ok(done));
                }
                result => return Poll::Ready(result),
            }
        }
    }

    /// Runs `op` once if `direction` looks ready, without waiting; a
    /// `WouldBlock` from `op` clears the readiness it was tried on.
    pub(crate) fn try_io<R>(
        &self,
        direction: Direction,
        op: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        let current = self.io.readiness.load(Ordering::Acquire);
        let Some(event) = ScheduledIo::ready_event(current, direction) else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        let event = ScheduledIo::check_closed(current, event)?;
        match op() {
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                self.clear_readiness(event);
                Err(error)
            }
            result => result,
        }
    }

    /// The reactor this source is registered with.
    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Closes the registration: the reactor forgets the token, and tasks
    /// waiting on it wake up to an error. Idempotent.
    pub(crate) fn close(&self) {
        let removed = lock(&self.handle.shared.sources).remove(self.token);
        let mut wakers = Vec::new();
        if removed.is_some() {
            self.io.close(false, &mut wakers);
        }
        wakers.into_iter().for_each(Waker::wake);
    }

    /// Deregisters `source` from the OS poller and closes the registration.
    pub(crate) fn deregister(&self, source: &mut impl Source) {
        // An error here means the source is gone from the poller already
        // (its fd was closed, or the reactor shut down): nothing to undo.
        let _ = self.handle.shared.registry.deregister(source);
        self.close();
    }
}

/// A mio source bound to the reactor for as long as it lives.
#[derive(Debug)]
pub(crate) struct IoSource<S: Source> {
    source: S,
    registration: Registration,
}

impl<S: Source> IoSource<S> {
    /// Registers `source` with the reactor of `handle`, for reading and writing.
    pub(crate) fn new(handle: &Handle, mut source: S) -> io::Result<IoSource<S>> {
        let registration =
            Registration::new(handle, &mut source, Interest::READABLE | Interest::WRITABLE)?;
        Ok(IoSource {
            source,
            registration,
        })
    }

    /// The mio source.
    pub(crate) fn source(&self) -> &S {
        &self.source
    }

    /// The source's registration.
    pub(crate) fn registration(&self) -> &Registration {
        &self.registration
    }

    /// Runs `op` on the source when `direction` is ready (see
    /// [`Registration::poll_io`]).
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        direction: Direction,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        self.registration
            .poll_io(cx, direction, || op(&self.source))
    }
}

impl<S: Source> Drop for IoSource<S> {
    fn drop(&mut self) {
        self.registration.deregister(&mut self.source);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    struct CountingWaker(AtomicUsize);

    impl Wake for CountingWaker {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<CountingWaker>, Waker) {
        let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
        (counter.clone(), Waker::from(counter))
    }

    fn set_ready(io: &ScheduledIo, tick: u32, bits: u64, wakers: &mut Vec<Waker>) {
        io.set_readiness(tick, bits, wakers);
    }

    #[test]
    fn waiting_task_is_woken_by_readiness_of_its_direction_only() {
        let io = ScheduledIo::default();
        let (count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
        let mut wakers = Vec::new();
        set_ready(&io, 1, WRITABLE, &mut wakers);
        assert!(wakers.is_empty());
        set_ready(&io, 2, READABLE, &mut wakers);
        wakers.drain(..).for_each(Waker::wake);
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_ready());
    }

    #[test]
    fn clear_keeps_readiness_that_arrived_after_it_was_observed() {
        let io = ScheduledIo::default();
        let (_count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut wakers = Vec::new();
        set_ready(&io, 1, READABLE, &mut wakers);
        let Poll::Ready(Ok(seen)) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("expected readiness");
        };
        // A new edge arrives between the read and the clear.
        set_ready(&io, 2, READABLE, &mut wakers);
        io.clear_readiness(seen);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_ready());
        let Poll::Ready(Ok(seen)) = io.poll_ready(&mut cx, Direction::Read) else {
            panic!("expected readiness");
        };
        io.clear_readiness(seen);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
    }

    #[test]
    fn clear_keeps_the_end_of_stream_and_errors() {
        let io = ScheduledIo::default();
        let (_count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        let mut wakers = Vec::new();
        set_ready(
            &io,
            1,
            READABLE | READ_CLOSED | WRITABLE | ERROR,
            &mut wakers,
        );
        for direction in [Direction::Read, Direction::Write] {
            let Poll::Ready(Ok(seen)) = io.poll_ready(&mut cx, direction) else {
                panic!("expected readiness");
            };
            io.clear_readiness(seen);
            assert!(io.poll_ready(&mut cx, direction).is_ready());
        }
        let left = io.readiness.load(Ordering::Acquire) & READINESS_MASK;
        assert_eq!(left, READ_CLOSED | ERROR);
    }

    #[test]
    fn closing_wakes_both_directions_with_an_error() {
        let io = ScheduledIo::default();
        let (count, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(io.poll_ready(&mut cx, Direction::Read).is_pending());
        assert!(io.poll_ready(&mut cx, Direction::Write).is_pending());
        let mut wakers = Vec::new();
        io.close(false, &mut wakers);
        wakers.drain(..).for_each(Waker::wake);
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
        match io.poll_ready(&mut cx, Direction::Read) {
            Poll::Ready(Err(error)) => assert_eq!(error.kind(), io::ErrorKind::ConnectionAborted),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn stale_tokens_of_a_reused_slot_find_nothing() {
        let mut sources = Sources::default();
        let first = sources.insert(Arc::default()).unwrap();
        assert!(sources.remove(first).is_some());
        let second = sources.insert(Arc::default()).unwrap();
        assert_eq!(first.0 & INDEX_MASK, second.0 & INDEX_MASK);
        assert!(sources.get(first).is_none());
        assert!(sources.get(second).is_some());
        assert!(sources.remove(first).is_none());
    }
}
