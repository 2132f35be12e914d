//! asyncio's synchronization primitives and queues, for tasks on any worker.
//!
//! | asyncio                               | evloop::sync                                   |
//! |---------------------------------------|------------------------------------------------|
//! | `Lock()`, `async with lock:`          | [`Lock::new`], `let _g = lock.lock().await;`   |
//! | `lock.locked()`                       | [`Lock::locked`], [`Lock::try_lock`]           |
//! | `Event()`, `set/clear/is_set/wait`    | [`Event`]                                      |
//! | `Condition(lock)`, `async with cond:` | [`Condition::with_lock`], [`Condition::acquire`] |
//! | `cond.wait()`, `cond.wait_for(pred)`  | `cond.wait(guard)`, `cond.wait_for(guard, pred)` |
//! | `cond.notify(n)`, `notify_all()`      | [`Condition::notify`], [`Condition::notify_all`] |
//! | `Semaphore(n)`, `async with sem:`     | [`Semaphore::new`], `let _p = sem.acquire().await;` |
//! | `BoundedSemaphore(n)`                 | [`BoundedSemaphore`]; over-release is [`OverReleaseError`] |
//! | `Barrier(n)`, `wait/abort/reset`      | [`Barrier`]; `BrokenBarrierError` is [`BrokenBarrierError`] |
//! | `Queue(maxsize)`                      | [`Queue::new`] (0 = unbounded)                 |
//! | `PriorityQueue`, `LifoQueue`          | [`PriorityQueue`], [`LifoQueue`]               |
//! | `put/get/put_nowait/get_nowait`       | same names; errors are values, not exceptions  |
//! | `QueueFull`, `QueueEmpty`             | [`PutNowaitError::Full`] (gives the item back), [`GetNowaitError::Empty`] |
//! | `QueueShutDown`                       | [`QueueShutDown`], [`PutNowaitError::ShutDown`], [`GetNowaitError::ShutDown`] |
//! | `task_done/join/qsize/empty/full`     | same names; too many `task_done` is [`TaskDoneError`] |
//! | `shutdown(immediate=False)`           | [`GenericQueue::shutdown`]                     |
//!
//! # Sharing
//!
//! Every type here is a handle: `clone()` gives another handle to the *same*
//! primitive (an `Arc` inside), the way asyncio code passes one `Lock` or
//! `Queue` object to several coroutines. All are `Send + Sync` (a queue when its
//! items are `Send`), so tasks on different worker threads, and plain threads
//! calling the non-waiting methods, can share them.
//!
//! # Fairness
//!
//! Tasks that wait are served first come, first served, and nobody barges: a
//! released lock or permit, a put item and room in a full queue are *handed* to
//! the task that has waited longest, so a task that arrives later (even one
//! using `try_lock`, `try_acquire` or `get_nowait`) cannot take them first. In
//! asyncio the woken task must run before it takes what it was woken for, and
//! a `get_nowait` in between can take it; here it is already its own.
//!
//! # Cancellation
//!
//! A waiting future can be dropped at any time (a cancelled task, a lost race in
//! a timeout or select). It never swallows what was meant for it: a lock or
//! permit handed to it goes to the next waiter, a queue item goes to the next
//! getter (or back to the head of the queue), room made in a queue goes to the
//! next putter (a cancelled `put` never enqueues its item), a `Condition`
//! notification wakes the next waiter, and a barrier round that loses a waiter
//! needs one more arrival.
//!
//! # Implementation and crates
//!
//! The primitives are written here, over one building block: a FIFO list of
//! waiters (waker plus per-waiter state such as the slot an item is handed into)
//! kept in a slab inside each primitive's `Mutex`, with O(1) arrival, hand-off
//! and removal of a cancelled waiter. The smol family's crates were considered
//! and not used because they do not give the guarantees above:
//! `async-lock`'s mutex and semaphore let a new acquirer barge past notified
//! waiters (their fairness is "eventual", enforced only after a waiter starves
//! for a while); `async-channel` has no `task_done`/`join`, no priority or LIFO
//! order, and its receivers also race woken receivers; `event-listener` only
//! notifies, so every primitive would still need its own hand-off and
//! cancellation protocol on top, which is the part that matters. No `unsafe`
//! code is used.
//!
//! # Examples
//!
//! ```
//! use evloop::sync::{Lock, Queue};
//!
//! evloop::run(async {
//!     let queue = Queue::new(10);
//!     let lock = Lock::new();
//!     let worker = evloop::spawn({
//!         let (queue, lock) = (queue.clone(), lock.clone());
//!         async move {
//!             let job: u32 = queue.get().await.unwrap();
//!             let _guard = lock.lock().await;
//!             job * 2
//!         }
//!     });
//!     queue.put(21).await.unwrap();
//!     assert_eq!(worker.await.unwrap(), 42);
//! });
//! ```

mod barrier;
mod condition;
mod event;
mod lock;
mod permits;
mod queue;
mod semaphore;

#[cfg(test)]
mod test_util;

pub use self::barrier::{Barrier, BrokenBarrierError};
pub use self::condition::Condition;
pub use self::event::Event;
pub use self::lock::{Lock, LockGuard};
pub use self::queue::{
    Fifo, GenericQueue, GetNowaitError, Lifo, LifoQueue, Order, Priority, PriorityQueue,
    PutNowaitError, Queue, QueueShutDown, TaskDoneError,
};
pub use self::semaphore::{BoundedSemaphore, OverReleaseError, Semaphore, SemaphorePermit};
