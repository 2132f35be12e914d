//! The run queues: each worker's local queue (a deque others can steal half
//! of) and the global injector for work from outside the workers.
//!
//! Normally these are crossbeam-deque's `Worker`, `Stealer` and `Injector`.
//! crossbeam's atomics are invisible to loom, so under `cfg(loom)` the same
//! API is implemented by a model of crossbeam's algorithms on loom atomics,
//! with crossbeam's memory orderings (a push to a local queue is only
//! Release), letting the models explore every interleaving and every stale
//! read around a push, pop or steal.
//!
//! The model is the only `unsafe` here: its ring of slots is a loom
//! `UnsafeCell` per slot (so loom checks every access for a data race), and
//! reading or writing a slot, and sharing the ring between threads, rest on
//! the algorithm's own ownership rules, written beside each block.

#[cfg(not(loom))]
mod imp {
    use crossbeam_deque::{Injector as CbInjector, Steal, Stealer as CbStealer, Worker};

    fn retry<T>(mut steal: impl FnMut() -> Steal<T>) -> Option<T> {
        loop {
            match steal() {
                Steal::Success(item) => return Some(item),
                Steal::Empty => return None,
                Steal::Retry => std::hint::spin_loop(),
            }
        }
    }

    /// A worker's own FIFO queue.
    pub(crate) struct LocalQueue<T>(Worker<T>);

    /// The handle other workers steal from a local queue with.
    pub(crate) struct Stealer<T>(CbStealer<T>);

    /// The global FIFO queue.
    pub(crate) struct Injector<T>(CbInjector<T>);

    impl<T> LocalQueue<T> {
        pub(crate) fn new() -> LocalQueue<T> {
            LocalQueue(Worker::new_fifo())
        }
        pub(crate) fn stealer(&self) -> Stealer<T> {
            Stealer(self.0.stealer())
        }
        pub(crate) fn push(&self, item: T) {
            self.0.push(item);
        }
        pub(crate) fn pop(&self) -> Option<T> {
            self.0.pop()
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
    }

    impl<T> Stealer<T> {
        /// Moves about half of the victim's items into `dest` and pops one.
        pub(crate) fn steal_half_into(&self, dest: &LocalQueue<T>) -> Option<T> {
            retry(|| self.0.steal_batch_and_pop(&dest.0))
        }
        pub(crate) fn steal(&self) -> Option<T> {
            retry(|| self.0.steal())
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }

    impl<T> Injector<T> {
        pub(crate) fn new() -> Injector<T> {
            Injector(CbInjector::new())
        }
        pub(crate) fn push(&self, item: T) {
            self.0.push(item);
        }
        /// Moves a batch into `dest` and pops one of it.
        pub(crate) fn steal_batch_into(&self, dest: &LocalQueue<T>) -> Option<T> {
            retry(|| self.0.steal_batch_and_pop(&dest.0))
        }
        pub(crate) fn steal(&self) -> Option<T> {
            retry(|| self.0.steal())
        }
        pub(crate) fn is_empty(&self) -> bool {
            self.0.is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }
    }
}

#[cfg(loom)]
mod imp {
    //! A model of crossbeam-deque's algorithms on loom atomics, with
    //! crossbeam's orderings, so that the models check what the real queues
    //! promise and nothing more:
    //!
    //! - A local queue is a Chase-Lev deque used FIFO: `push` writes its slot,
    //!   issues a Release fence and stores `back` Relaxed (no SeqCst: a
    //!   producer's later read of the idle word needs the fence in
    //!   `Idle::worker_to_notify`); the owner's `pop` claims `front` with a
    //!   SeqCst `fetch_add`; a thief loads `front` (Acquire), issues the
    //!   SeqCst fence that crossbeam's epoch pin issues, loads `back`
    //!   (Acquire) and claims with a SeqCst compare-exchange of `front`.
    //!   `is_empty` is the thief's load-fence-load, or the owner's Relaxed
    //!   `back` and SeqCst `front`.
    //! - The injector claims a slot with a SeqCst read-modify-write of
    //!   `tail`, then writes it and sets its WRITE flag (Release); a thief
    //!   loads `head` (Acquire), issues a SeqCst fence, loads `tail`
    //!   (Relaxed), claims with a SeqCst compare-exchange of `head` and waits
    //!   for the WRITE flag (Acquire). `is_empty` loads both indices SeqCst.
    //!
    //! Two simplifications, neither of which orders anything: the buffers
    //! never wrap or grow (each queue takes at most `CAPACITY` items over an
    //! execution, which the models stay well within), and a thief reads a
    //! slot after its claim succeeded instead of reading it speculatively
    //! and forgetting the copy when the claim fails.

    use crate::loom::{Arc, AtomicBool, AtomicUsize, Ordering, UnsafeCell, fence, thread};

