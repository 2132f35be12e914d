//! Fairness: nobody starves, yield_now goes behind the others, foreign work
//! gets in even when workers stay busy.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use common::event_loop;

#[test]
fn a_task_that_wakes_itself_forever_does_not_starve_the_others() {
    let lp = event_loop(1, "fairspin");
    let stop = Arc::new(AtomicBool::new(false));
    let s = stop.clone();
    let spinner = lp.handle().spawn(async move {
        while !s.load(Ordering::SeqCst) {
            evloop::yield_now().await;
        }
    });
    // With one worker, these only run if the spinner yields its turn.
    let done = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel();
    for _ in 0..100 {
        let (done, tx) = (done.clone(), tx.clone());
        drop(lp.handle().spawn(async move {
            if done.fetch_add(1, Ordering::SeqCst) == 99 {
                tx.send(()).unwrap();
            }
        }));
    }
    rx.recv().unwrap();
    stop.store(true, Ordering::SeqCst);
    lp.run_until_complete(spinner).unwrap();
}

#[test]
fn yield_now_puts_the_task_behind_the_ready_ones() {
    let lp = event_loop(1, "fairyield");
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let o = order.clone();
    let result = lp.run_until_complete(lp.handle().spawn(async move {
        let o2 = o.clone();
        let other = evloop::spawn(async move { o2.lock().unwrap().push("other") });
        evloop::yield_now().await;
        o.lock().unwrap().push("yielder");
        other.await.unwrap();
    }));
    result.unwrap();
    assert_eq!(*order.lock().unwrap(), vec!["other", "yielder"]);
}

#[test]
fn foreign_work_runs_while_every_worker_stays_busy_with_local_work() {
    let lp = event_loop(2, "fairinject");
    let stop = Arc::new(AtomicBool::new(false));
    // Two spinners per worker keep every local queue non-empty forever.
    let spinners: Vec<_> = (0..4)
        .map(|_| {
            let stop = stop.clone();
            lp.handle().spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    evloop::yield_now().await;
                }
            })
        })
        .collect();
    let (tx, rx) = mpsc::channel();
    for i in 0..50 {
        let tx = tx.clone();
        drop(lp.handle().spawn(async move { tx.send(i).unwrap() }));
    }
    let mut got: Vec<i32> = (0..50).map(|_| rx.recv().unwrap()).collect();
    got.sort();
    assert_eq!(got, (0..50).collect::<Vec<_>>());
    stop.store(true, Ordering::SeqCst);
    for spinner in spinners {
        lp.run_until_complete(spinner).unwrap();
    }
}

#[test]
fn two_tasks_waking_each_other_do_not_starve_a_third() {
    let lp = event_loop(1, "fairpingpong");
    let stop = Arc::new(AtomicBool::new(false));
    // Ping-pong through oneshot channels, forever until stopped.
    let s = stop.clone();
    let pingpong = lp.handle().spawn(async move {
        while !s.load(Ordering::SeqCst) {
            let (tx, rx) = oneshot::channel::<()>();
            let echo = evloop::spawn(async move { tx.send(()).unwrap() });
            rx.await.unwrap();
            echo.await.unwrap();
        }
    });
    let (tx, rx) = mpsc::channel();
    drop(lp.handle().spawn(async move { tx.send(()).unwrap() }));
    rx.recv().unwrap();
    stop.store(true, Ordering::SeqCst);
    lp.run_until_complete(pingpong).unwrap();
}

#[test]
fn work_is_spread_over_all_workers() {
    let lp = event_loop(2, "fairspread");
    let (tx, rx) = mpsc::channel();
    let barrier = Arc::new(std::sync::Barrier::new(2));
    // Two tasks that can only finish if they run at the same time on
    // different workers.
    for _ in 0..2 {
        let (barrier, tx) = (barrier.clone(), tx.clone());
        drop(lp.handle().spawn(async move {
            barrier.wait();
            tx.send(std::thread::current().name().unwrap().to_owned())
                .unwrap();
        }));
    }
    let a = rx.recv().unwrap();
    let b = rx.recv().unwrap();
    assert_ne!(a, b);
}

#[test]
fn a_task_spawned_by_a_task_that_then_blocks_its_worker_runs_on_the_idle_worker() {
    let lp = event_loop(2, "fairlifo");
    for round in 0..20 {
        let (ran_tx, ran) = mpsc::channel();
        let blocker = lp.handle().spawn(async move {
            // The child is the last task this worker queued: without care it
            // sits in the worker's private slot until this poll returns.
            drop(evloop::spawn(async move {
                let _ = ran_tx.send(());
            }));
            // Block the worker until the child ran (elsewhere), or give up.
            ran.recv_timeout(std::time::Duration::from_secs(10)).is_ok()
        });
        let child_ran_meanwhile = lp.run_until_complete(blocker).unwrap();
        assert!(
            child_ran_meanwhile,
            "round {round}: the child waited for the blocked worker"
        );
    }
}
