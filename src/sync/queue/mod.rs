//! [`Queue`], [`PriorityQueue`] and [`LifoQueue`]: asyncio's queues, as one
//! [`GenericQueue`] with three [`Order`]s.
//!
//! # The protocol
//!
//! All state sits behind one mutex: the stored items, the queued getters and
//! putters ([`WaitList`]s), the count of unfinished items (for `join`) and the
//! shutdown flag. Two invariants keep the queue fair:
//!
//! - **Getters queue only on an empty store.** A put first *hands* its item to
//!   the oldest waiting getter (writes it into the getter's slot and wakes it);
//!   only when nobody waits is the item stored. So a later `get`/`get_nowait`
//!   can never take an item ahead of a getter that was already waiting.
//! - **Putters queue only on a full queue.** Whenever an item leaves the queue,
//!   the oldest waiting putters are *admitted*: a place is reserved for each
//!   until the queue is full again, and each is woken. A putter's item stays
//!   in its own future: it enters the queue only when the putter resumes and
//!   uses its place, so a put that is cancelled or times out never enqueues.
//!   A putter dropped before it used its place passes the place on to the
//!   next waiting putter (asyncio's "wake up the next in line").
//!
//! An item handed to a getter that has not resumed yet is *in flight*: it still
//! counts in [`qsize`](GenericQueue::qsize) (as in asyncio, where it stays in the
//! queue until the woken getter runs), so the queue never holds more than
//! `maxsize` items. If that getter is dropped (cancelled) first, the item goes to
//! the next waiting getter, or back into the store as the next item out: a
//! cancelled get never loses an item.
//!
//! A reserved place counts towards [`full`](GenericQueue::full) (so nobody
//! takes it from the putter it was given to) but not towards
//! [`qsize`](GenericQueue::qsize): the item is not in the queue yet.

mod error;
mod order;

use std::fmt;
use std::future::Future;
use std::mem;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

pub use self::error::{GetNowaitError, PutNowaitError, QueueShutDown, TaskDoneError};
pub use self::order::{Fifo, Lifo, Order, Priority};
use crate::loom::{Mutex, MutexGuard};
use crate::util::lock;
use crate::util::wait_list::{WaitList, WaiterKey, WakeList};

/// A first-in first-out queue for tasks, like `asyncio.Queue`.
///
/// See [`GenericQueue`] for every method.
///
/// # Examples
///
/// ```
/// use evloop::sync::Queue;
///
/// evloop::run(async {
///     let queue = Queue::new(0); // unbounded
///     queue.put(1).await.unwrap();
///     queue.put(2).await.unwrap();
///     assert_eq!(queue.get().await, Ok(1));
///     assert_eq!(queue.get().await, Ok(2));
/// });
/// ```
pub type Queue<T> = GenericQueue<T, Fifo>;

/// A queue that hands out the smallest item first, like `asyncio.PriorityQueue`.
///
/// See [`GenericQueue`] for every method.
///
/// # Examples
///
/// ```
/// use evloop::sync::PriorityQueue;
///
/// evloop::run(async {
///     let queue = PriorityQueue::new(0);
///     for priority in [3, 1, 2] {
///         queue.put(priority).await.unwrap();
///     }
///     assert_eq!(queue.get().await, Ok(1));
///     assert_eq!(queue.get().await, Ok(2));
///     assert_eq!(queue.get().await, Ok(3));
/// });
/// ```
pub type PriorityQueue<T> = GenericQueue<T, Priority>;

/// A last-in first-out queue (a stack), like `asyncio.LifoQueue`.
///
/// See [`GenericQueue`] for every method.
///
/// # Examples
///
/// ```
/// use evloop::sync::LifoQueue;
///
/// evloop::run(async {
///     let queue = LifoQueue::new(0);
///     queue.put('a').await.unwrap();
///     queue.put('b').await.unwrap();
///     assert_eq!(queue.get().await, Ok('b'));
/// });
/// ```
pub type LifoQueue<T> = GenericQueue<T, Lifo>;

