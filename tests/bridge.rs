//! The thread-loop bridge: `run_coroutine_threadsafe` and its
//! `ConcurrentFuture`, `call_soon_threadsafe` and its `CallbackHandle`, and
//! what a closed loop does with them.

mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::task::{Context, Waker};
use std::thread;
use std::time::Duration;

use evloop::ResultTimeoutError;
use evloop::bridge::Outcome;
use evloop::{ConcurrentFuture, EventLoop, Handle};

/// How long a test waits for something that should happen promptly before
/// it declares a hang.
const PATIENCE: Duration = Duration::from_secs(30);

fn new_loop() -> EventLoop {
    EventLoop::builder()
        .worker_threads(2)
        .thread_name("bridge-test")
        .build()
        .unwrap()
}

/// Sends the name of the thread that drops it.
struct ReportDrop(mpsc::Sender<String>);

impl Drop for ReportDrop {
    fn drop(&mut self) {
        let name = thread::current().name().unwrap_or("").to_owned();
        let _ = self.0.send(name);
    }
}

/// A future whose work returns the value sent on the returned sender.
fn released_later(lp: &EventLoop) -> (tokio::sync::oneshot::Sender<i32>, ConcurrentFuture<i32>) {
    let (release, released) = tokio::sync::oneshot::channel();
    let future = lp
        .handle()
        .run_coroutine_threadsafe(async move { released.await.unwrap() });
    (release, future)
}

#[test]
fn result_returns_the_value_of_the_coroutine() {
    let lp = new_loop();
    let future = lp.handle().run_coroutine_threadsafe(async { "hello" });
    assert_eq!(future.result().unwrap(), "hello");
}

#[test]
fn result_timeout_times_out_then_a_later_call_gets_the_value() {
    let lp = new_loop();
    let (release, released) = tokio::sync::oneshot::channel::<u32>();
    let mut future = lp
        .handle()
        .run_coroutine_threadsafe(async move { released.await.unwrap() * 2 });

    assert!(matches!(
        future.result_timeout(Duration::ZERO),
        Err(ResultTimeoutError::Timeout)
    ));
    assert!(matches!(
        future.result_timeout(Duration::from_millis(20)),
        Err(ResultTimeoutError::Timeout)
    ));
    assert!(!future.done());

    release.send(21).unwrap();
    assert_eq!(future.result_timeout(PATIENCE).unwrap(), 42);
    assert!(future.done());
    assert!(!future.cancelled());
}

#[test]
fn zero_timeout_polls_without_blocking_and_sees_a_finished_result() {
    let lp = new_loop();
    let (tx, rx) = mpsc::channel();
    let mut future = lp.handle().run_coroutine_threadsafe(async { 7 });
    future.add_done_callback(move |_| tx.send(()).unwrap());
    rx.recv_timeout(PATIENCE).unwrap();
    assert!(future.done());
    assert_eq!(future.result_timeout(Duration::ZERO).unwrap(), 7);
}

