//! A count of permits with a FIFO queue of tasks waiting for one: the engine
//! behind [`Lock`](super::Lock) (one permit), [`Semaphore`](super::Semaphore) and
//! [`BoundedSemaphore`](super::BoundedSemaphore).
//!
//! # Invariant: nobody barges
//!
//! A released permit goes *directly* to the first queued waiter (its entry is
//! notified and the permit counts as its own from then on); the free count only
//! grows when nobody waits. Hence "waiters are queued" implies "no permit is
//! free", and an acquirer that finds a free permit never overtakes a queued one.
//!
//! A waiter dropped after a permit was handed to it, but before it saw it, gives
//! the permit back through [`Permits::release`], which hands it to the next waiter.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use crate::loom::Mutex;
use crate::util::lock;
use crate::util::wait_list::{WaitList, WaiterKey, WakeList};

/// Free permits and the tasks waiting for one.
#[derive(Debug)]
pub(crate) struct Permits {
    state: Mutex<PermitState>,
}

#[derive(Debug)]
struct PermitState {
    available: usize,
    /// Waiters need no state of their own: "notified" means "owns a permit".
    waiters: WaitList<()>,
}

/// Why [`Permits::release`] refused to add a permit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AtBound;

impl Permits {
    pub(crate) fn new(available: usize) -> Self {
        Self {
            state: Mutex::new(PermitState {
                available,
                waiters: WaitList::new(),
            }),
        }
    }

    /// Takes a permit if one is free (which implies nobody is queued).
    pub(crate) fn try_acquire(&self) -> bool {
        let mut state = lock(&self.state);
        if state.available > 0 {
            state.available -= 1;
            true
        } else {
            false
        }
    }

    /// Waits, in FIFO order, for a permit.
    pub(crate) fn acquire(&self) -> AcquirePermit<'_> {
        AcquirePermit {
            permits: self,
            key: None,
        }
    }

    /// Takes a permit for a waiter whose future is not polling right now:
    /// `None` when one was free (the waiter owns it), else the key under
    /// which it was queued with `waker`, to be resumed with
    /// [`resume`](Self::resume).
    pub(crate) fn enqueue(&self, waker: &Waker) -> Option<WaiterKey> {
        let mut state = lock(&self.state);
        if state.available > 0 {
            state.available -= 1;
            None
        } else {
            Some(state.waiters.push_back((), waker))
        }
    }

    /// The future of a waiter queued by [`enqueue`](Self::enqueue); dropping
    /// it leaves the queue (or passes on a permit handed to it), as for
    /// [`acquire`](Self::acquire).
    pub(crate) fn resume(&self, key: WaiterKey) -> AcquirePermit<'_> {
        AcquirePermit {
            permits: self,
            key: Some(key),
        }
    }

    /// Returns one permit: to the first queued waiter if there is one, else to
    /// the free count, unless that would exceed `bound`.
    pub(crate) fn release(&self, bound: Option<usize>) -> Result<(), AtBound> {
        let mut state = lock(&self.state);
        if let Some(waker) = state.waiters.notify_front(|_| {}) {
            drop(state);
            let mut wakers = WakeList::new();
            wakers.push(waker);
            wakers.wake_all();
            return Ok(());
        }
        if bound.is_some_and(|bound| state.available >= bound) {
            return Err(AtBound);
        }
        // At usize::MAX free permits, one more is not representable: the
        // count stays at its ceiling, in every build profile.
        state.available = state.available.saturating_add(1);
        Ok(())
    }

    /// Number of free permits.
    pub(crate) fn available(&self) -> usize {
        lock(&self.state).available
    }

    /// Number of tasks queued for a permit.
    pub(crate) fn waiting(&self) -> usize {
        lock(&self.state).waiters.len()
    }
}

/// Future of [`Permits::acquire`]; resolves once it owns a permit.
#[derive(Debug)]
pub(crate) struct AcquirePermit<'a> {
    permits: &'a Permits,
    key: Option<WaiterKey>,
}

impl Future for AcquirePermit<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = lock(&this.permits.state);
        match this.key {
            None if state.available > 0 => {
                state.available -= 1;
                Poll::Ready(())
            }
            None => {
                this.key = Some(state.waiters.push_back((), cx.waker()));
                Poll::Pending
            }
            Some(_) => state.waiters.poll_queued(&mut this.key, cx.waker()),
        }
    }
}

impl Drop for AcquirePermit<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut state = lock(&self.permits.state);
        let owned_a_permit = !state.waiters.is_linked(key);
        state.waiters.remove(key);
        drop(state);
        if owned_a_permit {
            // Handed a permit but dropped before seeing it: pass it on. The
            // permit was counted, so this never exceeds a bound.
            let _ = self.permits.release(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_util::{Probe, block_on};

    #[test]
    fn release_wakes_only_the_first_waiter() {
        let permits = Permits::new(0);
        let mut first = Probe::new(permits.acquire());
        let mut second = Probe::new(permits.acquire());
        first.pending();
        second.pending();
        permits.release(None).unwrap();
        assert!(first.woken());
        assert!(!second.woken());
        first.ready();
        second.pending();
    }

    #[test]
    fn a_permit_passed_on_by_a_dropped_waiter_wakes_the_next() {
        let permits = Permits::new(0);
        let mut dropped = Probe::new(permits.acquire());
        let mut next = Probe::new(permits.acquire());
        dropped.pending();
        next.pending();
        permits.release(None).unwrap();
        drop(dropped);
        assert!(next.woken());
        next.ready();
        assert_eq!(permits.available(), 0);
    }

    #[test]
    fn release_refuses_to_pass_the_bound_only_when_nobody_waits() {
        let permits = Permits::new(1);
        assert_eq!(permits.release(Some(1)), Err(AtBound));
        assert!(permits.try_acquire());
        let mut waiter = Probe::new(permits.acquire());
        waiter.pending();
        assert_eq!(permits.release(Some(1)), Ok(()));
        waiter.ready();
    }

    #[test]
    fn permits_are_handed_between_plain_threads() {
        let permits = std::sync::Arc::new(Permits::new(1));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let permits = permits.clone();
                std::thread::spawn(move || {
                    for _ in 0..1_000 {
                        block_on(permits.acquire());
                        permits.release(Some(1)).unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(permits.available(), 1);
        assert_eq!(permits.waiting(), 0);
    }
}
