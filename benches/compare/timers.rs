//! Timers, the same code on both runtimes (see `runtimes.rs`):
//!
//! - 100 000 concurrent sleeps of 1-50 ms (pseudo-random, the same
//!   durations on both): time from the first spawn until all have
//!   completed;
//! - the latency a 1 ms sleep adds beyond its 1 ms: 500 sleeps in a row in
//!   a spawned task (as a server's would be), and per run the median and
//!   the 99th percentile of those 500.

use std::time::{Duration, Instant};

use crate::measure::{Section, percentile};
use crate::runtimes::{Evloop, Runtime, Tokio};
use crate::table::Row;

/// Concurrent sleeps of the "many sleeps" workload.
const SLEEPS: usize = 100_000;
/// Sequential 1 ms sleeps per run of the latency workload.
const LATENCY_SAMPLES: usize = 500;
const LATENCY_SLEEP: Duration = Duration::from_millis(1);

pub fn rows() -> Vec<Row> {
    let durations = sleep_durations();
    let mut section = Section::new();
    section
        .time(
            format!("{SLEEPS} sleeps of 1-50 ms, all done"),
            "ms",
            |rt| many_sleeps::<Evloop>(rt, &durations),
            |rt| many_sleeps::<Tokio>(rt, &durations),
        )
        .figures(
            [
                ("1 ms sleep, added latency (median)".to_owned(), "µs"),
                ("1 ms sleep, added latency (p99)".to_owned(), "µs"),
            ],
            sleep_latency::<Evloop>,
            sleep_latency::<Tokio>,
        );
    section.into_rows()
}

/// A small deterministic pseudo-random sequence (xorshift).
fn pseudo_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// The sleep durations of the "many sleeps" workload.
fn sleep_durations() -> Vec<Duration> {
    let mut state = 0x2545_f491_4f6c_dd1d;
    (0..SLEEPS)
        .map(|_| Duration::from_millis(1 + pseudo_random(&mut state) % 50))
        .collect()
}

fn many_sleeps<R: Runtime>(rt: &R, durations: &[Duration]) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        let tasks: Vec<_> = durations.iter().map(|&d| R::spawn(R::sleep(d))).collect();
        for task in tasks {
            task.await.expect("sleep task");
        }
        start.elapsed()
    })
}

/// Seconds a 1 ms sleep took beyond 1 ms: [median, p99] of this run.
fn sleep_latency<R: Runtime>(rt: &R) -> [f64; 2] {
    let mut added = rt.block_on(async {
        R::spawn(async {
            let mut added = Vec::with_capacity(LATENCY_SAMPLES);
            for _ in 0..LATENCY_SAMPLES {
                let start = Instant::now();
                R::sleep(LATENCY_SLEEP).await;
                added.push(start.elapsed().as_secs_f64() - LATENCY_SLEEP.as_secs_f64());
            }
            added
        })
        .await
        .expect("latency task")
    });
    added.sort_by(f64::total_cmp);
    [percentile(&added, 0.5), percentile(&added, 0.99)]
}