#[test]
fn cancel_from_the_caller_thread_drops_the_coroutine_on_a_worker() {
    let lp = new_loop();
    let (started_tx, started) = mpsc::channel();
    let (dropped_tx, dropped) = mpsc::channel();
    let guard = ReportDrop(dropped_tx);
    let future = lp.handle().run_coroutine_threadsafe(async move {
        let _guard = guard;
        started_tx.send(()).unwrap();
        std::future::pending::<()>().await;
    });
    started.recv_timeout(PATIENCE).unwrap();

    assert!(future.cancel());
    // Reads as cancelled at once, without waiting for the loop.
    assert!(future.cancelled());
    assert!(future.done());
    assert!(!future.cancel(), "a second cancel finds it done");

    let dropped_on = dropped.recv_timeout(PATIENCE).unwrap();
    assert!(
        dropped_on.starts_with("bridge-test-worker-"),
        "dropped on {dropped_on:?}"
    );
    let err = future.result().unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn cancel_of_a_finished_future_returns_false_and_keeps_the_value() {
    let lp = new_loop();
    let (tx, rx) = mpsc::channel();
    let future = lp.handle().run_coroutine_threadsafe(async { 5 });
    future.add_done_callback(move |_| tx.send(()).unwrap());
    rx.recv_timeout(PATIENCE).unwrap();
    assert!(!future.cancel());
    assert!(!future.cancelled());
    assert_eq!(future.result().unwrap(), 5);
}

#[test]
fn panic_payload_reaches_result() {
    let lp = new_loop();
    let future = lp
        .handle()
        .run_coroutine_threadsafe(async { std::panic::panic_any(1234_u64) });
    let err = future.result().unwrap_err();
    assert!(err.is_panic());
    let payload = err.into_panic();
    assert_eq!(payload.downcast_ref::<u64>(), Some(&1234));
}

#[test]
fn a_task_of_another_loop_awaits_a_concurrent_future() {
    let worker_loop = new_loop();
    let awaiting_loop = new_loop();
    let (release, released) = tokio::sync::oneshot::channel::<&str>();
    let future = worker_loop
        .handle()
        .run_coroutine_threadsafe(async move { released.await.unwrap() });

    let awaiting = awaiting_loop.handle().spawn(future);
    release.send("across loops").unwrap();
    let value = awaiting_loop.run_until_complete(awaiting).unwrap();
    assert_eq!(value.unwrap(), "across loops");
}

#[test]
fn a_future_polled_as_a_future_and_then_waited_on_still_gets_its_value() {
    let lp = new_loop();
    let (release, mut future) = released_later(&lp);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(Pin::new(&mut future).poll(&mut cx).is_pending());

    assert!(
        future
            .result_timeout(Duration::ZERO)
            .unwrap_err()
            .is_timeout()
    );
    release.send(3).unwrap();
    assert_eq!(future.result_timeout(PATIENCE).unwrap(), 3);
}

#[test]
fn done_callback_added_before_completion_runs_exactly_once() {
    let lp = new_loop();
    let calls = Arc::new(AtomicUsize::new(0));
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let (tx, rx) = mpsc::channel();
    let future = lp.handle().run_coroutine_threadsafe(async move {
        released.await.unwrap();
    });
    let counted = calls.clone();
    future.add_done_callback(move |outcome| {
        counted.fetch_add(1, Ordering::SeqCst);
        tx.send(outcome).unwrap();
    });
    assert_eq!(calls.load(Ordering::SeqCst), 0);
    release.send(()).unwrap();
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap(), Outcome::Returned);
    future.result().unwrap();
    drop(lp);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert!(rx.try_recv().is_err());
}

#[test]
fn done_callback_added_after_completion_runs_at_once_in_the_caller_thread() {
    let lp = new_loop();
    let (tx, rx) = mpsc::channel();
    let mut future = lp.handle().run_coroutine_threadsafe(async { 1 });
    assert_eq!(future.result_timeout(PATIENCE).unwrap(), 1);
    let me = thread::current().id();
    let calls = Arc::new(AtomicUsize::new(0));
    let counted = calls.clone();
    future.add_done_callback(move |outcome| {
        counted.fetch_add(1, Ordering::SeqCst);
        tx.send((outcome, thread::current().id())).unwrap();
    });
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(rx.try_recv().unwrap(), (Outcome::Returned, me));
}

#[test]
fn done_callbacks_report_cancel_and_failure() {
    let lp = new_loop();
    let (tx, rx) = mpsc::channel();
    let pending = lp
        .handle()
        .run_coroutine_threadsafe(std::future::pending::<()>());
    let failing = lp
        .handle()
        .run_coroutine_threadsafe(async { panic!("expected") });
    let sender = tx.clone();
    pending.add_done_callback(move |outcome| sender.send(outcome).unwrap());
    failing.add_done_callback(move |outcome| tx.send(outcome).unwrap());
    pending.cancel();
    let mut outcomes = [
        rx.recv_timeout(PATIENCE).unwrap(),
        rx.recv_timeout(PATIENCE).unwrap(),
    ];
    outcomes.sort_by_key(|o| *o as u8);
    assert_eq!(outcomes, [Outcome::Failed, Outcome::Cancelled]);
}

