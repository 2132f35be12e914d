//! The list of suspended waiters that every waiting future of the crate is
//! built on: the primitives of `sync`, a `Promise`'s awaiting clones, the
//! stream writers and servers of `net`.
//!
//! A `WaitList<S>` lives inside its owner's `Mutex` and keeps, in arrival order,
//! one entry per waiting future: its `Waker` and a per-waiter state `S` (for a queue
//! getter, the slot an item is handed into). Entries live in a slab (a `Vec` of
//! slots threaded by a free list) and are chained into a doubly linked list, so
//! arrival, hand-off to the front waiter and removal of a cancelled waiter from the
//! middle are all O(1), and a busy owner stops allocating once its slab is warm.
//!
//! Wakers are never woken under the owner's mutex: notifying moves them into a
//! [`WakeList`], woken once the mutex is released. Waking runs foreign code (a
//! waker may be anybody's), so [`WakeList::wake_all`] contains a panicking waker
//! and goes on with the next: one broken waker never keeps the other waiters
//! asleep, nor kills the thread that notifies (which may be a loop thread).
//!
//! # The protocol
//!
//! Every entry pushed with [`WaitList::push_back`] is in one of two phases:
//!
//! - **linked**: the waiter is still queued. Only the future that pushed it may
//!   remove it ([`WaitList::remove`]), which it does when it is dropped.
//! - **notified**: the primitive took it off the queue with [`WaitList::notify_front`]
//!   or [`WaitList::notify_all`], wrote the outcome into its state and took its
//!   waker (to wake it after the primitive's mutex is released). The slot stays
//!   occupied until the owning future reads the outcome and frees it with
//!   [`WaitList::remove`].
//!
//! A key therefore belongs to exactly one future from `push_back` to `remove`: no
//! other code frees a slot, so a key can never be reused under a future's feet.
//! A future dropped while *notified* owns whatever was handed to it (a lock, a
//! permit, an item, a notification) and must pass it on; each primitive does that
//! in its future's `Drop`.
//!
//! Entries pushed with [`WaitList::register`] have no owner and no key: they
//! stand for "wake this task on the next change", for waiters that look at
//! their owner's state again when polled (a stream writer's `drain`, a
//! server's `wait_closed`). Notifying such an entry frees its slot at once,
//! and a task registers at most once however often it polls.

use std::task::{Poll, Waker};

use super::contain_panic;

/// Marks the end of a chain (no previous/next entry, no free slot).
const NIL: usize = usize::MAX;

/// Identifies one waiter's entry for as long as its future lives.
pub(crate) type WaiterKey = usize;

/// FIFO list of waiters, each with a waker and a per-waiter state `S`.
#[derive(Debug)]
pub(crate) struct WaitList<S> {
    slots: Vec<Slot<S>>,
    /// First free slot; free slots are chained through `next`.
    free: usize,
    head: usize,
    tail: usize,
    /// Number of linked (still queued) entries.
    linked: usize,
}

impl<S> Default for WaitList<S> {
    fn default() -> Self {
        Self::new()
    }
}

#[derive(Debug)]
struct Slot<S> {
    /// `None` while the slot is free.
    entry: Option<Entry<S>>,
    prev: usize,
    next: usize,
}

#[derive(Debug)]
struct Entry<S> {
    state: S,
    waker: Option<Waker>,
    linked: bool,
    /// Whether a future owns the entry by its key (`push_back`), rather than
    /// the entry being freed when it is notified (`register`).
    owned: bool,
}

impl<S> WaitList<S> {
    /// An empty list; allocates nothing until the first waiter arrives.
    pub(crate) const fn new() -> Self {
        Self {
            slots: Vec::new(),
            free: NIL,
            head: NIL,
            tail: NIL,
            linked: 0,
        }
    }

    /// Whether no waiter is queued (notified entries do not count).
    pub(crate) fn is_empty(&self) -> bool {
        self.linked == 0
    }

    /// Number of queued waiters (notified entries do not count).
    pub(crate) fn len(&self) -> usize {
        self.linked
    }

    /// Queues a new waiter at the back and returns its key.
    pub(crate) fn push_back(&mut self, state: S, waker: &Waker) -> WaiterKey {
        self.link_new(Entry {
            state,
            waker: Some(waker.clone()),
            linked: true,
            owned: true,
        })
    }

    /// Makes sure `waker` is woken at the next [`notify_all`](Self::notify_all)
    /// (or [`notify_front`](Self::notify_front) that reaches it): queues it,
    /// with `state`, unless a queued entry already wakes the same task. The
    /// entry has no owner: notifying it frees it.
    pub(crate) fn register(&mut self, state: S, waker: &Waker) {
        let mut key = self.head;
        while key != NIL {
            if self
                .entry(key)
                .waker
                .as_ref()
                .is_some_and(|w| w.will_wake(waker))
            {
                return;
            }
            key = self.slots[key].next;
        }
        self.link_new(Entry {
            state,
            waker: Some(waker.clone()),
            linked: true,
            owned: false,
        });
    }

