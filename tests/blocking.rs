//! The blocking pool: `Handle::run_in_executor` and `evloop::to_thread`.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Barrier, Mutex};
use std::thread;
use std::time::Duration;

use evloop::{EventLoop, Handle};

const PATIENCE: Duration = Duration::from_secs(30);

fn new_loop(max_blocking_threads: usize) -> EventLoop {
    EventLoop::builder()
        .worker_threads(2)
        .max_blocking_threads(max_blocking_threads)
        .thread_name("pool-test")
        .build()
        .unwrap()
}

#[test]
fn run_in_executor_returns_the_closure_value() {
    let lp = new_loop(4);
    let handle = lp.handle();
    let value = lp.run_until_complete(async move { handle.run_in_executor(|| 6 * 7).await });
    assert_eq!(value.unwrap(), 42);
}

#[test]
fn jobs_run_on_threads_named_after_the_loop() {
    let lp = new_loop(4);
    let name = lp.run_until_complete(async {
        evloop::to_thread(|| thread::current().name().map(str::to_owned)).await
    });
    assert_eq!(name.unwrap().as_deref(), Some("pool-test-blocking"));
}

#[test]
fn pool_grows_beyond_the_workers_so_sixteen_jobs_meet_at_a_barrier() {
    let lp = new_loop(64);
    let barrier = Arc::new(Barrier::new(16));
    let total = lp.run_until_complete(async move {
        let jobs: Vec<_> = (0..16)
            .map(|i| {
                let barrier = barrier.clone();
                evloop::to_thread(move || {
                    // Returns only once all sixteen jobs run at the same time.
                    barrier.wait();
                    i
                })
            })
            .collect();
        let mut total = 0;
        for job in jobs {
            total += job.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..16).sum::<i32>());
}

#[test]
fn max_blocking_threads_is_respected_and_extra_jobs_wait_their_turn() {
    let lp = new_loop(2);
    let handle = lp.handle();
    let (started_tx, started) = mpsc::channel();
    let (release, gate) = mpsc::channel::<()>();
    let gate = Arc::new(Mutex::new(gate));
    let jobs: Vec<_> = (0..6)
        .map(|_| {
            let started_tx = started_tx.clone();
            let gate = gate.clone();
            handle.run_in_executor(move || {
                started_tx.send(thread::current().id()).unwrap();
                gate.lock().unwrap().recv().unwrap();
            })
        })
        .collect();

    let mut threads = HashSet::new();
    threads.insert(started.recv_timeout(PATIENCE).unwrap());
    threads.insert(started.recv_timeout(PATIENCE).unwrap());
    // Both threads are busy: a third job cannot start.
    assert_eq!(
        started.recv_timeout(Duration::from_millis(100)),
        Err(RecvTimeoutError::Timeout)
    );
    for _ in 0..6 {
        release.send(()).unwrap();
    }
    for _ in 0..4 {
        threads.insert(started.recv_timeout(PATIENCE).unwrap());
    }
    assert_eq!(threads.len(), 2, "jobs ran on more than two threads");
    lp.run_until_complete(async move {
        for job in jobs {
            job.await.unwrap();
        }
    });
}

/// Sends a message when the thread it lives on exits.
struct ReportExit(mpsc::Sender<thread::ThreadId>);

impl Drop for ReportExit {
    fn drop(&mut self) {
        let _ = self.0.send(thread::current().id());
    }
}

thread_local! {
    static EXIT_REPORT: std::cell::RefCell<Option<ReportExit>> = const { std::cell::RefCell::new(None) };
}

#[test]
fn idle_thread_exits_after_the_keep_alive() {
    let lp = EventLoop::builder()
        .worker_threads(1)
        .thread_keep_alive(Duration::from_millis(50))
        .build()
        .unwrap();
    let (exited_tx, exited) = mpsc::channel();
    let ran_on = lp
        .run_until_complete(async {
            evloop::to_thread(move || {
                EXIT_REPORT.with(|slot| *slot.borrow_mut() = Some(ReportExit(exited_tx)));
                thread::current().id()
            })
            .await
        })
        .unwrap();
    // The loop stays open: the thread leaves because it idled, not because
    // of a shutdown.
    assert_eq!(exited.recv_timeout(PATIENCE).unwrap(), ran_on);
    assert!(!lp.handle().is_closed());

    // The pool starts a new thread for the next job.
    let next = lp.run_until_complete(async { evloop::to_thread(|| thread::current().id()).await });
    assert_ne!(next.unwrap(), ran_on);
}

#[test]
fn a_panicking_job_is_reported_as_a_panic_with_its_payload() {
    let lp = new_loop(4);
    let err = lp
        .run_until_complete(async {
            evloop::to_thread(|| -> u8 { panic!("expected: job failed") }).await
        })
        .unwrap_err();
    assert!(err.is_panic());
    assert_eq!(err.panic_message(), Some("expected: job failed"));
    // The pool still works.
    let again = lp.run_until_complete(async { evloop::to_thread(|| 1).await });
    assert_eq!(again.unwrap(), 1);
}

#[test]
fn cancelling_a_queued_job_means_it_never_starts() {
    let lp = new_loop(1);
    let handle = lp.handle();
    let (release, gate) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel();
    let first = handle.run_in_executor(move || {
        started_tx.send(()).unwrap();
        gate.recv().unwrap();
    });
    started.recv_timeout(PATIENCE).unwrap();

    let ran = Arc::new(AtomicUsize::new(0));
    let counted = ran.clone();
    let queued = handle.run_in_executor(move || {
        counted.fetch_add(1, Ordering::SeqCst);
    });
    assert!(queued.cancel());
    // Wait until the cancel reached the loop (the task dropped its end).
    let queued_result = lp.run_until_complete(queued);
    assert!(queued_result.unwrap_err().is_cancelled());

    release.send(()).unwrap();
    // The single pool thread runs queued jobs in order: once this one ran,
    // the cancelled one had its turn.
    lp.run_until_complete(async move {
        first.await.unwrap();
        evloop::to_thread(|| ()).await.unwrap();
    });
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn close_waits_for_running_jobs_and_refuses_queued_ones() {
    let lp = new_loop(1);
    let handle = lp.handle();
    let (release, gate) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel();
    let finished = Arc::new(AtomicUsize::new(0));
    let running = {
        let finished = finished.clone();
        handle.run_in_executor(move || {
            started_tx.send(()).unwrap();
            gate.recv().unwrap();
            finished.fetch_add(1, Ordering::SeqCst);
        })
    };
    started.recv_timeout(PATIENCE).unwrap();
    let queued_ran = Arc::new(AtomicUsize::new(0));
    let queued = {
        let queued_ran = queued_ran.clone();
        handle.run_in_executor(move || {
            queued_ran.fetch_add(1, Ordering::SeqCst);
        })
    };

    let closer = {
        let finished = finished.clone();
        thread::spawn(move || {
            lp.close();
            // close() returned: the running job must have finished.
            finished.load(Ordering::SeqCst)
        })
    };
    while !handle.is_closed() {
        thread::yield_now();
    }
    release.send(()).unwrap();
    assert_eq!(closer.join().unwrap(), 1);
    assert_eq!(queued_ran.load(Ordering::SeqCst), 0);
    assert!(running.done() && queued.done());
}

#[test]
fn shutdown_timeout_stops_waiting_for_a_stuck_job() {
    let lp = new_loop(1);
    let (release, gate) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel();
    let (finished_tx, finished) = mpsc::channel();
    let job = lp.handle().run_in_executor(move || {
        started_tx.send(()).unwrap();
        gate.recv().unwrap();
        finished_tx.send(()).unwrap();
    });
    drop(job);
    started.recv_timeout(PATIENCE).unwrap();
    lp.shutdown_timeout(Duration::from_millis(50));
    // The job was still blocked when the shutdown gave up on it.
    assert_eq!(finished.try_recv(), Err(mpsc::TryRecvError::Empty));
    release.send(()).unwrap();
    finished.recv_timeout(PATIENCE).unwrap();
}

#[test]
fn blocking_jobs_can_submit_back_into_their_loop() {
    let lp = new_loop(4);
    let value = lp.run_until_complete(async {
        evloop::to_thread(|| {
            Handle::current()
                .run_coroutine_threadsafe(async { 20 + 1 })
                .result()
                .unwrap()
        })
        .await
    });
    assert_eq!(value.unwrap(), 21);
}

#[test]
#[should_panic(expected = "no current evloop event loop")]
fn to_thread_outside_a_loop_panics_with_a_clear_message() {
    drop(evloop::to_thread(|| ()));
}

/// A value whose destructor panics: user code the pool must survive.
struct PanicsOnDrop;

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        panic!("expected: a destructor panics");
    }
}