/// The queue behind [`Queue`], [`PriorityQueue`] and [`LifoQueue`], with the
/// order of items given by `O`.
///
/// `maxsize` bounds the number of items; 0 means unbounded. [`put`](Self::put)
/// waits while the queue is full and [`get`](Self::get) while it is empty;
/// [`put_nowait`](Self::put_nowait) and [`get_nowait`](Self::get_nowait) fail
/// instead. Every item put counts as unfinished until a consumer calls
/// [`task_done`](Self::task_done) for it; [`join`](Self::join) waits until none
/// is left. [`shutdown`](Self::shutdown) closes the queue as in Python 3.13.
///
/// Getters are served first come first served, and so are putters: an item
/// goes to the getter that has waited longest, and room goes to the putter that
/// has waited longest. A `get` or `put` future dropped (cancelled) while waiting
/// loses nothing: an item already handed to a dropped getter goes to the next
/// getter or back to the head of the queue. A putter's item enters the queue
/// only when its `put` completes, as in asyncio, so a cancelled or timed-out
/// `put` never enqueues; room made for it goes to the next waiting putter.
///
/// A queue is a handle: [`Clone`] gives another handle to the same queue (an
/// `Arc` inside), which is how producers and consumers share it. It is
/// `Send + Sync` when `T: Send`.
///
/// Differences from asyncio:
/// - an item handed to a waiting getter that has not resumed yet is not
///   available to [`get_nowait`](Self::get_nowait) (it reports
///   [`GetNowaitError::Empty`] even though [`qsize`](Self::qsize) counts that
///   item); asyncio would let `get_nowait` take it from under the woken getter;
/// - room made for a waiting putter is kept for it until it resumes: until
///   then [`full`](Self::full) is true and [`put_nowait`](Self::put_nowait)
///   fails, though [`qsize`](Self::qsize) does not count that place yet
///   (asyncio lets `put_nowait` take the room from under the woken putter);
/// - errors give the item back: [`PutNowaitError`] and [`QueueShutDown`] carry
///   the item that was not put;
/// - `shutdown(true)` drops the items it removes (there is no `task_done` to
///   call for them, as in asyncio, and their count is taken off the unfinished
///   count).
///
/// # Examples
///
/// ```
/// use evloop::sync::Queue;
///
/// evloop::run(async {
///     let queue = Queue::new(2);
///     let consumer = evloop::spawn({
///         let queue = queue.clone();
///         async move {
///             let mut total = 0;
///             while let Ok(n) = queue.get().await {
///                 total += n;
///                 queue.task_done().unwrap();
///             }
///             total
///         }
///     });
///     for n in 1..=10 {
///         queue.put(n).await.unwrap(); // waits while 2 items are queued
///     }
///     queue.join().await; // all items processed
///     queue.shutdown(false);
///     assert_eq!(consumer.await.unwrap(), 55);
/// });
/// ```
pub struct GenericQueue<T, O: Order<T>> {
    shared: Arc<Shared<T, O>>,
}

struct Shared<T, O: Order<T>> {
    maxsize: usize,
    state: Mutex<QueueState<T, O>>,
}

struct QueueState<T, O: Order<T>> {
    items: O::Store,
    /// Items handed to getters that have not resumed yet.
    in_flight: usize,
    /// Places reserved for admitted putters that have not resumed yet.
    reserved: usize,
    /// Items put and not yet marked done with `task_done`.
    unfinished: usize,
    shut_down: bool,
    getters: WaitList<GetSlot<T>>,
    putters: WaitList<PutSlot>,
    /// "Notified" means "saw the unfinished count reach zero".
    joiners: WaitList<()>,
}

/// A waiting getter's slot.
enum GetSlot<T> {
    Waiting,
    /// An item was handed over.
    Delivered(T),
    /// Woken by shutdown: look at the queue again.
    Recheck,
}

