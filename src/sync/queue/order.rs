//! The three orders a queue can hand items out in: FIFO (`Queue`), LIFO
//! (`LifoQueue`) and smallest first (`PriorityQueue`).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

mod sealed {
    pub trait Sealed {}
}

/// How a [`GenericQueue`](super::GenericQueue) stores its items and which one
/// comes out next. Implemented by [`Fifo`], [`Lifo`] and [`Priority`] only.
///
/// # Examples
///
/// ```
/// use evloop::sync::{GenericQueue, Lifo};
///
/// // `LifoQueue<T>` is this type under a shorter name.
/// let stack: GenericQueue<u8, Lifo> = GenericQueue::new(0);
/// stack.put_nowait(1).unwrap();
/// stack.put_nowait(2).unwrap();
/// assert_eq!(stack.get_nowait(), Ok(2));
/// ```
pub trait Order<T>: sealed::Sealed {
    /// The container of the items waiting in the queue.
    type Store;

    /// An empty container.
    fn new_store() -> Self::Store;

    /// Number of items in the container.
    fn len(store: &Self::Store) -> usize;

    /// Adds an item that was put.
    fn push(store: &mut Self::Store, item: T);

    /// Removes the item that comes out next.
    fn pop(store: &mut Self::Store) -> Option<T>;

    /// Puts back an item that was taken out but never reached its getter, so
    /// that it is the next one out again.
    fn push_next(store: &mut Self::Store, item: T);
}

/// First in, first out: the order of [`Queue`](super::Queue).
///
/// # Examples
///
/// ```
/// use evloop::sync::{Fifo, GenericQueue, Queue};
///
/// let queue: Queue<u8> = GenericQueue::<u8, Fifo>::new(0);
/// queue.put_nowait(1).unwrap();
/// queue.put_nowait(2).unwrap();
/// assert_eq!(queue.get_nowait(), Ok(1));
/// ```
#[derive(Debug)]
pub enum Fifo {}

/// Last in, first out: the order of [`LifoQueue`](super::LifoQueue).
///
/// # Examples
///
/// ```
/// let queue = evloop::sync::LifoQueue::new(0);
/// queue.put_nowait('a').unwrap();
/// queue.put_nowait('b').unwrap();
/// assert_eq!(queue.get_nowait(), Ok('b'));
/// ```
#[derive(Debug)]
pub enum Lifo {}

/// Smallest first (like `heapq`): the order of
/// [`PriorityQueue`](super::PriorityQueue). Items that compare equal come out in
/// no particular order; put `(priority, sequence, item)` tuples for a stable
/// order, as in Python.
///
/// # Examples
///
/// ```
/// let queue = evloop::sync::PriorityQueue::new(0);
/// queue.put_nowait((2, "b")).unwrap();
/// queue.put_nowait((1, "a")).unwrap();
/// assert_eq!(queue.get_nowait(), Ok((1, "a")));
/// ```
#[derive(Debug)]
pub enum Priority {}

impl sealed::Sealed for Fifo {}
impl sealed::Sealed for Lifo {}
impl sealed::Sealed for Priority {}

impl<T> Order<T> for Fifo {
    type Store = VecDeque<T>;

    fn new_store() -> Self::Store {
        VecDeque::new()
    }

    fn len(store: &Self::Store) -> usize {
        store.len()
    }

    fn push(store: &mut Self::Store, item: T) {
        store.push_back(item);
    }

    fn pop(store: &mut Self::Store) -> Option<T> {
        store.pop_front()
    }

    fn push_next(store: &mut Self::Store, item: T) {
        store.push_front(item);
    }
}

impl<T> Order<T> for Lifo {
    type Store = Vec<T>;

    fn new_store() -> Self::Store {
        Vec::new()
    }

    fn len(store: &Self::Store) -> usize {
        store.len()
    }

    fn push(store: &mut Self::Store, item: T) {
        store.push(item);
    }

    fn pop(store: &mut Self::Store) -> Option<T> {
        store.pop()
    }

    fn push_next(store: &mut Self::Store, item: T) {
        store.push(item);
    }
}

impl<T: Ord> Order<T> for Priority {
    type Store = BinaryHeap<Reverse<T>>;

    fn new_store() -> Self::Store {
        BinaryHeap::new()
    }

    fn len(store: &Self::Store) -> usize {
        store.len()
    }

    fn push(store: &mut Self::Store, item: T) {
        store.push(Reverse(item));
    }

    fn pop(store: &mut Self::Store) -> Option<T> {
        store.pop().map(|Reverse(item)| item)
    }

    fn push_next(store: &mut Self::Store, item: T) {
        store.push(Reverse(item));
    }
}
