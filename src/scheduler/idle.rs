//! Who sleeps and who searches: coordinating idle workers so that new work
//! wakes exactly one sleeper, and only when nobody is already looking.
//!
//! One atomic word counts the workers that are *unparked* (awake) and, of
//! those, the ones *searching* (out of local work, trying to steal). The
//! list of sleepers sits behind a mutex that only the slow paths take.
//!
//! The no-lost-wake-up argument. A producer pushes its task, then
//! `notify_one` issues a SeqCst fence and reads the word. A worker that
//! goes to sleep first decrements the word (`transition_to_parked`, SeqCst,
//! under the sleepers lock, registering itself as a sleeper), issues a
//! SeqCst fence, and only then re-checks the queues before it parks. By the
//! fences' total order, either the producer reads the word after the
//! decrement (it sees a sleeper and wakes one: possibly this very worker,
//! whose park then returns at once thanks to the parker's token) or the
//! worker's re-check comes after the push and finds the task. The same
//! holds when the producer skips the wake because a worker is searching:
//! that searcher either finds the task or, as the last searcher, re-checks
//! after it stops searching.

use crate::loom::{AtomicUsize, Mutex, Ordering, fence};
use crate::util::lock;

const SEARCHING_MASK: usize = (1 << 16) - 1;
const UNPARKED_ONE: usize = 1 << 16;

fn searching(word: usize) -> usize {
    word & SEARCHING_MASK
}

fn unparked(word: usize) -> usize {
    word >> 16
}

pub(crate) struct Idle {
    word: AtomicUsize,
    sleepers: Mutex<Vec<usize>>,
    workers: usize,
}

impl Idle {
    /// All `workers` start awake and not searching.
    pub(crate) fn new(workers: usize) -> Idle {
        assert!(workers <= SEARCHING_MASK, "too many workers");
        Idle {
            word: AtomicUsize::new(workers * UNPARKED_ONE),
            sleepers: Mutex::new(Vec::with_capacity(workers)),
            workers,
        }
    }

    /// Called after new work was pushed. Returns the worker to unpark, if
    /// one must be woken: when nobody is searching and somebody sleeps. The
    /// chosen worker is counted as awake and searching from now on.
    pub(crate) fn worker_to_notify(&self) -> Option<usize> {
        fence(Ordering::SeqCst);
        let word = self.word.load(Ordering::SeqCst);
        if searching(word) != 0 || unparked(word) >= self.workers {
            return None;
        }
        let mut sleepers = lock(&self.sleepers);
        let word = self.word.load(Ordering::SeqCst);
        if searching(word) != 0 || unparked(word) >= self.workers {
            return None;
        }
        let worker = sleepers.pop()?;
        self.word.fetch_add(UNPARKED_ONE + 1, Ordering::SeqCst);
        Some(worker)
    }

    /// A worker out of local work asks to search. Refused when half the
    /// workers already search (they will find what there is to find).
    pub(crate) fn transition_to_searching(&self) -> bool {
        let word = self.word.load(Ordering::SeqCst);
        if 2 * searching(word) >= self.workers.max(2) {
            return false;
        }
        self.word.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// A searcher found work. Returns true when it was the last searcher:
    /// it must then wake another worker, so that the remaining work is
    /// looked after.
    pub(crate) fn transition_from_searching(&self) -> bool {
        let prev = self.word.fetch_sub(1, Ordering::SeqCst);
        debug_assert!(searching(prev) > 0);
        searching(prev) == 1
    }

    /// The worker registers as a sleeper. Afterwards it must re-check the
    /// queues (see the module docs) before it parks.
    pub(crate) fn transition_to_parked(&self, worker: usize, searching_now: bool) {
        let mut sleepers = lock(&self.sleepers);
        let decrement = UNPARKED_ONE + usize::from(searching_now);
        let prev = self.word.fetch_sub(decrement, Ordering::SeqCst);
        debug_assert!(unparked(prev) > 0 && searching(prev) >= usize::from(searching_now));
        sleepers.push(worker);
        drop(sleepers);
        fence(Ordering::SeqCst);
    }

    /// After waking up: false when the worker is still registered as a
    /// sleeper (nobody woke it: a spurious wake or a shutdown signal), true
    /// when a notifier took it off the list and counted it as searching.
    pub(crate) fn was_notified(&self, worker: usize) -> bool {
        !lock(&self.sleepers).contains(&worker)
    }

    /// Takes a sleeper off the list on its own behalf (at shutdown, or
    /// when the poller it slept in gave it work), counted awake and not
    /// searching. Returns false when a notifier took it off first (it then
    /// counts as searching).
    pub(crate) fn unregister(&self, worker: usize) -> bool {
        let mut sleepers = lock(&self.sleepers);
        match sleepers.iter().position(|&w| w == worker) {
            Some(pos) => {
                sleepers.swap_remove(pos);
                self.word.fetch_add(UNPARKED_ONE, Ordering::SeqCst);
                true
            }
            None => false,
        }
    }

    /// Number of workers currently registered as sleeping.
    #[cfg(any(test, loom))]
    pub(crate) fn sleeping(&self) -> usize {
        self.workers - unparked(self.word.load(Ordering::SeqCst))
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    #[test]
    fn notify_wakes_nobody_while_all_are_awake() {
        let idle = Idle::new(2);
        assert_eq!(idle.worker_to_notify(), None);
    }

    #[test]
    fn notify_wakes_exactly_one_sleeper() {
        let idle = Idle::new(2);
        idle.transition_to_parked(0, false);
        idle.transition_to_parked(1, false);
        assert_eq!(idle.sleeping(), 2);
        let woken = idle.worker_to_notify().expect("one sleeper woken");
        assert!(idle.was_notified(woken));
        // The woken worker counts as searching: a second notify waits for it.
        assert_eq!(idle.worker_to_notify(), None);
        assert!(idle.transition_from_searching());
        assert!(idle.worker_to_notify().is_some());
    }

    #[test]
    fn at_most_half_the_workers_search() {
        let idle = Idle::new(4);
        assert!(idle.transition_to_searching());
        assert!(idle.transition_to_searching());
        assert!(!idle.transition_to_searching());
    }
}
