//! The loop's life: build, run, stop, close, and work refused once closed.

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::{Duration, Instant};

use common::{DropCounter, event_loop, pending_with, threads_left, threads_named};
use evloop::EventLoop;

#[test]
fn close_drops_every_pending_future_exactly_once_and_joins_all_threads() {
    let lp = event_loop(2, "lcclose");
    // Threads name themselves once started: wait until both workers and
    // the reactor have.
    let start = Instant::now();
    while threads_named("lcclose-").len() < 3 && start.elapsed() < Duration::from_secs(10) {
        std::thread::yield_now();
    }
    assert_eq!(threads_named("lcclose-worker-").len(), 2);
    assert_eq!(threads_named("lcclose-reactor").len(), 1);
    let drops = DropCounter::new();
    let tasks: Vec<_> = (0..1_000)
        .map(|_| lp.handle().spawn(pending_with(drops.guard())))
        .collect();
    // Make sure every task was polled at least once (parked on its await).
    let (tx, rx) = mpsc::channel();
    drop(lp.handle().spawn(async move {
        evloop::yield_now().await;
        tx.send(()).unwrap();
    }));
    rx.recv().unwrap();
    lp.close();
    assert_eq!(drops.count(), 1_000);
    assert!(threads_left("lcclose-").is_empty(), "no thread left behind");
    for task in tasks {
        assert!(task.done() && task.cancelled());
    }
}

#[test]
fn dropping_the_loop_closes_it() {
    let drops = DropCounter::new();
    {
        let lp = event_loop(2, "lcdrop");
        for _ in 0..10 {
            drop(lp.handle().spawn(pending_with(drops.guard())));
        }
    }
    assert_eq!(drops.count(), 10);
    assert_eq!(threads_left("lcdrop-"), Vec::<String>::new());
}

#[test]
fn work_submitted_to_a_closed_loop_is_refused_without_hanging() {
    let lp = event_loop(1, "lcrefuse");
    let handle = lp.handle();
    lp.close();
    assert!(handle.is_closed());
    let drops = DropCounter::new();
    let mut task = handle.spawn(pending_with(drops.guard()));
    assert!(task.done());
    let err = task.try_result().unwrap().unwrap_err();
    assert!(err.is_loop_closed());
    assert!(err.to_string().contains("closed"));
    assert_eq!(drops.count(), 1, "the refused future was dropped");
}

#[test]
fn shutdown_timeout_returns_even_when_a_worker_is_blocked() {
    let lp = event_loop(2, "lctimeout");
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let blocked = lp.handle().spawn(async move {
        started_tx.send(()).unwrap();
        // Blocks its worker until the test releases it.
        let _ = release_rx.recv();
    });
    started_rx.recv().unwrap();
    let drops = DropCounter::new();
    drop(lp.handle().spawn(pending_with(drops.guard())));
    let start = Instant::now();
    lp.shutdown_timeout(Duration::from_millis(200));
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(drops.count(), 1, "idle tasks were dropped");
    release_tx.send(()).unwrap();
    // The blocked task finishes its poll in the background.
    drop(blocked);
}

#[test]
fn run_forever_returns_after_stop_from_another_thread() {
    let lp = event_loop(2, "lcforever");
    let handle = lp.handle();
    let runner = std::thread::spawn(move || {
        lp.run_forever();
        lp
    });
    let ran = Arc::new(AtomicUsize::new(0));
    let r = ran.clone();
    let task = handle.spawn(async move {
        r.fetch_add(1, Ordering::SeqCst);
    });
    let (tx, rx) = mpsc::channel();
    task.add_done_callback(move |_| tx.send(()).unwrap());
    rx.recv().unwrap();
    handle.stop();
    let lp = runner.join().unwrap();
    assert_eq!(ran.load(Ordering::SeqCst), 1);
    assert!(!handle.is_running());
    lp.close();
}

#[test]
fn stop_before_run_forever_makes_it_return_at_once() {
    let lp = event_loop(1, "lcstop");
    lp.stop();
    lp.run_forever();
    assert!(!lp.handle().is_running());
}

#[test]
fn is_running_while_run_until_complete_drives() {
    let lp = event_loop(1, "lcrunning");
    let handle = lp.handle();
    assert!(!handle.is_running());
    let inside = lp.run_until_complete(async { evloop::Handle::current().is_running() });
    assert!(inside);
    assert!(!handle.is_running());
}

#[test]
fn zero_workers_is_a_clear_error() {
    let err = evloop::EventLoop::builder()
        .worker_threads(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("worker_threads"));
}

#[test]
fn handle_current_outside_a_loop_panics_with_a_clear_message() {
    let panic = std::panic::catch_unwind(evloop::Handle::current).unwrap_err();
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap();
    assert!(
        message.contains("no current evloop event loop"),
        "{message}"
    );
    assert!(message.contains("handle.enter()"), "{message}");
    assert!(evloop::Handle::try_current().is_none());
}

/// The name of the worker thread that runs a task spawned with
/// `evloop::spawn` on the calling thread's current loop.
fn current_loop_worker_name() -> String {
    let task = evloop::spawn(async { std::thread::current().name().unwrap().to_owned() });
    evloop::Handle::current()
        .run_coroutine_threadsafe(task)
        .result()
        .unwrap()
        .unwrap()
}

