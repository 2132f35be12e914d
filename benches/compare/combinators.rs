//! `evloop::gather` against tokio's `JoinSet`, two worker threads each.
//!
//! - **gather 100k from outside**: the future driven by
//!   `run_until_complete` / `block_on` (on the calling thread, not a worker)
//!   gathers 100 000 trivial futures, so every spawn goes through the
//!   runtime's injection queue.
//! - **gather 100k from a task**: the same from inside a spawned task, so
//!   the spawns land in a worker's local queue.
//!
//! evloop: `gather(futures).await`, which spawns each future as a task and
//! collects the values in input order. tokio: spawn each into a `JoinSet`
//! and `join_next` until it is empty, collecting in completion order (tokio
//! has no ordered gather; the ordering costs evloop a little).
//!
//! Each workload runs on a fresh runtime, alternating between the two,
//! `RUNS` times; the fastest run counts. Only the workload is timed, not
//! building or closing the runtime.

use std::future::Future;
use std::time::{Duration, Instant};

const WORKERS: usize = 2;
const RUNS: usize = 5;
const FUTURES: u64 = 100_000;

/// One row per workload: (name, evloop seconds, tokio seconds, unit).
pub fn rows() -> Vec<(String, f64, f64, &'static str)> {
    let (evloop_outside, tokio_outside) =
        best_of_both(|| evloop_time(evloop_gather), || tokio_time(tokio_join_set));
    let (evloop_inside, tokio_inside) = best_of_both(
        || {
            evloop_time(|| async {
                evloop::spawn(evloop_gather())
                    .await
                    .expect("the gathering task succeeds")
            })
        },
        || {
            tokio_time(|| async {
                tokio::spawn(tokio_join_set())
                    .await
                    .expect("the gathering task succeeds")
            })
        },
    );
    vec![
        (
            "combinators: gather 100k trivial futures, from outside the loop".to_string(),
            evloop_outside,
            tokio_outside,
            "s",
        ),
        (
            "combinators: gather 100k trivial futures, from a task".to_string(),
            evloop_inside,
            tokio_inside,
            "s",
        ),
    ]
}

async fn evloop_gather() {
    let values = evloop::gather((0..FUTURES).map(|i| async move { i }))
        .await
        .expect("no child fails");
    assert_eq!(values.len() as u64, FUTURES);
}

async fn tokio_join_set() {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..FUTURES {
        set.spawn(async move { i });
    }
    let mut values = Vec::with_capacity(FUTURES as usize);
    while let Some(value) = set.join_next().await {
        values.push(value.expect("no child fails"));
    }
    assert_eq!(values.len() as u64, FUTURES);
}

/// Runs both sides alternately `RUNS` times; the fastest of each, in seconds.
fn best_of_both(
    mut evloop: impl FnMut() -> Duration,
    mut tokio: impl FnMut() -> Duration,
) -> (f64, f64) {
    let (mut best_evloop, mut best_tokio) = (Duration::MAX, Duration::MAX);
    for _ in 0..RUNS {
        best_evloop = best_evloop.min(evloop());
        best_tokio = best_tokio.min(tokio());
    }
    (best_evloop.as_secs_f64(), best_tokio.as_secs_f64())
}

fn evloop_time<F: Future<Output = ()>>(workload: impl FnOnce() -> F) -> Duration {
    let event_loop = evloop::EventLoop::builder()
        .worker_threads(WORKERS)
        .build()
        .expect("build an evloop loop");
    let future = workload();
    let start = Instant::now();
    event_loop.run_until_complete(future);
    let elapsed = start.elapsed();
    event_loop.close();
    elapsed
}

fn tokio_time<F: Future<Output = ()>>(workload: impl FnOnce() -> F) -> Duration {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .build()
        .expect("build a tokio runtime");
    let future = workload();
    let start = Instant::now();
    runtime.block_on(future);
    let elapsed = start.elapsed();
    drop(runtime);
    elapsed
}
