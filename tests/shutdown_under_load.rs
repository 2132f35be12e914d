//! `shutdown_timeout` on a loop under load: it returns within its bound,
//! drops every task's future exactly once, closes every socket and leaves
//! no thread behind.
//!
//! What the bound means: `shutdown_timeout(t)` waits at most `t` in total
//! for the workers to finish the poll they are in and for the blocking jobs
//! that are running; it then also drops the futures of the tasks that are
//! left (work proportional to their number, not bounded by `t`) and stops
//! the reactor. Workers and the reactor are joined before it returns unless
//! a worker is stuck in a poll past `t`; a blocking thread still inside its
//! job at the deadline is left to finish that job and then exits by itself
//! (a thread cannot be interrupted). Its job's result is dropped.

mod common;

use std::io::{ErrorKind, Read};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, mpsc};
use std::time::{Duration, Instant};

use common::{DropCounter, event_loop, pending_with, threads_left, threads_named};
use evloop::net::TcpListener;

const PATIENCE: Duration = Duration::from_secs(60);

const LIVE_TASKS: usize = 100_000;
const PENDING_TIMERS: usize = 10_000;
const CONNECTIONS: usize = 1_000;
const BLOCKING_JOBS: usize = 100;
const BUSY_TASKS: usize = 100;

const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(1);
/// Beyond the timeout: dropping 100 000 futures in a debug build on a
/// loaded machine, and stopping the reactor.
const SHUTDOWN_MARGIN: Duration = Duration::from_secs(15);

/// The tests here count the process's descriptors and threads: one at a time.
fn exclusive() -> MutexGuard<'static, ()> {
    static EXCLUSIVE: Mutex<()> = Mutex::new(());
    EXCLUSIVE.lock().unwrap_or_else(|e| e.into_inner())
}

fn open_descriptors() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd is readable (Linux)")
        .count()
}

/// Waits, up to `PATIENCE`, for `done` to hold: for things that happen on
/// their own time and have no signal to wait on (threads exiting).
fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A gate that blocking jobs wait at until the test opens it.
#[derive(Clone, Default)]
struct Gate(Arc<(Mutex<bool>, Condvar)>);

impl Gate {
    fn wait(&self) {
        let (open, opened) = &*self.0;
        let mut open = open.lock().unwrap();
        while !*open {
            open = opened.wait(open).unwrap();
        }
    }
    fn open(&self) {
        let (open, opened) = &*self.0;
        *open.lock().unwrap_or_else(|e| e.into_inner()) = true;
        opened.notify_all();
    }
}

/// Opens its gate when dropped: a failing test must not leave blocking jobs
/// waiting, or closing its loop would wait for them forever.
struct OpenOnDrop(Gate);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        self.0.open();
    }
}