#[test]
fn eight_threads_submitting_ten_thousand_coroutines_each_get_every_result() {
    const THREADS: u64 = 8;
    const PER_THREAD: u64 = 10_000;
    let lp = new_loop();
    let start = Arc::new(Barrier::new(THREADS as usize));
    let submitters: Vec<_> = (0..THREADS)
        .map(|t| {
            let handle = lp.handle();
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                let futures: Vec<_> = (0..PER_THREAD)
                    .map(|i| {
                        let n = t * PER_THREAD + i;
                        handle.run_coroutine_threadsafe(async move { n * 3 })
                    })
                    .collect();
                futures
                    .into_iter()
                    .enumerate()
                    .all(|(i, f)| f.result().unwrap() == (t * PER_THREAD + i as u64) * 3)
            })
        })
        .collect();
    for submitter in submitters {
        assert!(submitter.join().unwrap(), "a result was wrong");
    }
}

#[test]
#[should_panic(expected = "worker thread of the loop")]
fn result_inside_a_task_of_the_same_loop_panics_instead_of_deadlocking() {
    let lp = new_loop();
    let handle = lp.handle();
    let outcome = lp.run_until_complete(async move {
        let inner = handle.clone();
        handle
            .spawn(async move { inner.run_coroutine_threadsafe(async { 1 }).result() })
            .await
    });
    // Re-raise the task's panic on the test thread.
    std::panic::resume_unwind(outcome.unwrap_err().into_panic());
}

#[test]
fn call_soon_threadsafe_runs_callbacks_of_one_thread_in_order() {
    let lp = new_loop();
    let handle = lp.handle();
    let (tx, rx) = mpsc::channel();
    let n = 10_000;
    for i in 0..n {
        let tx = tx.clone();
        handle.call_soon_threadsafe(move || tx.send(i).unwrap());
    }
    let seen: Vec<i32> = rx.iter().take(n as usize).collect();
    assert_eq!(seen, (0..n).collect::<Vec<_>>());
}

#[test]
fn callbacks_run_on_worker_threads() {
    let lp = new_loop();
    let (tx, rx) = mpsc::channel();
    lp.handle().call_soon(move || {
        tx.send(thread::current().name().map(str::to_owned))
            .unwrap()
    });
    let name = rx.recv_timeout(PATIENCE).unwrap().unwrap();
    assert!(name.starts_with("bridge-test-worker-"), "ran on {name}");
}

#[test]
fn cancelled_pending_callback_never_runs_and_its_closure_is_dropped() {
    let lp = new_loop();
    let handle = lp.handle();
    // Keep the drainer busy so that the next callback stays queued.
    let (block_tx, block) = mpsc::channel::<()>();
    let (entered_tx, entered) = mpsc::channel();
    handle.call_soon_threadsafe(move || {
        entered_tx.send(()).unwrap();
        block.recv().unwrap();
    });
    entered.recv_timeout(PATIENCE).unwrap();

    let ran = Arc::new(AtomicUsize::new(0));
    let (dropped_tx, dropped) = mpsc::channel();
    let guard = ReportDrop(dropped_tx);
    let counted = ran.clone();
    let callback = handle.call_soon_threadsafe(move || {
        let _guard = guard;
        counted.fetch_add(1, Ordering::SeqCst);
    });
    assert!(callback.cancel());
    assert!(callback.cancelled());
    assert!(!callback.cancel());
    // The closure was dropped by `cancel`, on this thread.
    assert_eq!(
        dropped.try_recv().unwrap(),
        thread::current().name().unwrap_or("")
    );

    block_tx.send(()).unwrap();
    let (tx, rx) = mpsc::channel();
    handle.call_soon_threadsafe(move || tx.send(()).unwrap());
    rx.recv_timeout(PATIENCE).unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    assert!(!callback.started());
}

