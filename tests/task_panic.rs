//! A panic in a task is caught: the task reports it, everything else goes on.

mod common;

use std::sync::mpsc;
use std::time::Duration;

use common::event_loop;

/// How long a test waits for something that should happen promptly before
/// it declares a hang.
const PATIENCE: Duration = Duration::from_secs(30);

#[test]
fn panics_are_isolated_and_reported_with_their_payload() {
    let lp = event_loop(2, "panic1");
    let results = lp.run_until_complete(async {
        let tasks: Vec<_> = (0..1_000)
            .map(|i| {
                evloop::spawn(async move {
                    if i % 2 == 0 {
                        panic!("task {i} failed");
                    }
                    i
                })
            })
            .collect();
        let mut results = Vec::new();
        for task in tasks {
            results.push(task.await);
        }
        results
    });
    for (i, result) in results.into_iter().enumerate() {
        if i % 2 == 0 {
            let err = result.unwrap_err();
            assert!(err.is_panic());
            let expected = format!("task {i} failed");
            assert_eq!(err.panic_message(), Some(expected.as_str()));
            let payload = err.into_panic();
            assert_eq!(payload.downcast_ref::<String>(), Some(&expected));
        } else {
            assert_eq!(result.unwrap(), i);
        }
    }
    // The workers survived: the loop still runs tasks.
    assert_eq!(
        lp.run_until_complete(lp.handle().spawn(async { 1 }))
            .unwrap(),
        1
    );
}

#[test]
fn a_panic_in_a_destructor_during_cancel_is_reported_as_a_panic() {
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("drop failed");
        }
    }
    let lp = event_loop(1, "panic2");
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let task = lp.handle().spawn(async move {
        let _bomb = PanicOnDrop;
        started_tx.send(()).unwrap();
        std::future::pending::<()>().await;
    });
    started_rx.recv().unwrap();
    task.cancel();
    let err = lp.run_until_complete(task).unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.panic_message(), Some("drop failed"));
    assert_eq!(
        lp.run_until_complete(lp.handle().spawn(async { 2 }))
            .unwrap(),
        2
    );
}

#[test]
fn a_panicking_done_callback_does_not_stop_the_others() {
    let lp = event_loop(1, "panic3");
    let (tx, rx) = std::sync::mpsc::channel();
    let task = lp.handle().spawn(std::future::pending::<()>());
    task.add_done_callback(|_| panic!("callback failed"));
    task.add_done_callback(move |_| tx.send(()).unwrap());
    task.cancel();
    rx.recv().unwrap();
    assert_eq!(
        lp.run_until_complete(lp.handle().spawn(async { 3 }))
            .unwrap(),
        3
    );
}

#[test]
fn try_into_panic_gives_back_a_non_panic_error() {
    let lp = event_loop(1, "panic4");
    let task = lp.handle().spawn(std::future::pending::<()>());
    task.cancel();
    let err = lp.run_until_complete(task).unwrap_err();
    let err = err.try_into_panic().unwrap_err();
    assert!(err.is_cancelled());
}

#[test]
fn a_panicking_join_waker_neither_kills_the_worker_nor_skips_done_callbacks() {
    // One worker: if the panic killed it, nothing would run any more.
    let lp = event_loop(1, "joinwaker");
    let handle = lp.handle();
    for round in 0..2 {
        let (release, released) = mpsc::channel::<()>();
        let (done, done_calls) = mpsc::channel();
        let mut task = handle.spawn(async move {
            evloop::to_thread(move || released.recv().unwrap())
                .await
                .unwrap();
            round
        });
        common::assert_pending_with(&mut task, &common::panicking_waker());
        for n in 0..2 {
            let done = done.clone();
            task.add_done_callback(move |_| done.send(n).unwrap());
        }
        release.send(()).unwrap();
        let calls: Vec<_> = (0..2).map(|_| done_calls.recv_timeout(PATIENCE)).collect();
        assert_eq!(
            calls,
            [Ok(0), Ok(1)],
            "round {round}: every done callback ran"
        );
        assert_eq!(task.try_result().unwrap().unwrap(), round);
    }
    // The worker survived both panics: the loop still runs tasks.
    let mut check = handle.run_coroutine_threadsafe(async { evloop::spawn(async { 7 }).await });
    assert_eq!(check.result_timeout(PATIENCE).unwrap().unwrap(), 7);
}