/// A waiting putter's slot (its item stays in its future).
enum PutSlot {
    Waiting,
    /// A place in the queue is reserved for the item.
    Admitted,
    /// Woken by shutdown: the item comes back.
    Refused,
}

impl<T, O: Order<T>> QueueState<T, O> {
    fn qsize(&self) -> usize {
        O::len(&self.items) + self.in_flight
    }

    /// Whether a new item has no place, counting those reserved for
    /// admitted putters.
    fn is_full(&self, maxsize: usize) -> bool {
        maxsize > 0 && self.qsize() + self.reserved >= maxsize
    }

    /// Adds a newly put item: hands it to the oldest waiting getter, or stores it.
    fn put_item(&mut self, item: T, wakers: &mut WakeList) {
        self.unfinished += 1;
        if self.getters.is_empty() {
            O::push(&mut self.items, item);
        } else {
            self.deliver(item, wakers);
        }
    }

    /// Hands an item to the oldest waiting getter (there must be one).
    fn deliver(&mut self, item: T, wakers: &mut WakeList) {
        self.in_flight += 1;
        wakers.push_opt(
            self.getters
                .notify_front(move |slot| *slot = GetSlot::Delivered(item)),
        );
    }

    /// Takes the next stored item, making room for a waiting putter.
    fn take_item(&mut self, maxsize: usize, wakers: &mut WakeList) -> Option<T> {
        let item = O::pop(&mut self.items)?;
        self.admit_putters(maxsize, wakers);
        Some(item)
    }

    /// A getter resumed with its handed-over item: the item left the queue.
    fn finish_delivery(&mut self, maxsize: usize, wakers: &mut WakeList) {
        self.in_flight -= 1;
        self.admit_putters(maxsize, wakers);
    }

    /// Reserves a place for each of the oldest waiting putters while there
    /// is room, and wakes them to use it.
    fn admit_putters(&mut self, maxsize: usize, wakers: &mut WakeList) {
        while !self.putters.is_empty() && !self.is_full(maxsize) {
            self.reserved += 1;
            wakers.push_opt(self.putters.notify_front(|slot| *slot = PutSlot::Admitted));
        }
    }

    /// An admitted putter gave its place up: the next waiting putter gets it.
    fn release_place(&mut self, maxsize: usize, wakers: &mut WakeList) {
        self.reserved -= 1;
        self.admit_putters(maxsize, wakers);
    }

    /// Gives back an item whose getter was dropped before receiving it.
    fn return_undelivered(&mut self, item: T, wakers: &mut WakeList) {
        self.in_flight -= 1;
        if self.getters.is_empty() {
            O::push_next(&mut self.items, item);
        } else {
            self.deliver(item, wakers);
        }
    }

    fn mark_done(&mut self, wakers: &mut WakeList) -> Result<(), TaskDoneError> {
        if self.unfinished == 0 {
            return Err(TaskDoneError);
        }
        self.unfinished -= 1;
        if self.unfinished == 0 {
            self.joiners.notify_all(|_| {}, wakers);
        }
        Ok(())
    }
}