#[test]
fn a_panicking_callback_does_not_stop_the_others() {
    let lp = new_loop();
    let handle = lp.handle();
    let (tx, rx) = mpsc::channel();
    handle.call_soon_threadsafe(|| panic!("expected: a failing callback"));
    handle.call_soon_threadsafe(move || tx.send("next").unwrap());
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap(), "next");
    // The loop still runs tasks too.
    assert_eq!(
        handle
            .run_coroutine_threadsafe(async { 2 })
            .result()
            .unwrap(),
        2
    );
}

#[test]
fn cancelling_the_drain_task_hands_the_queue_to_a_new_one() {
    let lp = new_loop();
    let handle = lp.handle();
    let (block_tx, block) = mpsc::channel::<()>();
    let (entered_tx, entered) = mpsc::channel();
    let (tx, rx) = mpsc::channel();
    handle.call_soon_threadsafe(move || {
        // Cancel every task, the callbacks' drainer included (what a
        // "cancel everything" shutdown helper would do).
        for task in evloop::all_tasks() {
            task.cancel();
        }
        entered_tx.send(()).unwrap();
        block.recv().unwrap();
    });
    entered.recv_timeout(PATIENCE).unwrap();
    handle.call_soon_threadsafe(move || tx.send("still served").unwrap());
    block_tx.send(()).unwrap();
    assert_eq!(rx.recv_timeout(PATIENCE).unwrap(), "still served");
}

#[test]
fn closed_loop_refuses_every_kind_of_submission() {
    let lp = new_loop();
    let handle = lp.handle();
    lp.close();
    assert!(handle.is_closed());

    let future = handle.run_coroutine_threadsafe(async { 1 });
    assert!(future.done());
    assert!(!future.cancelled());
    assert!(future.result().unwrap_err().is_loop_closed());

    let callback = handle.call_soon_threadsafe(|| unreachable!("refused callbacks never run"));
    assert!(callback.is_loop_closed());
    assert!(!callback.cancel());
    assert!(handle.call_soon(|| unreachable!()).is_loop_closed());

    let mut job = handle.run_in_executor(|| unreachable!("refused jobs never run"));
    assert!(job.done());
    assert!(job.try_result().unwrap().unwrap_err().is_loop_closed());

    let mut task = handle.spawn(async { 1 });
    assert!(task.done());
    assert!(task.try_result().unwrap().unwrap_err().is_loop_closed());
}

#[test]
fn closing_from_another_thread_refuses_queued_callbacks_and_wakes_waiters() {
    let lp = new_loop();
    let handle = lp.handle();
    let (block_tx, block) = mpsc::channel::<()>();
    let (entered_tx, entered) = mpsc::channel();
    handle.call_soon_threadsafe(move || {
        entered_tx.send(()).unwrap();
        // Held until the loop is closing, so the next callbacks stay queued.
        let _ = block.recv();
    });
    entered.recv_timeout(PATIENCE).unwrap();
    let queued: Vec<_> = (0..100)
        .map(|_| handle.call_soon_threadsafe(|| unreachable!("queued when the loop closed")))
        .collect();
    let waiting = handle.run_coroutine_threadsafe(std::future::pending::<()>());

    let closer = thread::spawn(move || lp.close());
    // The blocked callback holds a worker: let it go once close began.
    while !handle.is_closed() {
        thread::yield_now();
    }
    block_tx.send(()).unwrap();
    closer.join().unwrap();

    assert!(queued.iter().all(|c| c.is_loop_closed()));
    // A waiter on work the loop dropped at close is woken with a cancellation.
    assert!(waiting.result().unwrap_err().is_cancelled());
}

#[test]
fn submissions_racing_close_either_run_or_are_refused() {
    for _ in 0..20 {
        let lp = new_loop();
        let handle = lp.handle();
        let ran = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(2));
        let submitter = {
            let ran = ran.clone();
            let start = start.clone();
            thread::spawn(move || {
                start.wait();
                (0..2_000)
                    .map(|_| {
                        let ran = ran.clone();
                        handle.call_soon_threadsafe(move || {
                            ran.fetch_add(1, Ordering::SeqCst);
                        })
                    })
                    .collect::<Vec<_>>()
            })
        };
        start.wait();
        lp.close();
        let handles = submitter.join().unwrap();
        let started = handles.iter().filter(|c| c.started()).count();
        let refused = handles.iter().filter(|c| c.is_loop_closed()).count();
        assert_eq!(started + refused, handles.len());
        assert_eq!(ran.load(Ordering::SeqCst), started);
    }
}

