//! `evloop::sync` queues: order, bounds, fairness, cancellation, join and shutdown.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;

use evloop::EventLoop;
use evloop::sync::{
    Event, GenericQueue, GetNowaitError, LifoQueue, Order, PriorityQueue, PutNowaitError, Queue,
    QueueShutDown,
};

/// Polls a future exactly once from inside a task.
async fn poll_once<F: Future>(mut future: Pin<&mut F>) -> Poll<F::Output> {
    poll_fn(|cx| Poll::Ready(future.as_mut().poll(cx))).await
}

#[test]
fn get_returns_items_in_the_order_they_were_put() {
    evloop::run(async {
        let queue = Queue::new(0);
        for n in 0..5 {
            queue.put(n).await.unwrap();
        }
        assert_eq!(queue.qsize(), 5);
        for n in 0..5 {
            assert_eq!(queue.get().await, Ok(n));
        }
        assert!(queue.empty());
    });
}

#[test]
fn put_waits_while_the_queue_is_full() {
    evloop::run(async {
        let queue = Queue::new(2);
        queue.put(1).await.unwrap();
        queue.put(2).await.unwrap();
        assert!(queue.full());
        let mut put = Box::pin(queue.put(3));
        assert!(poll_once(put.as_mut()).await.is_pending());
        assert_eq!(queue.get().await, Ok(1));
        // Room was made: the waiting putter's item is already in.
        assert_eq!(poll_once(put.as_mut()).await, Poll::Ready(Ok(())));
        assert_eq!(queue.qsize(), 2);
        assert_eq!(queue.get_nowait(), Ok(2));
        assert_eq!(queue.get_nowait(), Ok(3));
    });
}

#[test]
fn put_nowait_on_a_full_queue_gives_the_item_back() {
    let queue = Queue::new(1);
    queue.put_nowait(String::from("first")).unwrap();
    let err = queue.put_nowait(String::from("second")).unwrap_err();
    assert!(err.is_full());
    assert_eq!(err.into_inner(), "second");
    assert_eq!(queue.qsize(), 1);
}

#[test]
fn get_nowait_on_an_empty_queue_is_queue_empty() {
    let queue: Queue<u8> = Queue::new(0);
    assert_eq!(queue.get_nowait(), Err(GetNowaitError::Empty));
}

#[test]
fn unbounded_queue_is_never_full() {
    let queue = Queue::new(0);
    for n in 0..10_000 {
        queue.put_nowait(n).unwrap();
    }
    assert!(!queue.full());
    assert_eq!(queue.maxsize(), 0);
}

#[test]
fn getters_are_served_in_the_order_they_started_waiting() {
    evloop::run(async {
        let queue = Queue::new(0);
        let mut getters: Vec<_> = (0..3).map(|_| Box::pin(queue.get())).collect();
        for getter in &mut getters {
            assert!(poll_once(getter.as_mut()).await.is_pending());
        }
        // Resume them in reverse: each still gets the item meant for it.
        for n in 0..3 {
            queue.put_nowait(n).unwrap();
        }
        for (n, getter) in getters.iter_mut().enumerate().rev() {
            assert_eq!(poll_once(getter.as_mut()).await, Poll::Ready(Ok(n)));
        }
    });
}

#[test]
fn get_nowait_does_not_take_an_item_meant_for_a_waiting_getter() {
    evloop::run(async {
        let queue = Queue::new(0);
        let mut getter = Box::pin(queue.get());
        assert!(poll_once(getter.as_mut()).await.is_pending());
        queue.put_nowait("job").unwrap();
        assert_eq!(queue.qsize(), 1);
        assert_eq!(queue.get_nowait(), Err(GetNowaitError::Empty));
        assert_eq!(poll_once(getter.as_mut()).await, Poll::Ready(Ok("job")));
        assert!(queue.empty());
    });
}