    fn link_new(&mut self, entry: Entry<S>) -> WaiterKey {
        let key = if self.free != NIL {
            let key = self.free;
            self.free = self.slots[key].next;
            self.slots[key].entry = Some(entry);
            key
        } else {
            self.slots.push(Slot {
                entry: Some(entry),
                prev: NIL,
                next: NIL,
            });
            self.slots.len() - 1
        };
        self.slots[key].prev = self.tail;
        self.slots[key].next = NIL;
        if self.tail == NIL {
            self.head = key;
        } else {
            self.slots[self.tail].next = key;
        }
        self.tail = key;
        self.linked += 1;
        key
    }

    /// Whether the waiter is still queued (not yet notified).
    pub(crate) fn is_linked(&self, key: WaiterKey) -> bool {
        self.entry(key).linked
    }

    /// Remembers `waker` as the one to wake for this waiter, unless the stored one
    /// already wakes the same task.
    pub(crate) fn update_waker(&mut self, key: WaiterKey, waker: &Waker) {
        let entry = self.entry_mut(key);
        match &mut entry.waker {
            Some(stored) if stored.will_wake(waker) => {}
            slot => *slot = Some(waker.clone()),
        }
    }

    /// Takes the first queued waiter off the queue, lets `notify` write its outcome
    /// into its state, and returns its waker (to be woken once the primitive's
    /// mutex is released). `None` if nobody waits.
    pub(crate) fn notify_front(&mut self, notify: impl FnOnce(&mut S)) -> Option<Waker> {
        self.notify_front_with(|state, _| notify(state))
    }

    /// Like [`notify_front`](Self::notify_front), with the waiter's waker lent
    /// to `notify` (to queue the waiter somewhere else, for example).
    pub(crate) fn notify_front_with(
        &mut self,
        notify: impl FnOnce(&mut S, &Waker),
    ) -> Option<Waker> {
        if self.head == NIL {
            return None;
        }
        let key = self.head;
        self.unlink(key);
        let entry = self.entry_mut(key);
        let waker = entry.waker.take().expect("a queued waiter has a waker");
        notify(&mut entry.state, &waker);
        let waker = Some(waker);
        if !entry.owned {
            self.free_slot(key);
        }
        waker
    }

    /// Notifies every queued waiter in arrival order, like
    /// [`notify_front`](Self::notify_front) repeated until the queue is empty.
    pub(crate) fn notify_all(&mut self, mut notify: impl FnMut(&mut S), wakers: &mut WakeList) {
        while let Some(waker) = self.notify_front(&mut notify) {
            wakers.push(waker);
        }
    }

    /// Gives mutable access to the state of every occupied entry, queued or
    /// notified, so a primitive can revise outcomes it already handed out.
    pub(crate) fn for_each_state_mut(&mut self, mut visit: impl FnMut(&mut S)) {
        for slot in &mut self.slots {
            if let Some(entry) = &mut slot.entry {
                visit(&mut entry.state);
            }
        }
    }

    /// The poll of a waiter that already queued under `*key`: `Pending` (with
    /// its waker refreshed) while it is still queued; once it was handed
    /// what it waits for (unlinked), frees its slot, clears `*key` and
    /// returns its state.
    pub(crate) fn poll_queued(&mut self, key: &mut Option<WaiterKey>, waker: &Waker) -> Poll<S> {
        let Some(queued) = *key else {
            unreachable!("poll_queued is only called for a queued waiter");
        };
        if self.is_linked(queued) {
            self.update_waker(queued, waker);
            return Poll::Pending;
        }
        *key = None;
        Poll::Ready(self.remove(queued))
    }

    /// Frees the waiter's slot (unlinking it first if it is still queued) and
    /// returns its state. Called only by the future that owns `key`.
    pub(crate) fn remove(&mut self, key: WaiterKey) -> S {
        if self.entry(key).linked {
            self.unlink(key);
        }
        self.free_slot(key)
    }

    fn free_slot(&mut self, key: WaiterKey) -> S {
        let entry = self.slots[key]
            .entry
            .take()
            .expect("a waiter key is only removed once, by its owner");
        self.slots[key].next = self.free;
        self.free = key;
        entry.state
    }

    fn unlink(&mut self, key: WaiterKey) {
        let (prev, next) = (self.slots[key].prev, self.slots[key].next);
        if prev == NIL {
            self.head = next;
        } else {
            self.slots[prev].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.slots[next].prev = prev;
        }
        self.slots[key].prev = NIL;
        self.slots[key].next = NIL;
        self.entry_mut(key).linked = false;
        self.linked -= 1;
    }

