//! `Promise<T>`, asyncio's `Future` from `loop.create_future()` (CPython's
//! test_asyncio `test_futures` behaviours).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use common::event_loop;
use evloop::Promise;

#[test]
fn a_new_promise_is_pending() {
    let promise: Promise<u8> = Promise::new();
    assert!(!promise.done());
    assert!(!promise.cancelled());
    assert!(promise.try_result().is_none());
}

#[test]
fn a_second_set_result_is_refused_and_keeps_the_first() {
    let promise = Promise::new();
    promise.set_result(String::from("first")).unwrap();
    let refused = promise.set_result(String::from("second")).unwrap_err();
    assert!(!refused.was_cancelled());
    assert_eq!(
        refused.into_value(),
        "second",
        "the refused value is given back"
    );
    assert_eq!(promise.try_result().unwrap().unwrap(), "first");
}

#[test]
fn set_result_after_cancel_is_refused() {
    let promise = Promise::new();
    assert!(promise.cancel());
    let refused = promise.set_result(1).unwrap_err();
    assert!(refused.was_cancelled());
    assert!(refused.to_string().contains("cancelled"));
    assert!(promise.cancelled());
}

#[test]
fn cancel_after_a_result_is_refused() {
    let promise = Promise::new();
    promise.set_result(1).unwrap();
    assert!(!promise.cancel());
    assert!(!promise.cancelled());
    assert_eq!(promise.try_result().unwrap().unwrap(), 1);
}

#[test]
fn cancel_wakes_every_waiter_with_a_cancelled_error() {
    let lp = event_loop(2, "promise-cancel");
    let promise: Promise<u8> = Promise::new();
    let (waiting_tx, waiting_rx) = mpsc::channel();
    let waiters: Vec<_> = (0..4)
        .map(|_| {
            let promise = promise.clone();
            let waiting_tx = waiting_tx.clone();
            lp.handle().spawn(async move {
                waiting_tx.send(()).unwrap();
                promise.await
            })
        })
        .collect();
    for _ in 0..4 {
        waiting_rx.recv().unwrap();
    }
    assert!(promise.cancel());
    for waiter in waiters {
        let error = lp.run_until_complete(waiter).unwrap().unwrap_err();
        assert!(error.is_cancelled());
    }
}

#[test]
fn many_clones_awaited_across_workers_all_get_the_result() {
    let lp = event_loop(2, "promise-many");
    let promise = Promise::new();
    let (waiting_tx, waiting_rx) = mpsc::channel();
    let waiters: Vec<_> = (0..64_usize)
        .map(|i| {
            let promise = promise.clone();
            let waiting_tx = waiting_tx.clone();
            lp.handle().spawn(async move {
                waiting_tx.send(()).unwrap();
                promise.await.unwrap() + i
            })
        })
        .collect();
    for _ in 0..64 {
        waiting_rx.recv().unwrap();
    }
    // Set from a thread that is not part of the loop.
    std::thread::spawn(move || promise.set_result(1000).unwrap())
        .join()
        .unwrap();
    let total: usize = waiters
        .into_iter()
        .map(|waiter| lp.run_until_complete(waiter).unwrap())
        .sum();
    assert_eq!(total, 64 * 1000 + (0..64).sum::<usize>());
}

#[test]
fn a_done_promise_can_be_awaited_again() {
    let lp = event_loop(1, "promise-again");
    let promise = Promise::new();
    promise.set_result(7).unwrap();
    lp.run_until_complete(async {
        let mut same = promise.clone();
        assert_eq!((&mut same).await.unwrap(), 7);
        assert_eq!(same.await.unwrap(), 7);
        assert_eq!(promise.await.unwrap(), 7);
    });
}

#[test]
fn a_waiter_that_gives_up_does_not_disturb_the_others() {
    let lp = event_loop(2, "promise-give-up");
    let promise = Promise::new();
    lp.run_until_complete(async {
        // Poll one clone once, then drop it (it gives up waiting).
        let mut quitter = promise.clone();
        let polled = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(std::pin::Pin::new(&mut quitter).poll(cx).is_pending())
        })
        .await;
        assert!(polled);
        drop(quitter);
        let stayer = evloop::spawn({
            let promise = promise.clone();
            async move { promise.await.unwrap() }
        });
        promise.set_result("done").unwrap();
        assert_eq!(stayer.await.unwrap(), "done");
    });
}