    /// How many items one queue can take over one execution of a model.
    const CAPACITY: usize = 16;

    /// crossbeam's bound on the items one batch steal moves.
    const MAX_BATCH: usize = 32;

    /// Slots indexed by the queue's absolute positions; each position is
    /// written once (by whoever pushed it) and taken once (by whoever
    /// claimed it through the queue's indices).
    struct Slots<T>(Box<[UnsafeCell<Option<T>>]>);

    // SAFETY: the slots hand items from the thread that pushed them to the
    // one thread whose claim took them (`write`, `take`), like crossbeam's
    // buffers; loom checks each such handoff for a happens-before edge.
    unsafe impl<T: Send> Send for Slots<T> {}
    // SAFETY: as above.
    unsafe impl<T: Send> Sync for Slots<T> {}

    impl<T> Slots<T> {
        fn new() -> Slots<T> {
            Slots((0..CAPACITY).map(|_| UnsafeCell::new(None)).collect())
        }

        fn slot(&self, index: usize) -> &UnsafeCell<Option<T>> {
            self.0.get(index).unwrap_or_else(|| {
                panic!("a loom model pushed more than {CAPACITY} items through one run queue")
            })
        }

        /// Fills the slot at `index`; the caller has just claimed it as the
        /// queue's next free position.
        fn write(&self, index: usize, item: T) {
            // SAFETY: positions are never reused, and only the pusher that
            // claimed this one writes it; loom checks that every later read
            // happens after this write.
            let previous = self
                .slot(index)
                .with_mut(|slot| unsafe { (*slot).replace(item) });
            debug_assert!(previous.is_none(), "run queue slot written twice");
        }

        /// Empties the slot at `index`; the caller's claim on it succeeded.
        fn take(&self, index: usize) -> T {
            // SAFETY: the claim (an atomic read-modify-write of the queue's
            // front or head) gives this position to exactly one taker; loom
            // checks that the push's write happens before this access.
            self.slot(index)
                .with_mut(|slot| unsafe { (*slot).take() })
                .expect("a claimed run queue slot holds an item")
        }
    }

    /// Whether `back - front` (wrapping) counts no items.
    fn empty(front: usize, back: usize) -> bool {
        (back.wrapping_sub(front) as isize) <= 0
    }

    struct Deque<T> {
        front: AtomicUsize,
        back: AtomicUsize,
        slots: Slots<T>,
    }

    /// A worker's own FIFO queue.
    pub(crate) struct LocalQueue<T>(Arc<Deque<T>>);

    /// The handle other workers steal from a local queue with.
    pub(crate) struct Stealer<T>(Arc<Deque<T>>);

    /// The global FIFO queue.
    pub(crate) struct Injector<T> {
        head: AtomicUsize,
        tail: AtomicUsize,
        written: Box<[AtomicBool]>,
        slots: Slots<T>,
    }

    impl<T> LocalQueue<T> {
        pub(crate) fn new() -> LocalQueue<T> {
            LocalQueue(Arc::new(Deque {
                front: AtomicUsize::new(0),
                back: AtomicUsize::new(0),
                slots: Slots::new(),
            }))
        }

        pub(crate) fn stealer(&self) -> Stealer<T> {
            Stealer(self.0.clone())
        }

        pub(crate) fn push(&self, item: T) {
            let deque = &*self.0;
            let back = deque.back.load(Ordering::Relaxed);
            // crossbeam reads `front` to decide whether to grow the buffer.
            let _ = deque.front.load(Ordering::Acquire);
            deque.slots.write(back, item);
            self.publish(back.wrapping_add(1));
        }

        /// Makes the items written below `back` visible to thieves.
        fn publish(&self, back: usize) {
            fence(Ordering::Release);
            self.0.back.store(back, Ordering::Relaxed);
        }

        pub(crate) fn pop(&self) -> Option<T> {
            let deque = &*self.0;
            let back = deque.back.load(Ordering::Relaxed);
            if empty(deque.front.load(Ordering::Relaxed), back) {
                return None;
            }
            let front = deque.front.fetch_add(1, Ordering::SeqCst);
            if (back.wrapping_sub(front.wrapping_add(1)) as isize) < 0 {
                // A thief took the last item first: undo.
                deque.front.store(front, Ordering::Relaxed);
                return None;
            }
            Some(deque.slots.take(front))
        }

        pub(crate) fn is_empty(&self) -> bool {
            let back = self.0.back.load(Ordering::Relaxed);
            let front = self.0.front.load(Ordering::SeqCst);
            empty(front, back)
        }
    }

    impl<T> Stealer<T> {
        /// Reads the indices as a thief does: `(front, back)`.
        fn indices(&self) -> (usize, usize) {
            let front = self.0.front.load(Ordering::Acquire);
            fence(Ordering::SeqCst);
            let back = self.0.back.load(Ordering::Acquire);
            (front, back)
        }