#[test]
fn putters_are_admitted_in_the_order_they_started_waiting() {
    evloop::run(async {
        let queue = Queue::new(1);
        queue.put_nowait(0).unwrap();
        let mut putters: Vec<_> = (1..4).map(|n| Box::pin(queue.put(n))).collect();
        for putter in &mut putters {
            assert!(poll_once(putter.as_mut()).await.is_pending());
        }
        // A new put_nowait cannot jump the queue of putters.
        assert!(queue.put_nowait(99).unwrap_err().is_full());
        let mut got = Vec::new();
        for admitted in 0..3 {
            got.push(queue.get().await.unwrap());
            // The room made goes to the oldest putter, and to it only; its
            // item enters the queue when it resumes.
            assert!(queue.put_nowait(99).unwrap_err().is_full());
            for (i, putter) in putters.iter_mut().enumerate().skip(admitted) {
                let polled = poll_once(putter.as_mut()).await;
                assert_eq!(polled.is_ready(), i == admitted);
            }
        }
        got.push(queue.get().await.unwrap());
        assert_eq!(got, vec![0, 1, 2, 3]);
    });
}

#[test]
fn a_dropped_waiting_getter_does_not_take_the_next_item() {
    evloop::run(async {
        let queue = Queue::new(0);
        let mut cancelled = Box::pin(queue.get());
        let mut next = Box::pin(queue.get());
        assert!(poll_once(cancelled.as_mut()).await.is_pending());
        assert!(poll_once(next.as_mut()).await.is_pending());
        drop(cancelled);
        queue.put_nowait(7).unwrap();
        assert_eq!(poll_once(next.as_mut()).await, Poll::Ready(Ok(7)));
    });
}

#[test]
fn a_getter_dropped_after_an_item_was_handed_to_it_passes_the_item_on() {
    evloop::run(async {
        let queue = Queue::new(0);
        let mut cancelled = Box::pin(queue.get());
        let mut next = Box::pin(queue.get());
        assert!(poll_once(cancelled.as_mut()).await.is_pending());
        assert!(poll_once(next.as_mut()).await.is_pending());
        queue.put_nowait(1).unwrap(); // handed to `cancelled`
        drop(cancelled);
        assert_eq!(poll_once(next.as_mut()).await, Poll::Ready(Ok(1)));
    });
}

#[test]
fn an_item_of_a_dropped_getter_goes_back_to_the_head_of_the_queue() {
    evloop::run(async {
        let queue = Queue::new(0);
        let mut cancelled = Box::pin(queue.get());
        assert!(poll_once(cancelled.as_mut()).await.is_pending());
        queue.put_nowait(1).unwrap(); // handed to `cancelled`
        queue.put_nowait(2).unwrap(); // stored
        drop(cancelled);
        assert_eq!(queue.qsize(), 2);
        assert_eq!(queue.get_nowait(), Ok(1));
        assert_eq!(queue.get_nowait(), Ok(2));
    });
}

#[test]
fn cancelling_a_task_blocked_in_get_loses_no_item() {
    evloop::run(async {
        let queue = Queue::new(0);
        let started = Event::new();
        let cancelled = evloop::spawn({
            let (queue, started) = (queue.clone(), started.clone());
            async move {
                started.set();
                queue.get().await
            }
        });
        started.wait().await;
        cancelled.cancel();
        assert!(cancelled.await.unwrap_err().is_cancelled());
        queue.put("item").await.unwrap();
        let next = evloop::spawn({
            let queue = queue.clone();
            async move { queue.get().await }
        });
        assert_eq!(next.await.unwrap(), Ok("item"));
    });
}

#[test]
fn a_dropped_waiting_putter_takes_its_item_with_it() {
    evloop::run(async {
        let queue = Queue::new(1);
        queue.put_nowait(1).unwrap();
        let mut putter = Box::pin(queue.put(2));
        assert!(poll_once(putter.as_mut()).await.is_pending());
        drop(putter);
        assert_eq!(queue.get_nowait(), Ok(1));
        assert_eq!(queue.get_nowait(), Err(GetNowaitError::Empty));
    });
}

#[test]
fn join_waits_until_every_item_is_marked_done() {
    evloop::run(async {
        let queue = Queue::new(0);
        queue.join().await; // nothing pending
        queue.put_nowait(1).unwrap();
        queue.put_nowait(2).unwrap();
        let mut join = Box::pin(queue.join());
        assert!(poll_once(join.as_mut()).await.is_pending());
        queue.get_nowait().unwrap();
        queue.get_nowait().unwrap();
        queue.task_done().unwrap();
        assert!(poll_once(join.as_mut()).await.is_pending());
        queue.task_done().unwrap();
        assert!(poll_once(join.as_mut()).await.is_ready());
    });
}