#[test]
fn handles_are_usable_from_plain_threads_after_the_loop_is_gone() {
    let handle: Handle = {
        let lp = new_loop();
        lp.handle()
    };
    assert!(handle.is_closed());
    assert!(
        handle
            .run_coroutine_threadsafe(async {})
            .result()
            .unwrap_err()
            .is_loop_closed()
    );
}

#[test]
fn done_callbacks_run_although_the_owners_waker_panics() {
    let lp = new_loop();
    let (release, mut future) = released_later(&lp);
    common::assert_pending_with(&mut future, &common::panicking_waker());
    let (tx, rx) = mpsc::channel();
    for n in 0..2 {
        let tx = tx.clone();
        future.add_done_callback(move |outcome| tx.send((n, outcome)).unwrap());
    }
    release.send(5).unwrap();
    assert_eq!(rx.recv_timeout(PATIENCE), Ok((0, Outcome::Returned)));
    assert_eq!(rx.recv_timeout(PATIENCE), Ok((1, Outcome::Returned)));
    assert_eq!(future.result_timeout(PATIENCE).unwrap(), 5);
}

#[test]
#[allow(deprecated)]
fn the_old_names_of_the_timeout_error_still_name_it() {
    let old: evloop::bridge::WaitError = ResultTimeoutError::Timeout;
    assert!(matches!(old, evloop::AsCompletedError::Timeout));
    let failed = evloop::bridge::WaitError::Failed(
        new_loop()
            .handle()
            .run_coroutine_threadsafe(async { panic!("expected") })
            .result()
            .unwrap_err(),
    );
    assert!(failed.into_task_error().unwrap().is_panic());
}

/// Waits, in its destructor, for the concurrent future put in its slot,
/// and reports what it got.
struct WaitsOnDrop {
    slot: Arc<std::sync::Mutex<Option<ConcurrentFuture<()>>>>,
    report: mpsc::Sender<Result<(), evloop::TaskError>>,
}

impl Drop for WaitsOnDrop {
    fn drop(&mut self) {
        let future = self.slot.lock().unwrap().take();
        if let Some(future) = future {
            let _ = self.report.send(future.result());
        }
    }
}

#[test]
fn a_destructor_run_by_close_that_waits_on_a_pending_future_of_the_loop_does_not_hang_it() {
    let lp = new_loop();
    let handle = lp.handle();
    let (report, reports) = mpsc::channel();
    // Two tasks, each of whose futures waits in its destructor for the
    // other: whichever the close drops first waits on one still pending.
    let slots: [Arc<std::sync::Mutex<Option<ConcurrentFuture<()>>>>; 2] = Default::default();
    let futures = slots.clone().map(|slot| {
        let waits = WaitsOnDrop {
            slot,
            report: report.clone(),
        };
        handle.run_coroutine_threadsafe(async move {
            let _waits = waits;
            std::future::pending::<()>().await
        })
    });
    let [first, second] = futures;
    *slots[0].lock().unwrap() = Some(second);
    *slots[1].lock().unwrap() = Some(first);
    drop(report);

    let (closed_tx, closed) = mpsc::channel();
    thread::spawn(move || {
        lp.close();
        closed_tx.send(()).unwrap();
    });
    closed
        .recv_timeout(Duration::from_secs(30))
        .expect("close() finished");
    let outcomes: Vec<_> = reports.iter().collect();
    assert_eq!(outcomes.len(), 2);
    assert!(
        outcomes
            .iter()
            .all(|outcome| outcome.as_ref().is_err_and(|err| err.is_cancelled()))
    );
}