        /// Moves about half of the victim's items into `dest` and pops one.
        pub(crate) fn steal_half_into(&self, dest: &LocalQueue<T>) -> Option<T> {
            let deque = &*self.0;
            loop {
                let (front, back) = self.indices();
                if empty(front, back) {
                    return None;
                }
                let len = back.wrapping_sub(front);
                let batch = ((len - 1) / 2).min(MAX_BATCH - 1);
                if deque
                    .front
                    .compare_exchange(
                        front,
                        front.wrapping_add(batch + 1),
                        Ordering::SeqCst,
                        Ordering::Relaxed,
                    )
                    .is_err()
                {
                    continue;
                }
                let first = deque.slots.take(front);
                let dest_back = dest.0.back.load(Ordering::Relaxed);
                for i in 0..batch {
                    let item = deque.slots.take(front.wrapping_add(i + 1));
                    dest.0.slots.write(dest_back.wrapping_add(i), item);
                }
                dest.publish(dest_back.wrapping_add(batch));
                return Some(first);
            }
        }

        pub(crate) fn steal(&self) -> Option<T> {
            let deque = &*self.0;
            loop {
                let (front, back) = self.indices();
                if empty(front, back) {
                    return None;
                }
                if deque
                    .front
                    .compare_exchange(
                        front,
                        front.wrapping_add(1),
                        Ordering::SeqCst,
                        Ordering::Relaxed,
                    )
                    .is_ok()
                {
                    return Some(deque.slots.take(front));
                }
            }
        }

        pub(crate) fn is_empty(&self) -> bool {
            let (front, back) = self.indices();
            empty(front, back)
        }
        pub(crate) fn len(&self) -> usize {
            let (front, back) = self.indices();
            (back.wrapping_sub(front) as isize).max(0) as usize
        }
    }

    impl<T> Injector<T> {
        pub(crate) fn new() -> Injector<T> {
            Injector {
                head: AtomicUsize::new(0),
                tail: AtomicUsize::new(0),
                written: (0..CAPACITY).map(|_| AtomicBool::new(false)).collect(),
                slots: Slots::new(),
            }
        }

        pub(crate) fn push(&self, item: T) {
            let tail = self.tail.fetch_add(1, Ordering::SeqCst);
            self.slots.write(tail, item);
            self.written[tail].store(true, Ordering::Release);
        }

        /// Reads the indices as a thief does: `(head, tail)`.
        fn indices(&self) -> (usize, usize) {
            let head = self.head.load(Ordering::Acquire);
            fence(Ordering::SeqCst);
            let tail = self.tail.load(Ordering::Relaxed);
            (head, tail)
        }

        /// Takes a claimed slot, waiting for its pusher to finish writing it.
        fn take(&self, index: usize) -> T {
            while !self.written[index].load(Ordering::Acquire) {
                thread::yield_now();
            }
            self.slots.take(index)
        }

        /// Moves a batch into `dest` and pops one of it.
        pub(crate) fn steal_batch_into(&self, dest: &LocalQueue<T>) -> Option<T> {
            loop {
                let (head, tail) = self.indices();
                if empty(head, tail) {
                    return None;
                }
                let advance = (tail.wrapping_sub(head).div_ceil(2)).min(MAX_BATCH);
                if self
                    .head
                    .compare_exchange(
                        head,
                        head.wrapping_add(advance),
                        Ordering::SeqCst,
                        Ordering::Acquire,
                    )
                    .is_err()
                {
                    continue;
                }
                let first = self.take(head);
                let dest_back = dest.0.back.load(Ordering::Relaxed);
                for i in 1..advance {
                    let item = self.take(head.wrapping_add(i));
                    dest.0.slots.write(dest_back.wrapping_add(i - 1), item);
                }
                dest.publish(dest_back.wrapping_add(advance - 1));
                return Some(first);
            }
        }

        pub(crate) fn steal(&self) -> Option<T> {
            loop {
                let (head, tail) = self.indices();
                if empty(head, tail) {
                    return None;
                }
                if self
                    .head
                    .compare_exchange(
                        head,
                        head.wrapping_add(1),
                        Ordering::SeqCst,
                        Ordering::Acquire,
                    )
                    .is_ok()
                {
                    return Some(self.take(head));
                }
            }
        }

        pub(crate) fn is_empty(&self) -> bool {
            let head = self.head.load(Ordering::SeqCst);
            let tail = self.tail.load(Ordering::SeqCst);
            empty(head, tail)
        }
        pub(crate) fn len(&self) -> usize {
            let head = self.head.load(Ordering::SeqCst);
            let tail = self.tail.load(Ordering::SeqCst);
            tail.saturating_sub(head)
        }
    }
}

pub(crate) use imp::{Injector, LocalQueue, Stealer};