#[test]
fn join_returns_when_consumer_tasks_finish_the_work() {
    evloop::run(async {
        let queue = Queue::new(3);
        let processed = Arc::new(AtomicU64::new(0));
        let consumers: Vec<_> = (0..3)
            .map(|_| {
                let (queue, processed) = (queue.clone(), processed.clone());
                evloop::spawn(async move {
                    while let Ok(n) = queue.get().await {
                        processed.fetch_add(n, Ordering::SeqCst);
                        queue.task_done().unwrap();
                    }
                })
            })
            .collect();
        for n in 1..=100 {
            queue.put(n).await.unwrap();
        }
        queue.join().await;
        assert_eq!(processed.load(Ordering::SeqCst), 5050);
        queue.shutdown(false);
        for consumer in consumers {
            consumer.await.unwrap();
        }
    });
}

#[test]
fn task_done_called_too_many_times_is_an_error() {
    let queue = Queue::new(0);
    queue.put_nowait(()).unwrap();
    queue.get_nowait().unwrap();
    assert!(queue.task_done().is_ok());
    let err = queue.task_done().unwrap_err();
    assert!(err.to_string().contains("task_done() called more times"));
}

#[test]
fn shutdown_lets_getters_drain_the_queue_then_fails_them() {
    evloop::run(async {
        let queue = Queue::new(0);
        queue.put_nowait(1).unwrap();
        queue.put_nowait(2).unwrap();
        queue.shutdown(false);
        assert_eq!(queue.put(3).await, Err(QueueShutDown(3)));
        assert_eq!(queue.put_nowait(4), Err(PutNowaitError::ShutDown(4)));
        assert_eq!(queue.get().await, Ok(1));
        assert_eq!(queue.get_nowait(), Ok(2));
        assert_eq!(queue.get().await, Err(QueueShutDown(())));
        assert_eq!(queue.get_nowait(), Err(GetNowaitError::ShutDown));
    });
}

#[test]
fn shutdown_wakes_waiting_getters_and_putters_with_an_error() {
    evloop::run(async {
        let empty: Queue<u8> = Queue::new(1);
        let mut getter = Box::pin(empty.get());
        assert!(poll_once(getter.as_mut()).await.is_pending());
        empty.shutdown(false);
        assert_eq!(
            poll_once(getter.as_mut()).await,
            Poll::Ready(Err(QueueShutDown(())))
        );

        let full = Queue::new(1);
        full.put_nowait("kept").unwrap();
        let mut putter = Box::pin(full.put("refused"));
        assert!(poll_once(putter.as_mut()).await.is_pending());
        full.shutdown(false);
        assert_eq!(
            poll_once(putter.as_mut()).await,
            Poll::Ready(Err(QueueShutDown("refused")))
        );
        assert_eq!(full.get().await, Ok("kept"));
    });
}

#[test]
fn immediate_shutdown_drops_the_items_and_releases_join() {
    evloop::run(async {
        let queue = Queue::new(0);
        for n in 0..3 {
            queue.put_nowait(n).unwrap();
        }
        let mut join = Box::pin(queue.join());
        assert!(poll_once(join.as_mut()).await.is_pending());
        queue.shutdown(true);
        assert!(queue.empty());
        assert!(poll_once(join.as_mut()).await.is_ready());
        assert_eq!(queue.get().await, Err(QueueShutDown(())));
    });
}

#[test]
fn immediate_shutdown_takes_back_items_handed_to_getters_that_did_not_run() {
    evloop::run(async {
        let queue = Queue::new(0);
        let mut getter = Box::pin(queue.get());
        assert!(poll_once(getter.as_mut()).await.is_pending());
        queue.put_nowait(1).unwrap();
        queue.shutdown(true);
        assert_eq!(
            poll_once(getter.as_mut()).await,
            Poll::Ready(Err(QueueShutDown(())))
        );
        queue.join().await;
    });
}