#[test]
fn shutdown_timeout_under_load_is_bounded_drops_every_future_once_and_closes_everything() {
    let _exclusive = exclusive();
    let descriptors_before = open_descriptors();
    let lp = event_loop(2, "sul");
    let handle = lp.handle();
    let task_drops = DropCounter::new();
    let mut my_tasks = 0;

    // 1 000 connections: the loop holds the server side, each in a task
    // waiting to read; the test thread holds the clients.
    let listener = lp
        .run_until_complete(TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (accepted_tx, accepted_rx) = mpsc::channel();
    let acceptor = handle.spawn({
        let task_drops = task_drops.clone();
        async move {
            let _guard = task_drops.guard();
            loop {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let guard = task_drops.guard();
                drop(evloop::spawn(async move {
                    let _guard = guard;
                    let mut buf = [0; 16];
                    let _ = stream.read(&mut buf).await;
                    std::future::pending::<()>().await;
                }));
                let _ = accepted_tx.send(());
            }
        }
    });
    drop(acceptor);
    my_tasks += 1 + CONNECTIONS;
    let mut clients: Vec<_> = (0..CONNECTIONS)
        .map(|_| std::net::TcpStream::connect(addr).unwrap())
        .collect();
    for _ in 0..CONNECTIONS {
        accepted_rx.recv_timeout(PATIENCE).unwrap();
    }

    // 100 blocking jobs, each running (inside its job) when the loop shuts
    // down.
    let gate = Gate::default();
    let _open_on_failure = OpenOnDrop(gate.clone());
    let (started_tx, started_rx) = mpsc::channel();
    let jobs_finished = Arc::new(AtomicUsize::new(0));
    for _ in 0..BLOCKING_JOBS {
        let (gate, started_tx, finished) =
            (gate.clone(), started_tx.clone(), jobs_finished.clone());
        drop(handle.run_in_executor(move || {
            started_tx.send(()).unwrap();
            gate.wait();
            finished.fetch_add(1, Ordering::SeqCst);
        }));
    }
    for _ in 0..BLOCKING_JOBS {
        started_rx.recv_timeout(PATIENCE).unwrap();
    }

    // 10 000 pending timers: half timed callbacks, half sleeping tasks.
    let callback_drops = DropCounter::new();
    let callbacks_ran = Arc::new(AtomicUsize::new(0));
    for _ in 0..PENDING_TIMERS / 2 {
        let (guard, ran) = (callback_drops.guard(), callbacks_ran.clone());
        handle.call_later(Duration::from_secs(3600), move || {
            let _guard = guard;
            ran.fetch_add(1, Ordering::SeqCst);
        });
    }
    let (sleeping_tx, sleeping_rx) = mpsc::channel();
    for _ in 0..PENDING_TIMERS / 2 {
        let (guard, sleeping_tx) = (task_drops.guard(), sleeping_tx.clone());
        drop(handle.spawn(async move {
            let _guard = guard;
            let _ = sleeping_tx.send(());
            evloop::sleep(Duration::from_secs(3600)).await;
        }));
    }
    my_tasks += PENDING_TIMERS / 2;
    for _ in 0..PENDING_TIMERS / 2 {
        sleeping_rx.recv_timeout(PATIENCE).unwrap();
    }
    // The reactor counts its timers when it wakes up; a short timer wakes it.
    lp.run_until_complete(evloop::sleep(Duration::from_millis(5)));
    let timers = handle.pending_timers();
    assert!(timers >= PENDING_TIMERS, "{timers} pending timers");

    // The rest of the tasks: pending forever, and last, tasks that keep the
    // workers busy.
    // The loop's own tasks: one per timed callback, one per blocking job.
    let loop_tasks = PENDING_TIMERS / 2 + BLOCKING_JOBS;
    while my_tasks + loop_tasks + BUSY_TASKS < LIVE_TASKS {
        drop(handle.spawn(pending_with(task_drops.guard())));
        my_tasks += 1;
    }
    for _ in 0..BUSY_TASKS {
        let guard = task_drops.guard();
        drop(handle.spawn(async move {
            let _guard = guard;
            loop {
                evloop::yield_now().await;
            }
        }));
    }
    my_tasks += BUSY_TASKS;

    let live = lp.run_until_complete(async { evloop::all_tasks().len() });
    assert!(live >= LIVE_TASKS, "{live} live tasks");
    assert_eq!(task_drops.count(), 0);

    let started = Instant::now();
    lp.shutdown_timeout(SHUTDOWN_TIMEOUT);
    let took = started.elapsed();
    eprintln!("shutdown_timeout({SHUTDOWN_TIMEOUT:?}) under load returned after {took:?}");
    assert!(
        took < SHUTDOWN_TIMEOUT + SHUTDOWN_MARGIN,
        "shutdown_timeout({SHUTDOWN_TIMEOUT:?}) took {took:?}"
    );

    // Every future dropped exactly once; no timed callback ran, each was
    // dropped.
    assert_eq!(task_drops.count(), my_tasks);
    assert_eq!(callbacks_ran.load(Ordering::SeqCst), 0);
    assert_eq!(callback_drops.count(), PENDING_TIMERS / 2);

    // Every connection was closed: each peer sees end of stream or a reset.
    for client in &mut clients {
        client.set_read_timeout(Some(PATIENCE)).unwrap();
        let mut buf = [0; 1];
        match client.read(&mut buf) {
            Ok(0) => {}
            Err(error) if error.kind() == ErrorKind::ConnectionReset => {}
            other => panic!("a connection of the closed loop is still open: {other:?}"),
        }
    }
    drop(clients);

    // Workers and reactor are gone; blocking threads still inside their job
    // finish it once released, then exit.
    assert_eq!(threads_left("sul-worker"), Vec::<String>::new());
    assert_eq!(threads_left("sul-reactor"), Vec::<String>::new());
    assert_eq!(jobs_finished.load(Ordering::SeqCst), 0);
    gate.open();
    eventually("the blocking threads exit", || {
        threads_named("sul-blocking").is_empty()
    });
    assert_eq!(jobs_finished.load(Ordering::SeqCst), BLOCKING_JOBS);
    assert!(handle.is_closed());
    drop(handle);
    assert_eq!(open_descriptors(), descriptors_before, "descriptors leaked");
}

#[test]
fn shutdown_timeout_returns_on_time_when_a_task_blocks_its_worker() {
    let _exclusive = exclusive();
    let lp = event_loop(2, "sulblk");
    let drops = DropCounter::new();
    let (blocking_tx, blocking_rx) = mpsc::channel();
    let gate = Gate::default();
    let _open_on_failure = OpenOnDrop(gate.clone());
    drop(lp.handle().spawn({
        let (guard, gate) = (drops.guard(), gate.clone());
        async move {
            let _guard = guard;
            blocking_tx.send(()).unwrap();
            gate.wait();
            evloop::yield_now().await;
        }
    }));
    let waiting = drops.guard();
    drop(lp.handle().spawn(pending_with(waiting)));
    blocking_rx.recv_timeout(PATIENCE).unwrap();

    let started = Instant::now();
    lp.shutdown_timeout(Duration::from_millis(200));
    let took = started.elapsed();
    assert!(
        took < Duration::from_millis(200) + SHUTDOWN_MARGIN,
        "took {took:?}"
    );
    // The idle worker and the reactor are joined; the blocked one is left
    // to finish its poll.
    assert_eq!(threads_left("sulblk-reactor"), Vec::<String>::new());
    eventually("only the blocked worker is left", || {
        threads_named("sulblk-worker").len() == 1
    });
    gate.open();
    eventually("the blocked worker exits", || {
        threads_named("sulblk-worker").is_empty()
    });
    // Both futures were dropped once: the blocked one when its poll
    // returned.
    eventually("the blocked task's future is dropped", || {
        drops.count() == 2
    });
}
