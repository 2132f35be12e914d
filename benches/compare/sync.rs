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
//! Each workload runs on a fresh runtime, three times; the fastest run counts.
//! Only the workload is timed, not building or closing the runtime.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

const WORKERS: usize = 2;
const RUNS: usize = 3;
const ITEMS: u64 = 1_000_000;
const PRODUCERS: u64 = 4;
const CAPACITY: usize = 1024;
const LOCK_TASKS: u64 = 8;
const LOCK_ROUNDS: u64 = 100_000;

/// One row per workload: (name, evloop seconds, tokio seconds, note).
pub fn rows() -> Vec<(String, f64, f64, &'static str)> {
    vec![
        (
            "sync: queue 4 producers / 4 consumers, 1M items".to_string(),
            best(|| evloop_time(|| evloop_queue(4))),
            best(|| tokio_time(|| tokio_queue_shared_receiver(4))),
            "evloop Queue(1024) vs tokio mpsc::channel(1024) + receiver behind tokio Mutex",
        ),
        (
            "sync: queue 4 producers / 1 consumer, 1M items".to_string(),
            best(|| evloop_time(|| evloop_queue(1))),
            best(|| tokio_time(tokio_queue_single_receiver)),
            "evloop Queue(1024) vs tokio mpsc::channel(1024)",
        ),
        (
            "sync: lock contention 8 tasks x 100k".to_string(),
            best(|| evloop_time(evloop_lock)),
            best(|| tokio_time(tokio_lock)),
            "evloop Lock vs tokio::sync::Mutex",
        ),
    ]
}

fn best(mut measure: impl FnMut() -> Duration) -> f64 {
    (0..RUNS)
        .map(|_| measure())
        .min()
        .expect("RUNS is not zero")
        .as_secs_f64()
}

fn evloop_time<F: Future<Output = ()>>(workload: impl FnOnce() -> F) -> Duration {
    let event_loop = evloop::EventLoop::builder()
        .worker_threads(WORKERS)
        .build()
        .expect("build an evloop loop");
    let future = workload();
    let start = Instant::now();
    event_loop.run_until_complete(future);
    let elapsed = start.elapsed();
    event_loop.close();
    elapsed
}

fn tokio_time<F: Future<Output = ()>>(workload: impl FnOnce() -> F) -> Duration {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .build()
        .expect("build a tokio runtime");
    let future = workload();
    let start = Instant::now();
    runtime.block_on(future);
    let elapsed = start.elapsed();
    drop(runtime);
    elapsed
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