#[test]
fn priority_queue_returns_the_smallest_item_first() {
    evloop::run(async {
        let queue = PriorityQueue::new(0);
        for item in [(5, "e"), (1, "a"), (3, "c"), (2, "b"), (4, "d")] {
            queue.put(item).await.unwrap();
        }
        let mut got = Vec::new();
        while let Ok((_, name)) = queue.get_nowait() {
            got.push(name);
        }
        assert_eq!(got, vec!["a", "b", "c", "d", "e"]);
    });
}

#[test]
fn lifo_queue_returns_the_last_item_first() {
    evloop::run(async {
        let queue = LifoQueue::new(0);
        for n in 0..5 {
            queue.put(n).await.unwrap();
        }
        let mut got = Vec::new();
        while let Ok(n) = queue.get_nowait() {
            got.push(n);
        }
        assert_eq!(got, vec![4, 3, 2, 1, 0]);
    });
}

#[test]
fn producers_and_consumers_on_several_workers_move_every_item_once() {
    const PRODUCERS: u64 = 4;
    const CONSUMERS: u64 = 4;
    const PER_PRODUCER: u64 = 20_000;
    let event_loop = EventLoop::builder().worker_threads(4).build().unwrap();
    let (count, sum) = event_loop.run_until_complete(async {
        let queue = Queue::new(64);
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|_| {
                let queue = queue.clone();
                evloop::spawn(async move {
                    let (mut count, mut sum) = (0u64, 0u64);
                    while let Ok(n) = queue.get().await {
                        count += 1;
                        sum += n;
                    }
                    (count, sum)
                })
            })
            .collect();
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let queue = queue.clone();
                evloop::spawn(async move {
                    for i in 0..PER_PRODUCER {
                        queue.put(p * PER_PRODUCER + i).await.unwrap();
                    }
                })
            })
            .collect();
        for producer in producers {
            producer.await.unwrap();
        }
        queue.shutdown(false);
        let (mut count, mut sum) = (0, 0);
        for consumer in consumers {
            let (c, s) = consumer.await.unwrap();
            count += c;
            sum += s;
        }
        (count, sum)
    });
    event_loop.close();
    let total = PRODUCERS * PER_PRODUCER;
    assert_eq!(count, total);
    assert_eq!(sum, total * (total - 1) / 2);
}

#[test]
fn queues_are_shared_handles_that_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<Queue<String>>();
    assert_send_sync::<PriorityQueue<u32>>();
    assert_send_sync::<LifoQueue<Vec<u8>>>();
    let queue = Queue::new(0);
    queue.clone().put_nowait(1).unwrap();
    assert_eq!(queue.get_nowait(), Ok(1));
}

/// asyncio's rule: a putter enqueues only when it resumes, so a put that was
/// woken (room was made) and then cancelled never enqueues.
fn a_putter_dropped_after_room_was_made_does_not_enqueue<O>()
where
    O: Order<u32> + 'static,
    GenericQueue<u32, O>: Send + Sync,
{
    evloop::run(async {
        let queue = GenericQueue::<u32, O>::new(1);
        queue.put_nowait(1).unwrap();
        let mut writer = Box::pin(queue.put(2));
        let mut next = Box::pin(queue.put(3));
        assert!(poll_once(writer.as_mut()).await.is_pending());
        assert!(poll_once(next.as_mut()).await.is_pending());
        assert_eq!(queue.get_nowait(), Ok(1));
        drop(writer); // cancelled before it resumed
        assert!(queue.empty(), "the cancelled put left nothing behind");
        // The room it was given passes to the next putter.
        assert_eq!(poll_once(next.as_mut()).await, Poll::Ready(Ok(())));
        assert_eq!(queue.get_nowait(), Ok(3));
        assert_eq!(queue.get_nowait(), Err(GetNowaitError::Empty));
    });
}

#[test]
fn a_putter_dropped_after_room_was_made_does_not_enqueue_in_any_queue() {
    a_putter_dropped_after_room_was_made_does_not_enqueue::<evloop::sync::Fifo>();
    a_putter_dropped_after_room_was_made_does_not_enqueue::<evloop::sync::Lifo>();
    a_putter_dropped_after_room_was_made_does_not_enqueue::<evloop::sync::Priority>();
}

