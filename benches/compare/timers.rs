//! Timers, evloop against tokio (both with 2 worker threads):
//!
//! - 100 000 concurrent sleeps of 1-50 ms (pseudo-random): time until all
//!   have completed;
//! - the latency a single 1 ms sleep adds beyond its 1 ms (median and p99).

use std::time::{Duration, Instant};

/// Worker threads of both runtimes.
const WORKERS: usize = 2;
/// Concurrent sleeps of the "many sleeps" workload.
const SLEEPS: usize = 100_000;
/// Repetitions of the "many sleeps" workload (the median is reported).
const SLEEP_ROUNDS: usize = 5;
/// Sequential 1 ms sleeps measured for the latency workload.
const LATENCY_SAMPLES: usize = 500;

/// A small deterministic pseudo-random sequence (xorshift).
fn pseudo_random(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// The sleep durations of the "many sleeps" workload, the same for both.
fn sleep_durations() -> Vec<Duration> {
    let mut state = 0x2545_f491_4f6c_dd1d;
    (0..SLEEPS)
        .map(|_| Duration::from_millis(1 + pseudo_random(&mut state) % 50))
        .collect()
}

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn percentile(samples: &mut [f64], fraction: f64) -> f64 {
    samples.sort_by(f64::total_cmp);
    let index = ((samples.len() as f64 - 1.0) * fraction).round() as usize;
    samples[index]
}

fn evloop_loop() -> evloop::EventLoop {
    evloop::EventLoop::builder()
        .worker_threads(WORKERS)
        .build()
        .expect("start an evloop loop")
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .expect("start a tokio runtime")
}

/// Milliseconds until 100 000 concurrent sleeps have all completed (evloop).
pub fn evloop_many_sleeps() -> f64 {
    let lp = evloop_loop();
    let durations = sleep_durations();
    let mut rounds: Vec<f64> = (0..SLEEP_ROUNDS)
        .map(|_| {
            lp.run_until_complete(async {
                let start = Instant::now();
                let tasks: Vec<_> = durations
                    .iter()
                    .map(|&d| evloop::spawn(evloop::sleep(d)))
                    .collect();
                for task in tasks {
                    task.await.expect("sleep task");
                }
                start.elapsed().as_secs_f64() * 1e3
            })
        })
        .collect();
    lp.close();
    median(&mut rounds)
}

/// Milliseconds until 100 000 concurrent sleeps have all completed (tokio).
pub fn tokio_many_sleeps() -> f64 {
    let rt = tokio_runtime();
    let durations = sleep_durations();
    let mut rounds: Vec<f64> = (0..SLEEP_ROUNDS)
        .map(|_| {
            rt.block_on(async {
                let start = Instant::now();
                let tasks: Vec<_> = durations
                    .iter()
                    .map(|&d| tokio::spawn(tokio::time::sleep(d)))
                    .collect();
                for task in tasks {
                    task.await.expect("sleep task");
                }
                start.elapsed().as_secs_f64() * 1e3
            })
        })
        .collect();
    median(&mut rounds)
}

/// Microseconds a 1 ms sleep took beyond 1 ms, per sample (evloop). The
/// sleeps run in a spawned task, as a server's would.
pub fn evloop_sleep_latency() -> Vec<f64> {
    let lp = evloop_loop();
    let samples = lp.run_until_complete(async {
        evloop::spawn(async {
            let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
            for _ in 0..LATENCY_SAMPLES {
                let start = Instant::now();
                evloop::sleep(Duration::from_millis(1)).await;
                samples.push((start.elapsed().as_secs_f64() - 1e-3) * 1e6);
            }
            samples
        })
        .await
        .expect("latency task")
    });
    lp.close();
    samples
}

/// Microseconds a 1 ms sleep took beyond 1 ms, per sample (tokio).
pub fn tokio_sleep_latency() -> Vec<f64> {
    let rt = tokio_runtime();
    rt.block_on(async {
        tokio::spawn(async {
            let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
            for _ in 0..LATENCY_SAMPLES {
                let start = Instant::now();
                tokio::time::sleep(Duration::from_millis(1)).await;
                samples.push((start.elapsed().as_secs_f64() - 1e-3) * 1e6);
            }
            samples
        })
        .await
        .expect("latency task")
    })
}

/// The timer rows: `(workload, evloop, tokio, unit)`; lower is better for
/// every row.
pub fn rows() -> Vec<(String, f64, f64, &'static str)> {
    let many_evloop = evloop_many_sleeps();
    let many_tokio = tokio_many_sleeps();
    let mut latency_evloop = evloop_sleep_latency();
    let mut latency_tokio = tokio_sleep_latency();
    vec![
        (
            format!("{SLEEPS} sleeps of 1-50 ms, all done"),
            many_evloop,
            many_tokio,
            "ms",
        ),
        (
            "1 ms sleep, added latency (median)".to_owned(),
            median(&mut latency_evloop),
            median(&mut latency_tokio),
            "us",
        ),
        (
            "1 ms sleep, added latency (p99)".to_owned(),
            percentile(&mut latency_evloop, 0.99),
            percentile(&mut latency_tokio, 0.99),
            "us",
        ),
    ]
}
