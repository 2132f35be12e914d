//! The thread-loop bridge, driven from a plain thread that is not one of
//! the runtime's:
//!
//! - `coroutine_threadsafe_rtt_mean` / `_p99`: the thread submits a trivial
//!   coroutine and blocks until its result is back, 20 000 times in a row;
//!   per run the mean and the 99th percentile of those round trips.
//!   evloop: `Handle::run_coroutine_threadsafe` + `ConcurrentFuture::result`;
//!   tokio: `Handle::spawn` of a task that answers on a
//!   `tokio::sync::oneshot`, awaited with `blocking_recv`.
//! - `call_soon_threadsafe_1m`: the thread submits 1 000 000 callbacks; the
//!   rate from the first submission until the last callback ran. evloop:
//!   `Handle::call_soon_threadsafe`; tokio: `Handle::spawn` of a task running
//!   the same closure (tokio has no callback queue).
//!
//! `benches/asyncio_bridge.py` measures the same workloads under the same
//! names with Python's asyncio and uvloop.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use crate::measure::{Section, percentile};
use crate::table::Row;

/// Sequential round trips per run.
const ROUND_TRIPS: usize = 20_000;
/// Callbacks per run.
const CALLBACKS: usize = 1_000_000;

pub fn rows() -> Vec<Row> {
    let mut section = Section::new();
    section
        .figures(
            [
                ("coroutine_threadsafe_rtt_mean".to_owned(), "µs"),
                ("coroutine_threadsafe_rtt_p99".to_owned(), "µs"),
            ],
            |rt| mean_and_p99(evloop_round_trips(rt.handle())),
            |rt| mean_and_p99(tokio_round_trips(rt.handle())),
        )
        .figures(
            [("call_soon_threadsafe_1m".to_owned(), "M callbacks/s")],
            |rt| [evloop_callbacks(rt.handle())],
            |rt| [tokio_callbacks(rt.handle())],
        );
    section.into_rows()
}

/// Mean and 99th percentile of round-trip times, in seconds.
fn mean_and_p99(samples: Vec<Duration>) -> [f64; 2] {
    let mut seconds: Vec<f64> = samples.iter().map(Duration::as_secs_f64).collect();
    seconds.sort_by(f64::total_cmp);
    let mean = seconds.iter().sum::<f64>() / seconds.len() as f64;
    [mean, percentile(&seconds, 0.99)]
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

/// Seconds per callback, from the first submission to the last run.
fn evloop_callbacks(handle: &evloop::Handle) -> f64 {
    let (tally, finished) = new_tally();
    let start = Instant::now();
    for _ in 0..CALLBACKS {
        drop(handle.call_soon_threadsafe(counting_callback(tally)));
    }
    let end = finished.recv().expect("the last callback runs");
    (end - start).as_secs_f64() / CALLBACKS as f64
}

fn tokio_callbacks(handle: &tokio::runtime::Handle) -> f64 {
    let (tally, finished) = new_tally();
    let start = Instant::now();
    for _ in 0..CALLBACKS {
        let callback = counting_callback(tally);
        drop(handle.spawn(async move { callback() }));
    }
    let end = finished.recv().expect("the last callback runs");
    (end - start).as_secs_f64() / CALLBACKS as f64
}