impl<T, O: Order<T>> GenericQueue<T, O> {
    /// Creates a queue holding at most `maxsize` items; 0 means unbounded
    /// (`asyncio.Queue(maxsize=0)`).
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::Queue;
    ///
    /// let bounded: Queue<String> = Queue::new(10);
    /// assert_eq!(bounded.maxsize(), 10);
    /// let unbounded: Queue<String> = Queue::new(0);
    /// assert!(!unbounded.full());
    /// ```
    pub fn new(maxsize: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                maxsize,
                state: Mutex::new(QueueState {
                    items: O::new_store(),
                    in_flight: 0,
                    reserved: 0,
                    unfinished: 0,
                    shut_down: false,
                    getters: WaitList::new(),
                    putters: WaitList::new(),
                    joiners: WaitList::new(),
                }),
            }),
        }
    }

    /// The most items the queue holds (0: unbounded).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(evloop::sync::Queue::<u8>::new(3).maxsize(), 3);
    /// ```
    pub fn maxsize(&self) -> usize {
        self.shared.maxsize
    }

    /// Number of items in the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = evloop::sync::Queue::new(0);
    /// queue.put_nowait('x').unwrap();
    /// assert_eq!(queue.qsize(), 1);
    /// ```
    pub fn qsize(&self) -> usize {
        self.state().qsize()
    }

    /// Whether the queue holds no items.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = evloop::sync::Queue::<u8>::new(0);
    /// assert!(queue.empty());
    /// ```
    pub fn empty(&self) -> bool {
        self.state().qsize() == 0
    }

    /// Whether the queue has no room for another item (never true when
    /// unbounded): it holds `maxsize` items, counting the places reserved for
    /// waiting putters that were given room but have not resumed yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = evloop::sync::Queue::new(1);
    /// queue.put_nowait(0).unwrap();
    /// assert!(queue.full());
    /// ```
    pub fn full(&self) -> bool {
        self.state().is_full(self.shared.maxsize)
    }

    /// Puts an item, waiting while the queue is full.
    ///
    /// Fails with [`QueueShutDown`], giving the item back, if the queue is shut
    /// down before the item could be put. The item enters the queue only when
    /// this future completes with `Ok`: dropping the future while it waits
    /// (a cancelled task, a timeout) never puts the item, and drops it; room
    /// that was made for it meanwhile goes to the next waiting putter.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let queue = evloop::sync::Queue::new(1);
    ///     queue.put("first").await.unwrap();
    ///     assert!(queue.full());
    /// });
    /// ```
    pub async fn put(&self, item: T) -> Result<(), QueueShutDown<T>> {
        Put {
            queue: self,
            item: Some(item),
            key: None,
        }
        .await
    }

    /// Removes and returns the next item, waiting while the queue is empty.
    ///
    /// Fails with [`QueueShutDown`] once the queue is shut down and has no items
    /// left. Dropping the future while it waits loses no item.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let queue = evloop::sync::Queue::new(0);
    ///     let getter = evloop::spawn({
    ///         let queue = queue.clone();
    ///         async move { queue.get().await }
    ///     });
    ///     queue.put(42).await.unwrap();
    ///     assert_eq!(getter.await.unwrap(), Ok(42));
    /// });
    /// ```
    pub async fn get(&self) -> Result<T, QueueShutDown> {
        Get {
            queue: self,
            key: None,
        }
        .await
    }

    /// Puts an item if there is room right now.
    ///
    /// Fails with [`PutNowaitError::Full`] (asyncio's `QueueFull`) or
    /// [`PutNowaitError::ShutDown`], giving the item back.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::{PutNowaitError, Queue};
    ///
    /// let queue = Queue::new(1);
    /// assert_eq!(queue.put_nowait(1), Ok(()));
    /// assert_eq!(queue.put_nowait(2), Err(PutNowaitError::Full(2)));
    /// ```
    pub fn put_nowait(&self, item: T) -> Result<(), PutNowaitError<T>> {
        let mut wakers = WakeList::new();
        {
            let mut state = self.state();
            if state.shut_down {
                return Err(PutNowaitError::ShutDown(item));
            }
            if state.is_full(self.shared.maxsize) {
                return Err(PutNowaitError::Full(item));
            }
            state.put_item(item, &mut wakers);
        }
        wakers.wake_all();
        Ok(())
    }

    /// Removes and returns the next item if one is available right now.
    ///
    /// Fails with [`GetNowaitError::Empty`] (asyncio's `QueueEmpty`), or with
    /// [`GetNowaitError::ShutDown`] once the queue is shut down and drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::{GetNowaitError, Queue};
    ///
    /// let queue = Queue::new(0);
    /// queue.put_nowait("a").unwrap();
    /// assert_eq!(queue.get_nowait(), Ok("a"));
    /// assert_eq!(queue.get_nowait(), Err(GetNowaitError::Empty));
    /// ```
    pub fn get_nowait(&self) -> Result<T, GetNowaitError> {
        let mut wakers = WakeList::new();
        let result = {
            let mut state = self.state();
            match state.take_item(self.shared.maxsize, &mut wakers) {
                Some(item) => Ok(item),
                None if state.shut_down => Err(GetNowaitError::ShutDown),
                None => Err(GetNowaitError::Empty),
            }
        };
        wakers.wake_all();
        result
    }

    /// Marks one item that was taken from the queue as processed
    /// (`Queue.task_done()`); when every item put is done, [`join`](Self::join)
    /// returns.
    ///
    /// Fails with [`TaskDoneError`] when called more times than items were put.
    ///
    /// # Examples
    ///
    /// ```
    /// let queue = evloop::sync::Queue::new(0);
    /// queue.put_nowait(1).unwrap();
    /// let _ = queue.get_nowait();
    /// assert!(queue.task_done().is_ok());
    /// assert!(queue.task_done().is_err());
    /// ```
    pub fn task_done(&self) -> Result<(), TaskDoneError> {
        let mut wakers = WakeList::new();
        let result = self.state().mark_done(&mut wakers);
        wakers.wake_all();
        result
    }

    /// Waits until every item put has been marked done with
    /// [`task_done`](Self::task_done); returns at once if none is pending.
    ///
    /// # Examples
    ///
    /// ```
    /// evloop::run(async {
    ///     let queue = evloop::sync::Queue::new(0);
    ///     queue.join().await; // nothing was put
    ///     queue.put_nowait(()).unwrap();
    ///     queue.get().await.unwrap();
    ///     queue.task_done().unwrap();
    ///     queue.join().await;
    /// });
    /// ```
    pub async fn join(&self) {
        Join {
            queue: self,
            key: None,
        }
        .await
    }

    /// Shuts the queue down (Python 3.13's `Queue.shutdown`).
    ///
    /// From now on, `put` and `put_nowait` fail with a shut-down error (waiting
    /// putters too, getting their items back). `get` and `get_nowait` keep
    /// returning the items left, then fail with a shut-down error (waiting
    /// getters wake up and fail).
    ///
    /// With `immediate == true` the items left are removed first (and dropped),
    /// each taken off the unfinished count, so `get` fails at once and `join`
    /// returns unless items already taken are still being processed.
    ///
    /// # Examples
    ///
    /// ```
    /// use evloop::sync::{GetNowaitError, Queue};
    ///
    /// let queue = Queue::new(0);
    /// queue.put_nowait(1).unwrap();
    /// queue.shutdown(false);
    /// assert_eq!(queue.get_nowait(), Ok(1)); // drains what is left
    /// assert_eq!(queue.get_nowait(), Err(GetNowaitError::ShutDown));
    /// ```
    pub fn shutdown(&self, immediate: bool) {
        let mut wakers = WakeList::new();
        let mut removed = Vec::new();
        {
            let mut state = self.state();
            let state = &mut *state;
            state.shut_down = true;
            if immediate {
                while let Some(item) = O::pop(&mut state.items) {
                    removed.push(item);
                }
                // Items handed to getters that have not resumed are still in the
                // queue: take them back too.
                state.getters.for_each_state_mut(|slot| {
                    if let GetSlot::Delivered(item) = mem::replace(slot, GetSlot::Recheck) {
                        removed.push(item);
                    }
                });
                state.in_flight = 0;
                state.unfinished = state.unfinished.saturating_sub(removed.len());
                if state.unfinished == 0 {
                    state.joiners.notify_all(|_| {}, &mut wakers);
                }
            }
            state
                .getters
                .notify_all(|slot| *slot = GetSlot::Recheck, &mut wakers);
            state
                .putters
                .notify_all(|slot| *slot = PutSlot::Refused, &mut wakers);
        }
        wakers.wake_all();
        drop(removed);
    }

    fn state(&self) -> MutexGuard<'_, QueueState<T, O>> {
        lock(&self.shared.state)
    }
}

