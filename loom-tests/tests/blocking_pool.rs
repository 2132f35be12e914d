//! The blocking pool behind `run_in_executor`: a job submitted as a pool
//! thread goes idle, as its keep-alive runs out, and as the loop closes.
//!
//! The real pool runs with its threads as loom threads. A job that nobody
//! runs leaves its submitter waiting for good, and an idle thread that
//! nobody wakes at shutdown never exits: loom reports both as a deadlock.
#![cfg(loom)]

use std::time::Duration;

use evloop::loom_hooks::BlockingPool;
use evloop_loom_tests::{Counter, Coverage, model};
use loom::sync::Arc;
use loom::thread;

/// Long enough never to run out: under loom, idle threads wait for a
/// wake-up.
const NEVER: Duration = Duration::from_secs(3600);

/// Shuts the pool down as the loop's close does, and checks that it ends
/// with no thread, no queued job and every idle thread gone.
fn close(pool: &BlockingPool) {
    pool.begin_shutdown();
    pool.wait_for_running_jobs();
    assert_eq!(pool.queued(), 0);
}

/// The only pool thread finishes a job and goes idle while a second job
/// comes: the job is queued for it or handed to it as an idle thread, and
/// either way it runs; at the close the idle thread is woken and exits.
#[test]
fn a_job_submitted_as_the_only_thread_goes_idle_runs() {
    model(|| {
        let pool = BlockingPool::new(1, NEVER);
        let first = pool.submit(|| 1);
        assert_eq!(first.wait().expect("job outcome").expect("job runs"), 1);
        let second = pool.submit(|| 2);
        assert_eq!(second.wait().expect("job outcome").expect("job runs"), 2);
        close(&pool);
    });
}

/// The only pool thread's keep-alive runs out while a job comes: either the
/// thread takes the job, or it has left (and counts no more) and the job
/// starts a new thread. The job runs.
#[test]
fn a_job_submitted_as_the_keep_alive_runs_out_runs() {
    model(|| {
        let pool = BlockingPool::new(1, Duration::ZERO);
        let first = pool.submit(|| 1);
        assert_eq!(first.wait().expect("job outcome").expect("job runs"), 1);
        let second = pool.submit(|| 2);
        assert_eq!(second.wait().expect("job outcome").expect("job runs"), 2);
        close(&pool);
        assert!(pool.threads() <= 1);
    });
}

/// The loop closes while one job runs and another is submitted: the second
/// one runs or is refused with "loop closed", never lost; the close waits
/// until every job that started has finished; idle threads exit.
#[test]
fn closing_waits_for_running_jobs_and_refuses_or_runs_a_racing_one() {
    static OUTCOMES: Coverage = Coverage::new(&["ran", "refused"]);
    model(|| {
        let pool = Arc::new(BlockingPool::new(1, NEVER));
        let started = Counter::new();
        let finished = Counter::new();
        let job = |value| {
            let started = started.clone();
            let finished = finished.clone();
            move || {
                started.increment();
                // A point where loom may run the closing thread.
                thread::yield_now();
                finished.increment();
                value
            }
        };
        let first = pool.submit(job(1));
        let closer = thread::spawn({
            let pool = pool.clone();
            let started = started.clone();
            let finished = finished.clone();
            move || {
                close(&pool);
                assert_eq!(
                    started.get(),
                    finished.get(),
                    "the close waits for running jobs"
                );
            }
        });
        let second = pool.submit(job(2));
        assert_eq!(first.wait().expect("job outcome").expect("job runs"), 1);
        match second.wait().expect("the job runs or is refused") {
            Ok(value) => {
                assert_eq!(value, 2);
                OUTCOMES.reached("ran");
            }
            Err(error) => {
                assert!(error.is_loop_closed(), "refused: {error}");
                OUTCOMES.reached("refused");
            }
        }
        closer.join().expect("the closing thread does not panic");
    });
    OUTCOMES.assert_all_reached();
}
