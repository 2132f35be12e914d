//! `evloop::sync` against `tokio::sync`, side by side on the same machine with
//! two worker threads each.
//!
//! - **queue 4p/4c**: 4 producer tasks put 1 000 000 items (250 000 each) into a
//!   queue of capacity 1024 and 4 consumer tasks take them. evloop uses one
//!   `Queue` shared by all; tokio's `mpsc` has a single receiver, so its 4
//!   consumers share it through a `tokio::sync::Mutex` (the usual way to fan out
//!   an `mpsc` channel).
//! - **queue 4p/1c**: the same with one consumer, so tokio's `mpsc` is used
//!   exactly as designed.
//! - **lock contention**: 8 tasks each take the lock 100 000 times and bump a
//!   shared counter; evloop's `Lock` against `tokio::sync::Mutex` (both FIFO).
//!
//! Each runtime runs the workload from `block_on`; the time until it is
//! done is what counts.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::measure::{Section, timed};
use crate::runtimes::Runtime;
use crate::table::Row;

const ITEMS: u64 = 1_000_000;
const PRODUCERS: u64 = 4;
const CAPACITY: usize = 1024;
const LOCK_TASKS: u64 = 8;
const LOCK_ROUNDS: u64 = 100_000;

pub fn rows() -> Vec<Row> {
    let mut section = Section::new();
    section
        .time(
            "sync: queue 4 producers / 4 consumers, 1M items",
            "ms",
            |rt| timed(|| rt.block_on(evloop_queue(4))),
            |rt| timed(|| rt.block_on(tokio_queue_shared_receiver(4))),
        )
        .note("evloop Queue(1024) vs tokio mpsc::channel(1024) + receiver behind a tokio Mutex")
        .time(
            "sync: queue 4 producers / 1 consumer, 1M items",
            "ms",
            |rt| timed(|| rt.block_on(evloop_queue(1))),
            |rt| timed(|| rt.block_on(tokio_queue_single_receiver())),
        )
        .note("evloop Queue(1024) vs tokio mpsc::channel(1024)")
        .time(
            "sync: lock contention 8 tasks x 100k",
            "ms",
            |rt| timed(|| rt.block_on(evloop_lock())),
            |rt| timed(|| rt.block_on(tokio_lock())),
        )
        .note("evloop Lock vs tokio::sync::Mutex (both FIFO)");
    section.into_rows()
}

async fn evloop_queue(consumers: u64) {
    let queue = evloop::sync::Queue::new(CAPACITY);
    let received = Arc::new(AtomicU64::new(0));
    let consumer_tasks: Vec<_> = (0..consumers)
        .map(|_| {
            let (queue, received) = (queue.clone(), received.clone());
            evloop::spawn(async move {
                let mut count = 0;
                while let Ok(item) = queue.get().await {
                    std::hint::black_box(item);
                    count += 1;
                }
                received.fetch_add(count, Ordering::Relaxed);
            })
        })
        .collect();
    let producer_tasks: Vec<_> = (0..PRODUCERS)
        .map(|_| {
            let queue = queue.clone();
            evloop::spawn(async move {
                for item in 0..ITEMS / PRODUCERS {
                    queue.put(item).await.expect("the queue is open");
                }
            })
        })
        .collect();
    for task in producer_tasks {
        task.await.expect("producer finished");
    }
    queue.shutdown(false);
    for task in consumer_tasks {
        task.await.expect("consumer finished");
    }
    assert_eq!(received.load(Ordering::Relaxed), ITEMS);
}

fn tokio_producers(sender: tokio::sync::mpsc::Sender<u64>) -> Vec<tokio::task::JoinHandle<()>> {
    (0..PRODUCERS)
        .map(|_| {
            let sender = sender.clone();
            tokio::spawn(async move {
                for item in 0..ITEMS / PRODUCERS {
                    sender.send(item).await.expect("the receiver is alive");
                }
            })
        })
        .collect()
}

async fn tokio_queue_shared_receiver(consumers: u64) {
    let (sender, receiver) = tokio::sync::mpsc::channel(CAPACITY);
    let receiver = Arc::new(tokio::sync::Mutex::new(receiver));
    let received = Arc::new(AtomicU64::new(0));
    let consumer_tasks: Vec<_> = (0..consumers)
        .map(|_| {
            let (receiver, received) = (receiver.clone(), received.clone());
            tokio::spawn(async move {
                let mut count = 0;
                loop {
                    let item = receiver.lock().await.recv().await;
                    match item {
                        Some(item) => {
                            std::hint::black_box(item);
                            count += 1;
                        }
                        None => break,
                    }
                }
                received.fetch_add(count, Ordering::Relaxed);
            })
        })
        .collect();
    let producer_tasks = tokio_producers(sender);
    for task in producer_tasks {
        task.await.expect("producer finished");
    }
    for task in consumer_tasks {
        task.await.expect("consumer finished");
    }
    assert_eq!(received.load(Ordering::Relaxed), ITEMS);
}

async fn tokio_queue_single_receiver() {
    let (sender, mut receiver) = tokio::sync::mpsc::channel(CAPACITY);
    let consumer = tokio::spawn(async move {
        let mut count = 0;
        while let Some(item) = receiver.recv().await {
            std::hint::black_box(item);
            count += 1;
        }
        count
    });
    let producer_tasks = tokio_producers(sender);
    for task in producer_tasks {
        task.await.expect("producer finished");
    }
    assert_eq!(consumer.await.expect("consumer finished"), ITEMS);
}

async fn evloop_lock() {
    let lock = evloop::sync::Lock::new();
    let counter = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..LOCK_TASKS)
        .map(|_| {
            let (lock, counter) = (lock.clone(), counter.clone());
            evloop::spawn(async move {
                for _ in 0..LOCK_ROUNDS {
                    let _guard = lock.lock().await;
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("lock task finished");
    }
    assert_eq!(counter.load(Ordering::Relaxed), LOCK_TASKS * LOCK_ROUNDS);
}

async fn tokio_lock() {
    let mutex = Arc::new(tokio::sync::Mutex::new(0u64));
    let tasks: Vec<_> = (0..LOCK_TASKS)
        .map(|_| {
            let mutex = mutex.clone();
            tokio::spawn(async move {
                for _ in 0..LOCK_ROUNDS {
                    *mutex.lock().await += 1;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("lock task finished");
    }
    assert_eq!(*mutex.lock().await, LOCK_TASKS * LOCK_ROUNDS);
}