impl<T, O: Order<T>> Clone for GenericQueue<T, O> {
    fn clone(&self) -> Self {
        Self {
            shared: Arc::clone(&self.shared),
        }
    }
}

impl<T, O: Order<T>> fmt::Debug for GenericQueue<T, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.state();
        f.debug_struct("Queue")
            .field("maxsize", &self.shared.maxsize)
            .field("qsize", &state.qsize())
            .field("unfinished", &state.unfinished)
            .field("getters", &state.getters.len())
            .field("putters", &state.putters.len())
            .field("shut_down", &state.shut_down)
            .finish()
    }
}

/// Future of [`GenericQueue::put`].
struct Put<'a, T, O: Order<T>> {
    queue: &'a GenericQueue<T, O>,
    /// The item until it is put (or given back).
    item: Option<T>,
    key: Option<WaiterKey>,
}

impl<T, O: Order<T>> Unpin for Put<'_, T, O> {}

impl<T, O: Order<T>> Future for Put<'_, T, O> {
    type Output = Result<(), QueueShutDown<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let maxsize = this.queue.shared.maxsize;
        let mut wakers = WakeList::new();
        let mut state = this.queue.state();
        let result = match this.key {
            None => {
                let Some(item) = this.item.take() else {
                    panic!("`Put` polled after completion");
                };
                if state.shut_down {
                    Err(QueueShutDown(item))
                } else if state.is_full(maxsize) {
                    this.item = Some(item);
                    this.key = Some(state.putters.push_back(PutSlot::Waiting, cx.waker()));
                    return Poll::Pending;
                } else {
                    state.put_item(item, &mut wakers);
                    Ok(())
                }
            }
            Some(key) if state.putters.is_linked(key) => {
                state.putters.update_waker(key, cx.waker());
                return Poll::Pending;
            }
            Some(key) => {
                this.key = None;
                let item = this.item.take().expect("a waiting putter holds its item");
                match state.putters.remove(key) {
                    PutSlot::Admitted if !state.shut_down => {
                        // Use the reserved place.
                        state.reserved -= 1;
                        state.put_item(item, &mut wakers);
                        Ok(())
                    }
                    PutSlot::Admitted => {
                        state.release_place(maxsize, &mut wakers);
                        Err(QueueShutDown(item))
                    }
                    PutSlot::Refused | PutSlot::Waiting => Err(QueueShutDown(item)),
                }
            }
        };
        drop(state);
        wakers.wake_all();
        Poll::Ready(result)
    }
}