/// Closes `lp` on another thread; true when the close finished within
/// `PATIENCE` (a wedged close would otherwise hang the test).
fn close_finishes(lp: EventLoop) -> bool {
    let (done_tx, done) = mpsc::channel();
    thread::spawn(move || {
        lp.close();
        let _ = done_tx.send(());
    });
    done.recv_timeout(PATIENCE).is_ok()
}

/// After a destructor panicked on the only pool thread, the pool still
/// runs jobs and the loop still closes.
fn assert_pool_still_serves(lp: EventLoop) {
    let again =
        lp.run_until_complete(async { evloop::timeout(PATIENCE, evloop::to_thread(|| 7)).await });
    let Ok(again) = again else {
        // A wedged pool would also hang the loop's drop: leave it.
        std::mem::forget(lp);
        panic!("the pool took no new job");
    };
    assert_eq!(again.unwrap(), 7);
    assert!(close_finishes(lp), "close() waited forever for the pool");
}

#[test]
fn a_panicking_drop_of_a_result_nobody_waits_for_does_not_wedge_the_pool() {
    let lp = new_loop(1);
    let (release, gate) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel();
    let job = lp.handle().run_in_executor(move || {
        started_tx.send(()).unwrap();
        gate.recv().unwrap();
        PanicsOnDrop
    });
    started.recv_timeout(PATIENCE).unwrap();
    job.cancel();
    let cancelled = lp.run_until_complete(job);
    assert!(cancelled.is_err_and(|err| err.is_cancelled()));
    // The job returns now; its waiter is gone, so the pool drops the result.
    release.send(()).unwrap();
    assert_pool_still_serves(lp);
}

