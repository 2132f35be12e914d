//! The seed pattern: a loop built on the main thread, run forever by a
//! thread of its own, fed and stopped from the main thread.

use std::time::Duration;

use evloop::EventLoop;

#[test]
fn loop_on_its_own_thread_serves_the_main_thread_until_stopped() {
    let lp = EventLoop::new().unwrap();
    let handle = lp.handle();
    let runner = std::thread::spawn(move || {
        lp.run_forever();
        lp
    });

    let futures: Vec<_> = (0..100u64)
        .map(|i| {
            handle.run_coroutine_threadsafe(async move {
                let doubled = evloop::spawn(async move { i * 2 }).await.unwrap();
                doubled + 1
            })
        })
        .collect();
    let results: Vec<u64> = futures.into_iter().map(|f| f.result().unwrap()).collect();
    assert_eq!(results, (0..100).map(|i| i * 2 + 1).collect::<Vec<_>>());

    handle.stop();
    let lp = runner.join().unwrap();
    assert!(!handle.is_running());
    lp.close();
    assert!(handle.is_closed());
}

#[test]
fn runner_thread_that_closes_after_stop_leaves_later_submissions_refused() {
    let lp = EventLoop::new().unwrap();
    let handle = lp.handle();
    let runner = std::thread::spawn(move || {
        lp.run_forever();
        lp.close();
    });

    let mut first = handle.run_coroutine_threadsafe(async { "served" });
    assert_eq!(
        first.result_timeout(Duration::from_secs(30)).unwrap(),
        "served"
    );
    let (tx, rx) = std::sync::mpsc::channel();
    handle.call_soon_threadsafe(move || tx.send("called").unwrap());
    assert_eq!(rx.recv().unwrap(), "called");

    handle.stop();
    runner.join().unwrap();
    let late = handle.run_coroutine_threadsafe(async { "too late" });
    assert!(late.result().unwrap_err().is_loop_closed());
    assert!(handle.call_soon_threadsafe(|| {}).is_loop_closed());
}