impl<T, O: Order<T>> Drop for Put<'_, T, O> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut wakers = WakeList::new();
        {
            let mut state = self.queue.state();
            if let PutSlot::Admitted = state.putters.remove(key) {
                // Woken with a place it did not live to use: pass it on.
                let maxsize = self.queue.shared.maxsize;
                state.release_place(maxsize, &mut wakers);
            }
        }
        wakers.wake_all();
        // The item, never put, is dropped with the future, outside the mutex.
    }
}

/// Future of [`GenericQueue::get`].
struct Get<'a, T, O: Order<T>> {
    queue: &'a GenericQueue<T, O>,
    key: Option<WaiterKey>,
}

impl<T, O: Order<T>> Future for Get<'_, T, O> {
    type Output = Result<T, QueueShutDown>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let maxsize = this.queue.shared.maxsize;
        let mut wakers = WakeList::new();
        let mut state = this.queue.state();
        if let Some(key) = this.key {
            if state.getters.is_linked(key) {
                state.getters.update_waker(key, cx.waker());
                return Poll::Pending;
            }
            this.key = None;
            if let GetSlot::Delivered(item) = state.getters.remove(key) {
                state.finish_delivery(maxsize, &mut wakers);
                drop(state);
                wakers.wake_all();
                return Poll::Ready(Ok(item));
            }
            // Woken by shutdown: look at the queue again below.
        }
        let result = match state.take_item(maxsize, &mut wakers) {
            Some(item) => Ok(item),
            None if state.shut_down => Err(QueueShutDown(())),
            None => {
                this.key = Some(state.getters.push_back(GetSlot::Waiting, cx.waker()));
                return Poll::Pending;
            }
        };
        drop(state);
        wakers.wake_all();
        Poll::Ready(result)
    }
}