    fn entry(&self, key: WaiterKey) -> &Entry<S> {
        self.slots[key]
            .entry
            .as_ref()
            .expect("a waiter key is valid until its owner removes it")
    }

    fn entry_mut(&mut self, key: WaiterKey) -> &mut Entry<S> {
        self.slots[key]
            .entry
            .as_mut()
            .expect("a waiter key is valid until its owner removes it")
    }
}

/// Wakers collected under a primitive's mutex, woken after it is released so a
/// woken task never finds the mutex still held by the thread that woke it.
///
/// Holds one waker inline (the common single hand-off) and spills to a `Vec`.
#[derive(Debug, Default)]
pub(crate) struct WakeList {
    first: Option<Waker>,
    rest: Vec<Waker>,
}

impl WakeList {
    /// An empty list.
    pub(crate) const fn new() -> Self {
        Self {
            first: None,
            rest: Vec::new(),
        }
    }

    /// Adds a waker to wake later.
    pub(crate) fn push(&mut self, waker: Waker) {
        if self.first.is_none() {
            self.first = Some(waker);
        } else {
            self.rest.push(waker);
        }
    }

    /// Adds a waker if there is one.
    pub(crate) fn push_opt(&mut self, waker: Option<Waker>) {
        if let Some(waker) = waker {
            self.push(waker);
        }
    }

    /// Wakes every collected waker, in the order they were added.
    ///
    /// A waker that panics is contained: the others are still woken, and the
    /// panic goes no further (as a panicking done callback). The panic hook
    /// has reported it already.
    pub(crate) fn wake_all(self) {
        for waker in self.first.into_iter().chain(self.rest) {
            contain_panic(|| waker.wake());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker_of(count: Arc<Count>) -> Waker {
        Waker::from(count)
    }

    fn waker() -> Waker {
        Waker::noop().clone()
    }

    #[test]
    fn notifies_in_arrival_order() {
        let mut list = WaitList::new();
        let keys: Vec<_> = (0..3).map(|i| list.push_back(i, &waker())).collect();
        let mut order = Vec::new();
        while list.notify_front(|s| order.push(*s)).is_some() {}
        assert_eq!(order, vec![0, 1, 2]);
        assert!(list.is_empty());
        for key in keys {
            assert!(!list.is_linked(key));
            list.remove(key);
        }
    }

    #[test]
    fn removing_a_middle_waiter_keeps_the_order_of_the_rest() {
        let mut list = WaitList::new();
        let a = list.push_back('a', &waker());
        let b = list.push_back('b', &waker());
        let c = list.push_back('c', &waker());
        assert_eq!(list.remove(b), 'b');
        assert_eq!(list.len(), 2);
        let mut order = Vec::new();
        while list.notify_front(|s| order.push(*s)).is_some() {}
        assert_eq!(order, vec!['a', 'c']);
        list.remove(a);
        list.remove(c);
    }

    #[test]
    fn freed_slots_are_reused_without_growing() {
        let mut list = WaitList::new();
        for round in 0..100 {
            let a = list.push_back(round, &waker());
            let b = list.push_back(round, &waker());
            list.remove(a);
            list.notify_front(|_| {});
            list.remove(b);
        }
        assert_eq!(list.slots.len(), 2);
        assert!(list.is_empty());
    }

    #[test]
    fn registered_entries_are_kept_once_per_task_and_freed_when_notified() {
        let mut list = WaitList::new();
        let (a, b) = (waker_of(Arc::new(Count::default())), waker());
        list.register((), &a);
        list.register((), &a);
        list.register((), &b);
        assert_eq!(list.len(), 2);
        let mut wakers = WakeList::new();
        list.notify_all(|_| {}, &mut wakers);
        assert!(list.is_empty());
        list.register((), &a);
        assert_eq!(list.slots.len(), 2, "the freed slots are reused");
    }

    #[test]
    fn a_panicking_waker_does_not_keep_the_others_asleep() {
        struct Panics;
        impl Wake for Panics {
            fn wake(self: Arc<Self>) {
                panic!("a broken waker");
            }
        }
        let (before, after) = (Arc::new(Count::default()), Arc::new(Count::default()));
        let mut wakers = WakeList::new();
        wakers.push(waker_of(before.clone()));
        wakers.push(Waker::from(Arc::new(Panics)));
        wakers.push(waker_of(after.clone()));
        wakers.wake_all();
        assert_eq!(before.0.load(Ordering::SeqCst), 1);
        assert_eq!(after.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn notified_entries_keep_their_state_until_removed() {
        let mut list = WaitList::new();
        let a = list.push_back(0, &waker());
        let mut wakers = WakeList::new();
        list.notify_all(|s| *s = 7, &mut wakers);
        assert!(list.is_empty());
        list.for_each_state_mut(|s| *s += 1);
        assert_eq!(list.remove(a), 8);
    }
}
