//! The thread-loop bridge, evloop against tokio (both with 2 worker
//! threads), driven from a plain thread that is not one of the runtime's:
//!
//! - `coroutine_threadsafe_rtt_mean` / `_p99`: the thread submits a trivial
//!   coroutine and blocks until its result is back, 20 000 times in a row.
//!   evloop: `Handle::run_coroutine_threadsafe` + `ConcurrentFuture::result`;
//!   tokio: `Handle::spawn` of a task that answers on a
//!   `tokio::sync::oneshot`, awaited with `blocking_recv`.
//! - `call_soon_threadsafe_1m`: the thread submits 1 000 000 callbacks; the
//!   time until the last one ran, per callback. evloop:
//!   `Handle::call_soon_threadsafe`; tokio: `Handle::spawn` of a task running
//!   the same closure (tokio has no callback queue).
//!
//! `benches/asyncio_bridge.py` measures the same workloads under the same
//! names with Python's asyncio and uvloop.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

/// Worker threads of both runtimes.
const WORKERS: usize = 2;
/// Sequential round trips per run.
const ROUND_TRIPS: usize = 20_000;
/// Callbacks per run.
const CALLBACKS: usize = 1_000_000;

/// Set to anything but `0` for a smoke run: fewer runs.
const QUICK_ENV: &str = "EVLOOP_BENCH_QUICK";

fn quick() -> bool {
    std::env::var(QUICK_ENV).is_ok_and(|v| !v.is_empty() && v != "0")
}

fn runs() -> usize {
    if quick() { 1 } else { 5 }
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

fn median(samples: &mut [f64]) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// Mean and 99th percentile of round-trip times, in microseconds.
fn mean_and_p99(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let micros = |d: Duration| d.as_secs_f64() * 1e6;
    let mean = samples.iter().copied().map(micros).sum::<f64>() / samples.len() as f64;
    let p99 = micros(samples[((samples.len() - 1) as f64 * 0.99).round() as usize]);
    (mean, p99)
}

fn evloop_round_trips(handle: &evloop::Handle) -> Vec<Duration> {
    (0..ROUND_TRIPS)
        .map(|i| {
            let start = Instant::now();
            let value = handle
                .run_coroutine_threadsafe(async move { i })
                .result()
                .expect("the coroutine completes");
            let elapsed = start.elapsed();
            assert_eq!(value, i);
            elapsed
        })
        .collect()
}

fn tokio_round_trips(handle: &tokio::runtime::Handle) -> Vec<Duration> {
    (0..ROUND_TRIPS)
        .map(|i| {
            let start = Instant::now();
            let (tx, rx) = tokio::sync::oneshot::channel();
            drop(handle.spawn(async move {
                let _ = tx.send(i);
            }));
            let value = rx.blocking_recv().expect("the task answers");
            let elapsed = start.elapsed();
            assert_eq!(value, i);
            elapsed
        })
        .collect()
}

/// Where the callbacks of one run count themselves. Leaked, so that a
/// callback captures a plain reference: the closures cost the same on both
/// runtimes and share no reference count with the submitting thread.
struct Tally {
    ran: AtomicUsize,
    done: Mutex<Option<mpsc::SyncSender<Instant>>>,
}

fn new_tally() -> (&'static Tally, mpsc::Receiver<Instant>) {
    let (done, finished) = mpsc::sync_channel(1);
    let tally = Box::leak(Box::new(Tally {
        ran: AtomicUsize::new(0),
        done: Mutex::new(Some(done)),
    }));
    (tally, finished)
}

/// A closure that signals the end of the run when it is the last of
/// `CALLBACKS` to run.
fn counting_callback(tally: &'static Tally) -> impl FnOnce() + Send + 'static {
    move || {
        if tally.ran.fetch_add(1, Ordering::Relaxed) + 1 == CALLBACKS {
            let done = tally.done.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(done) = done {
                let _ = done.send(Instant::now());
            }
        }
    }
}

/// Nanoseconds per callback, from the first submission to the last run.
fn evloop_callbacks(handle: &evloop::Handle) -> f64 {
    let (tally, finished) = new_tally();
    let start = Instant::now();
    for _ in 0..CALLBACKS {
        drop(handle.call_soon_threadsafe(counting_callback(tally)));
    }
    let end = finished.recv().expect("the last callback runs");
    (end - start).as_secs_f64() * 1e9 / CALLBACKS as f64
}

fn tokio_callbacks(handle: &tokio::runtime::Handle) -> f64 {
    let (tally, finished) = new_tally();
    let start = Instant::now();
    for _ in 0..CALLBACKS {
        let callback = counting_callback(tally);
        drop(handle.spawn(async move { callback() }));
    }
    let end = finished.recv().expect("the last callback runs");
    (end - start).as_secs_f64() * 1e9 / CALLBACKS as f64
}

/// The bridge rows: `(workload, evloop, tokio, unit)`.
pub fn rows() -> Vec<(String, f64, f64, &'static str)> {
    let event_loop = evloop_loop();
    let evloop_handle = event_loop.handle();
    let runtime = tokio_runtime();
    let tokio_handle = runtime.handle().clone();

    // Warm-up: threads started, allocator and caches primed.
    evloop_round_trips(&evloop_handle);
    tokio_round_trips(&tokio_handle);

    let (mut ev_mean, mut ev_p99, mut tk_mean, mut tk_p99) = (vec![], vec![], vec![], vec![]);
    let (mut ev_cb, mut tk_cb) = (vec![], vec![]);
    for run in 0..runs() {
        // Alternate who goes first, so neither always runs on a machine
        // the other just warmed.
        let mut evloop_side = || {
            let (mean, p99) = mean_and_p99(evloop_round_trips(&evloop_handle));
            ev_mean.push(mean);
            ev_p99.push(p99);
            ev_cb.push(evloop_callbacks(&evloop_handle));
        };
        let mut tokio_side = || {
            let (mean, p99) = mean_and_p99(tokio_round_trips(&tokio_handle));
            tk_mean.push(mean);
            tk_p99.push(p99);
            tk_cb.push(tokio_callbacks(&tokio_handle));
        };
        if run % 2 == 0 {
            evloop_side();
            tokio_side();
        } else {
            tokio_side();
            evloop_side();
        }
    }
    drop(runtime);
    event_loop.close();

    vec![
        (
            "coroutine_threadsafe_rtt_mean".to_owned(),
            median(&mut ev_mean),
            median(&mut tk_mean),
            "µs",
        ),
        (
            "coroutine_threadsafe_rtt_p99".to_owned(),
            median(&mut ev_p99),
            median(&mut tk_p99),
            "µs",
        ),
        (
            "call_soon_threadsafe_1m".to_owned(),
            median(&mut ev_cb),
            median(&mut tk_cb),
            "ns/callback",
        ),
    ]
}