impl<T, O: Order<T>> Drop for Get<'_, T, O> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let mut wakers = WakeList::new();
        {
            let mut state = self.queue.state();
            if let GetSlot::Delivered(item) = state.getters.remove(key) {
                state.return_undelivered(item, &mut wakers);
            }
        }
        wakers.wake_all();
    }
}

/// Future of [`GenericQueue::join`].
struct Join<'a, T, O: Order<T>> {
    queue: &'a GenericQueue<T, O>,
    key: Option<WaiterKey>,
}

impl<T, O: Order<T>> Future for Join<'_, T, O> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = this.queue.state();
        match this.key {
            None if state.unfinished == 0 => Poll::Ready(()),
            None => {
                this.key = Some(state.joiners.push_back((), cx.waker()));
                Poll::Pending
            }
            Some(_) => state.joiners.poll_queued(&mut this.key, cx.waker()),
        }
    }
}

impl<T, O: Order<T>> Drop for Join<'_, T, O> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.queue.state().joiners.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sync::test_util::{Probe, block_on};

    #[test]
    fn put_wakes_only_the_getter_it_hands_the_item_to() {
        let queue = Queue::new(0);
        let mut first = Probe::new(queue.get());
        let mut second = Probe::new(queue.get());
        first.pending();
        second.pending();
        queue.put_nowait(1).unwrap();
        assert!(first.woken());
        assert!(!second.woken());
        assert_eq!(first.ready(), Ok(1));
        second.pending();
    }

    #[test]
    fn taking_an_item_wakes_the_putter_whose_item_was_admitted() {
        let queue = Queue::new(1);
        queue.put_nowait(0).unwrap();
        let mut first = Probe::new(queue.put(1));
        let mut second = Probe::new(queue.put(2));
        first.pending();
        second.pending();
        assert_eq!(queue.get_nowait(), Ok(0));
        assert!(first.woken());
        assert!(!second.woken());
        assert_eq!(first.ready(), Ok(()));
        second.pending();
    }

    #[test]
    fn a_handed_item_counts_in_qsize_until_its_getter_resumes() {
        let queue = Queue::new(1);
        let mut getter = Probe::new(queue.get());
        getter.pending();
        queue.put_nowait('a').unwrap();
        assert_eq!(queue.qsize(), 1);
        assert!(queue.full());
        assert!(queue.put_nowait('b').unwrap_err().is_full());
        assert_eq!(getter.ready(), Ok('a'));
        assert!(queue.empty());
    }

    #[test]
    fn task_done_wakes_every_joiner() {
        let queue = Queue::new(0);
        queue.put_nowait(()).unwrap();
        let mut joiners: Vec<_> = (0..3).map(|_| Probe::new(queue.join())).collect();
        for joiner in &mut joiners {
            joiner.pending();
        }
        queue.get_nowait().unwrap();
        queue.task_done().unwrap();
        for joiner in &mut joiners {
            assert!(joiner.woken());
            joiner.ready();
        }
    }

    #[test]
    fn plain_threads_can_share_a_bounded_queue() {
        let queue = Queue::new(4);
        let producer = std::thread::spawn({
            let queue = queue.clone();
            move || {
                for n in 0..1_000u32 {
                    block_on(queue.put(n)).unwrap();
                }
                queue.shutdown(false);
            }
        });
        let mut received = Vec::new();
        while let Ok(n) = block_on(queue.get()) {
            received.push(n);
        }
        producer.join().unwrap();
        assert_eq!(received, (0..1_000).collect::<Vec<_>>());
    }
}