#[test]
fn a_panicking_drop_of_a_cancelled_queued_closure_does_not_wedge_the_pool() {
    let lp = new_loop(1);
    let handle = lp.handle();
    let (release, gate) = mpsc::channel::<()>();
    let (started_tx, started) = mpsc::channel();
    let first = handle.run_in_executor(move || {
        started_tx.send(()).unwrap();
        gate.recv().unwrap();
    });
    started.recv_timeout(PATIENCE).unwrap();
    let owned = PanicsOnDrop;
    let queued = handle.run_in_executor(move || {
        let _owned = &owned;
        unreachable!("a cancelled job never starts");
    });
    queued.cancel();
    assert!(
        lp.run_until_complete(queued)
            .is_err_and(|err| err.is_cancelled())
    );
    // The pool thread comes to the cancelled job and drops its closure.
    release.send(()).unwrap();
    lp.run_until_complete(first).unwrap();
    assert_pool_still_serves(lp);
}

/// Set in the child process of the test below.
const NO_THREADS_CHILD: &str = "EVLOOP_TEST_NO_BLOCKING_THREAD";

#[cfg(target_os = "linux")]
#[test]
fn run_in_executor_fails_with_the_os_error_when_no_thread_can_start() {
    if std::env::var_os(NO_THREADS_CHILD).is_some() {
        no_thread_can_start_child();
        return;
    }
    // The address-space limit must not hit the test harness's own threads:
    // run the scenario alone, in a child process.
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "run_in_executor_fails_with_the_os_error_when_no_thread_can_start",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(NO_THREADS_CHILD, "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("child: refused with the OS error"),
        "{stdout}"
    );
}

/// The child's half: with an address space too small for one more thread
/// stack, the pool (which has no thread yet) cannot start one. The job's
/// task must end with the OS's error, not wait forever.
#[cfg(target_os = "linux")]
fn no_thread_can_start_child() {
    let lp = EventLoop::builder()
        .worker_threads(1)
        .max_blocking_threads(1)
        .build()
        .unwrap();
    let handle = lp.handle();
    // Touch everything the wait below needs before the limit applies.
    lp.run_until_complete(evloop::timeout(
        PATIENCE,
        evloop::sleep(Duration::from_millis(1)),
    ))
    .unwrap();
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
    let pages: u64 = statm.split_whitespace().next().unwrap().parse().unwrap();
    // SAFETY: sysconf and setrlimit only read and write plain values.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
    // Room for small allocations, not for a 2 MiB thread stack.
    let limit = pages * page + 512 * 1024;
    let rlimit = libc::rlimit {
        rlim_cur: limit,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: `rlimit` is a valid, initialised struct.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &rlimit) }, 0);
    let job = handle.run_in_executor(|| 1);
    let outcome = lp.run_until_complete(evloop::timeout(PATIENCE, job));
    let lifted = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: as above.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &lifted) }, 0);
    let err = outcome
        .expect("the job's task ended instead of hanging")
        .unwrap_err();
    let os = err.os_error().expect("the error carries the OS's error");
    assert!(os.raw_os_error().is_some(), "{os:?}");
    assert!(!err.is_panic() && !err.is_cancelled() && !err.is_loop_closed());
    assert!(err.to_string().contains(&os.to_string()), "{err}");
    // Once the OS allows threads again, the pool works.
    let again = lp.run_until_complete(evloop::timeout(PATIENCE, handle.run_in_executor(|| 2)));
    assert_eq!(again.unwrap().unwrap(), 2);
    println!("child: refused with the OS error: {err}");
    lp.close();
}