/// The scenario with tasks: a writer blocked in `put(2)` on a full queue of
/// maxsize 1, then `get_nowait()` and `writer.cancel()`. Whether the cancel
/// lands before or after the writer resumed, the item is in the queue if and
/// only if the writer reports success.
#[test]
fn a_cancelled_put_task_enqueues_only_if_it_reports_success() {
    fn scenario<O>(rounds: usize) -> [usize; 2]
    where
        O: Order<u32> + 'static,
        GenericQueue<u32, O>: Send + Sync,
    {
        let mut outcomes = [0, 0];
        for _ in 0..rounds {
            evloop::run(async {
                let queue = GenericQueue::<u32, O>::new(1);
                queue.put_nowait(1).unwrap();
                let started = Event::new();
                let writer = evloop::spawn({
                    let (queue, started) = (queue.clone(), started.clone());
                    async move {
                        started.set();
                        queue.put(2).await
                    }
                });
                started.wait().await;
                evloop::yield_now().await;
                assert_eq!(queue.get_nowait(), Ok(1));
                writer.cancel();
                match writer.await {
                    Ok(put) => {
                        put.unwrap();
                        assert_eq!(queue.get_nowait(), Ok(2));
                        outcomes[1] += 1;
                    }
                    Err(error) => {
                        assert!(error.is_cancelled());
                        assert_eq!(queue.get_nowait(), Err(GetNowaitError::Empty));
                        outcomes[0] += 1;
                    }
                }
            });
        }
        outcomes
    }
    let cancelled = scenario::<evloop::sync::Fifo>(50)[0]
        + scenario::<evloop::sync::Lifo>(20)[0]
        + scenario::<evloop::sync::Priority>(20)[0];
    assert!(
        cancelled > 0,
        "the writer was never cancelled while blocked"
    );
}

/// `wait_for(queue.put(x), tiny)`: a `TimeoutError` means `x` was not
/// enqueued, so the consumer receives exactly the items whose put succeeded.
#[test]
fn a_put_that_times_out_never_enqueues() {
    let event_loop = EventLoop::builder().worker_threads(2).build().unwrap();
    let (succeeded, timed_out, received) = event_loop.run_until_complete(async {
        let queue = Queue::new(1);
        let consumer = evloop::spawn({
            let queue = queue.clone();
            async move {
                let mut received = Vec::new();
                while let Ok(item) = queue.get().await {
                    received.push(item);
                    if received.len() % 8 == 0 {
                        evloop::sleep(std::time::Duration::from_millis(1)).await;
                    }
                }
                received
            }
        });
        let producers: Vec<_> = (0..4u32)
            .map(|producer| {
                let queue = queue.clone();
                evloop::spawn(async move {
                    let (mut succeeded, mut timed_out) = (Vec::new(), 0);
                    for n in 0..500u32 {
                        let item = producer * 1_000 + n;
                        let put = queue.put(item);
                        match evloop::wait_for(put, std::time::Duration::from_micros(50)).await {
                            Ok(put) => {
                                put.unwrap();
                                succeeded.push(item);
                            }
                            Err(_) => timed_out += 1,
                        }
                    }
                    (succeeded, timed_out)
                })
            })
            .collect();
        let (mut succeeded, mut timed_out) = (Vec::new(), 0);
        for producer in producers {
            let (ok, late) = producer.await.unwrap();
            succeeded.extend(ok);
            timed_out += late;
        }
        queue.shutdown(false);
        (succeeded, timed_out, consumer.await.unwrap())
    });
    let (mut succeeded, mut received) = (succeeded, received);
    succeeded.sort_unstable();
    received.sort_unstable();
    assert_eq!(succeeded.len() + timed_out, 2_000);
    assert!(
        timed_out > 0,
        "the consumer was never slow enough for a timeout"
    );
    assert_eq!(
        received.len(),
        succeeded.len(),
        "as many items received as puts succeeded ({timed_out} timed out)"
    );
    assert!(
        received == succeeded,
        "received exactly the items whose put succeeded"
    );
}