#[test]
fn callbacks_run_once_in_order_when_the_result_is_set() {
    let promise = Promise::new();
    let order = Arc::new(Mutex::new(Vec::new()));
    for i in 0..3 {
        let order = order.clone();
        promise.add_done_callback(move |p: &Promise<u8>| {
            order
                .lock()
                .unwrap()
                .push((i, p.try_result().unwrap().unwrap()));
        });
    }
    assert!(order.lock().unwrap().is_empty(), "not before the result");
    promise.set_result(9).unwrap();
    assert_eq!(*order.lock().unwrap(), vec![(0, 9), (1, 9), (2, 9)]);
    let _ = promise.set_result(10);
    assert_eq!(order.lock().unwrap().len(), 3, "callbacks run once");
}

#[test]
fn callbacks_run_on_cancel_too() {
    let promise: Promise<()> = Promise::new();
    let (tx, rx) = mpsc::channel();
    promise.add_done_callback(move |p| tx.send(p.cancelled()).unwrap());
    promise.cancel();
    assert!(rx.recv().unwrap());
}

#[test]
fn a_callback_added_after_the_result_runs_at_once() {
    let promise = Promise::new();
    promise.set_result(3).unwrap();
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    promise.add_done_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[test]
fn a_panicking_callback_does_not_stop_the_others() {
    let promise = Promise::new();
    let runs = Arc::new(AtomicUsize::new(0));
    promise.add_done_callback(|_| panic!("bad callback"));
    let counter = runs.clone();
    promise.add_done_callback(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
    });
    promise.set_result(()).unwrap();
    assert_eq!(runs.load(Ordering::SeqCst), 1);
}

#[test]
fn a_callback_can_chain_into_another_promise() {
    let lp = event_loop(2, "promise-chain");
    let first = Promise::new();
    let second = Promise::new();
    first.add_done_callback({
        let second = second.clone();
        move |p: &Promise<u32>| {
            second
                .set_result(p.try_result().unwrap().unwrap() + 1)
                .unwrap();
        }
    });
    let waiter = lp.handle().spawn(async move { second.await.unwrap() });
    first.set_result(1).unwrap();
    assert_eq!(lp.run_until_complete(waiter).unwrap(), 2);
}

/// Reports each wake-up on a channel.
struct ReportWake(Mutex<mpsc::Sender<()>>);

impl std::task::Wake for ReportWake {
    fn wake(self: Arc<Self>) {
        self.0.lock().unwrap().send(()).unwrap();
    }
}

#[test]
fn a_panicking_waker_keeps_neither_the_other_waiters_nor_the_done_callbacks_from_running() {
    let promise = Promise::new();
    let mut first = promise.clone();
    let mut second = promise.clone();
    let panicking = common::panicking_waker();
    let (woken, wake_ups) = mpsc::channel();
    let reporting = std::task::Waker::from(Arc::new(ReportWake(Mutex::new(woken))));
    common::assert_pending_with(&mut first, &panicking);
    common::assert_pending_with(&mut second, &reporting);
    let (tx, rx) = mpsc::channel();
    for n in 0..2 {
        let tx = tx.clone();
        promise.add_done_callback(move |p| tx.send((n, p.try_result().unwrap().unwrap())).unwrap());
    }
    // The setter's thread does not pay for the first waker's panic.
    promise.set_result(9).unwrap();
    assert_eq!(
        wake_ups.try_iter().count(),
        1,
        "the second waiter was woken"
    );
    assert_eq!(rx.try_iter().collect::<Vec<_>>(), [(0, 9), (1, 9)]);
}

#[test]
fn cancelling_a_task_that_awaits_a_promise_leaves_the_promise_pending() {
    let lp = event_loop(2, "promise-task-cancel");
    let promise: Promise<u32> = Promise::new();
    let (waiting_tx, waiting_rx) = mpsc::channel();
    let cancelled = lp.handle().spawn({
        let promise = promise.clone();
        async move {
            waiting_tx.send(()).unwrap();
            promise.await
        }
    });
    let other = lp.handle().spawn(promise.clone());
    waiting_rx.recv().unwrap();
    assert!(cancelled.cancel());
    let error = lp.run_until_complete(cancelled).unwrap_err();
    assert!(error.is_cancelled(), "the task itself ends cancelled");
    assert!(
        !promise.done() && !promise.cancelled(),
        "a shared promise outlives the cancellation of one of its waiters"
    );
    promise.set_result(7).unwrap();
    assert_eq!(lp.run_until_complete(other).unwrap().unwrap(), 7);
}