#[test]
fn entering_a_loop_makes_it_current_until_the_guard_drops_and_guards_nest() {
    let outer = event_loop(1, "lcenterouter");
    let inner = event_loop(1, "lcenterinner");
    assert!(evloop::Handle::try_current().is_none());
    {
        let _outer = outer.handle().enter();
        assert!(current_loop_worker_name().starts_with("lcenterouter-worker"));
        {
            let _inner = inner.handle().enter();
            assert!(current_loop_worker_name().starts_with("lcenterinner-worker"));
        }
        assert!(current_loop_worker_name().starts_with("lcenterouter-worker"));
    }
    assert!(evloop::Handle::try_current().is_none());
    outer.close();
    inner.close();
}

#[test]
fn run_until_complete_inside_a_worker_panics_instead_of_deadlocking() {
    let lp = Arc::new(event_loop(2, "lcnested"));
    let inner = lp.clone();
    let task = lp.handle().spawn(async move {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            inner.run_until_complete(async {});
        }))
        .map_err(|p| p.downcast_ref::<String>().cloned().unwrap_or_default())
    });
    let message = lp.run_until_complete(task).unwrap().unwrap_err();
    assert!(message.contains("deadlock"), "{message}");
}

#[test]
fn nested_run_until_complete_on_the_driving_thread_panics() {
    let lp = event_loop(1, "lcnested2");
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        lp.run_until_complete(async { lp.run_until_complete(async {}) })
    }));
    let panic = result.unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(message.contains("already"), "{message}");
}

#[test]
fn run_until_complete_accepts_a_future_that_is_not_send() {
    let lp = event_loop(1, "lcnotsend");
    let local = std::rc::Rc::new(std::cell::Cell::new(1));
    let seen = lp.run_until_complete({
        let local = local.clone();
        async move {
            local.set(local.get() + evloop::spawn(async { 41 }).await.unwrap());
            local.get()
        }
    });
    assert_eq!(seen, 42);
}

#[test]
fn evloop_run_closes_its_loop_and_cancels_leftover_tasks() {
    let drops = DropCounter::new();
    let guard = drops.guard();
    let value = evloop::run(async move {
        drop(evloop::spawn(pending_with(guard)));
        9
    });
    assert_eq!(value, 9);
    assert_eq!(drops.count(), 1);
}

/// A value whose destructor panics: user code a closing loop must survive.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("expected: a destructor panics");
    }
}

#[test]
fn close_contains_a_panicking_drop_of_a_queued_blocking_job_and_finishes() {
    let lp = EventLoop::builder()
        .worker_threads(2)
        .max_blocking_threads(1)
        .thread_name("clpanic")
        .build()
        .unwrap();
    let handle = lp.handle();
    let (release, gate) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel();
    let running = handle.run_in_executor(move || {
        started_tx.send(()).unwrap();
        let _ = gate.recv();
    });
    started.recv_timeout(Duration::from_secs(30)).unwrap();
    let owned = PanicsOnDrop;
    let queued = handle.run_in_executor(move || {
        let _owned = &owned;
    });
    let (closed_tx, closed) = mpsc::channel();
    let closer = thread::spawn(move || {
        // Refusing the queued job drops its closure, which panics.
        lp.close();
        closed_tx.send(()).unwrap();
    });
    while !handle.is_closed() {
        thread::yield_now();
    }
    drop(release);
    closed
        .recv_timeout(Duration::from_secs(30))
        .expect("close() finished");
    closer.join().expect("close() did not re-raise the panic");
    assert!(running.done() && queued.done());
    // The loop is closed through and through: its workers and reactor are
    // gone, and a new task is refused instead of run.
    assert_eq!(threads_left("clpanic-worker"), Vec::<String>::new());
    assert_eq!(threads_left("clpanic-reactor"), Vec::<String>::new());
    let ran = Arc::new(AtomicBool::new(false));
    let task = handle.spawn({
        let ran = ran.clone();
        async move { ran.store(true, Ordering::SeqCst) }
    });
    assert!(task.done());
    assert!(!ran.load(Ordering::SeqCst));
}

/// The message a panic carries, when it is a string.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default()
}

#[test]
fn a_second_thread_cannot_run_a_loop_that_runs_forever() {
    let lp = Arc::new(event_loop(1, "lcforever"));
    let runner = thread::spawn({
        let lp = lp.clone();
        move || lp.run_forever()
    });
    while !lp.handle().is_running() {
        thread::yield_now();
    }
    let err = lp.try_run_forever().unwrap_err();
    assert!(err.to_string().contains("already running"), "{err}");
    for second in [
        thread::spawn({
            let lp = lp.clone();
            move || lp.run_forever()
        }),
        thread::spawn({
            let lp = lp.clone();
            move || lp.run_until_complete(async {})
        }),
    ] {
        let payload = second.join().unwrap_err();
        assert!(
            panic_message(&*payload).contains("This event loop is already running"),
            "{}",
            panic_message(&*payload)
        );
    }
    // One stop releases the one thread that runs it.
    lp.stop();
    runner.join().unwrap();
    assert!(!lp.handle().is_running());
    lp.stop();
    assert_eq!(lp.try_run_forever(), Ok(()));
}

#[test]
fn run_forever_is_refused_while_another_thread_runs_until_complete() {
    let lp = Arc::new(event_loop(1, "lcuntil"));
    let (release, gate) = mpsc::channel::<()>();
    let (entered_tx, entered) = mpsc::channel();
    let driver = thread::spawn({
        let lp = lp.clone();
        move || {
            lp.run_until_complete(async move {
                entered_tx.send(()).unwrap();
                evloop::to_thread(move || gate.recv().unwrap())
                    .await
                    .unwrap();
            })
        }
    });
    entered.recv().unwrap();
    assert!(lp.try_run_forever().is_err());
    // Other threads may still run futures to completion meanwhile.
    assert_eq!(lp.run_until_complete(async { 5 }), 5);
    release.send(()).unwrap();
    driver.join().unwrap();
}
