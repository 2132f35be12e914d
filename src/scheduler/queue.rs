//! The run queues: each worker's local queue (a deque others can steal half
//! of) and the global injector for work from outside the workers.
//!
//! Normally these are crossbeam-deque's `Worker`, `Stealer` and `Injector`.
//! crossbeam's atomics are invisible to loom, so under `cfg(loom)` the same
//! API is implemented with a loom `Mutex<VecDeque>`, letting the models
//! explore every interleaving around a push, pop or steal.

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
    use std::collections::VecDeque;

    use crate::loom::{Arc, Mutex};
    use crate::util::lock;

    /// A worker's own FIFO queue.
    pub(crate) struct LocalQueue<T>(Arc<Mutex<VecDeque<T>>>);

    /// The handle other workers steal from a local queue with.
    pub(crate) struct Stealer<T>(Arc<Mutex<VecDeque<T>>>);

    /// The global FIFO queue.
    pub(crate) struct Injector<T>(Mutex<VecDeque<T>>);

    impl<T> LocalQueue<T> {
        pub(crate) fn new() -> LocalQueue<T> {
            LocalQueue(Arc::new(Mutex::new(VecDeque::new())))
        }
        pub(crate) fn stealer(&self) -> Stealer<T> {
            Stealer(self.0.clone())
        }
        pub(crate) fn push(&self, item: T) {
            lock(&self.0).push_back(item);
        }
        pub(crate) fn pop(&self) -> Option<T> {
            lock(&self.0).pop_front()
        }
        pub(crate) fn is_empty(&self) -> bool {
            lock(&self.0).is_empty()
        }
    }

    /// Moves up to `limit(len)` items from the front of `source` into
    /// `dest` and pops the first of them, taking one lock at a time.
    fn move_batch<T>(
        source: &Mutex<VecDeque<T>>,
        dest: &LocalQueue<T>,
        limit: impl FnOnce(usize) -> usize,
    ) -> Option<T> {
        let mut batch: VecDeque<T> = {
            let mut source = lock(source);
            let take = limit(source.len());
            source.drain(..take).collect()
        };
        let first = batch.pop_front();
        lock(&dest.0).extend(batch);
        first
    }

    impl<T> Stealer<T> {
        pub(crate) fn steal_half_into(&self, dest: &LocalQueue<T>) -> Option<T> {
            move_batch(&self.0, dest, |len| len.div_ceil(2))
        }
        pub(crate) fn steal(&self) -> Option<T> {
            lock(&self.0).pop_front()
        }
        pub(crate) fn is_empty(&self) -> bool {
            lock(&self.0).is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            lock(&self.0).len()
        }
    }

    impl<T> Injector<T> {
        pub(crate) fn new() -> Injector<T> {
            Injector(Mutex::new(VecDeque::new()))
        }
        pub(crate) fn push(&self, item: T) {
            lock(&self.0).push_back(item);
        }
        pub(crate) fn steal_batch_into(&self, dest: &LocalQueue<T>) -> Option<T> {
            move_batch(&self.0, dest, |len| len.div_ceil(2).min(4))
        }
        pub(crate) fn steal(&self) -> Option<T> {
            lock(&self.0).pop_front()
        }
        pub(crate) fn is_empty(&self) -> bool {
            lock(&self.0).is_empty()
        }
        pub(crate) fn len(&self) -> usize {
            lock(&self.0).len()
        }
    }
}

pub(crate) use imp::{Injector, LocalQueue, Stealer};
