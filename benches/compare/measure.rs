//! How a workload is timed: the run settings (filter, quick mode), both
//! runtimes built the same way, and warm-up + median over interleaved runs.

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Worker threads of both runtimes.
pub const WORKERS: usize = 2;

/// Set to anything but `0` for a smoke run: fewer warm-ups and iterations.
pub const QUICK_ENV: &str = "EVLOOP_BENCH_QUICK";
/// Overrides the number of measured iterations per workload.
pub const ITERATIONS_ENV: &str = "EVLOOP_BENCH_ITERATIONS";

/// What this run measures and how often.
#[derive(Debug)]
pub struct Settings {
    /// Only workloads (or sections) whose name contains this run.
    pub filter: Option<String>,
    pub quick: bool,
    pub warmup: usize,
    pub iterations: usize,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();
static SECTION: Mutex<&'static str> = Mutex::new("");

impl Settings {
    /// Reads the command line (`cargo bench --bench compare -- FILTER`;
    /// flags that cargo passes, such as `--bench`, are ignored) and the
    /// environment.
    pub fn from_env() -> Settings {
        let filter = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
        let quick = std::env::var(QUICK_ENV).is_ok_and(|v| !v.is_empty() && v != "0");
        let iterations = std::env::var(ITERATIONS_ENV)
            .ok()
            .and_then(|v| v.parse().ok())
            .filter(|&n: &usize| n > 0)
            .unwrap_or(if quick { 3 } else { 51 });
        Settings {
            filter,
            quick,
            warmup: if quick { 1 } else { 3 },
            iterations,
        }
    }
}

/// Installs the settings for this process; call once, first.
pub fn install(settings: Settings) {
    SETTINGS.set(settings).expect("settings installed once");
}

pub fn settings() -> &'static Settings {
    SETTINGS.get_or_init(Settings::from_env)
}

/// Tells `wanted` which section is running (its name matches the filter too).
pub fn enter_section(name: &'static str) {
    *SECTION.lock().unwrap_or_else(|e| e.into_inner()) = name;
}

/// Whether `workload` is selected by the filter. Bench modules call this
/// before running a workload, so a filtered run skips the others' cost.
pub fn wanted(workload: &str) -> bool {
    match &settings().filter {
        None => true,
        Some(filter) => {
            let section = *SECTION.lock().unwrap_or_else(|e| e.into_inner());
            workload.contains(filter.as_str()) || section.contains(filter.as_str())
        }
    }
}

/// The samples of one side: median and quartiles.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub median: Duration,
    pub q1: Duration,
    pub q3: Duration,
}

impl Sample {
    fn of(mut times: Vec<Duration>) -> Sample {
        times.sort();
        let at = |q: f64| times[((times.len() - 1) as f64 * q).round() as usize];
        Sample {
            median: at(0.5),
            q1: at(0.25),
            q3: at(0.75),
        }
    }

    /// The interquartile range in percent of the median.
    pub fn spread_percent(&self) -> f64 {
        let median = self.median.as_secs_f64();
        if median == 0.0 {
            0.0
        } else {
            100.0 * (self.q3 - self.q1).as_secs_f64() / median
        }
    }

    /// The median in `unit` (a time unit, see `table::seconds_per`).
    pub fn median_in(&self, unit: &str) -> f64 {
        let per = crate::table::seconds_per(unit).expect("a time unit");
        self.median.as_secs_f64() / per
    }
}

/// Runs both sides alternately (evloop, tokio, evloop, ...) so that a
/// burst of load from elsewhere on the machine hits both: first the
/// warm-up runs, then the measured ones. Each closure runs the workload
/// once and returns the time that counts (setup may be left out).
pub fn interleaved(
    mut evloop: impl FnMut() -> Duration,
    mut tokio: impl FnMut() -> Duration,
) -> (Sample, Sample) {
    let s = settings();
    for _ in 0..s.warmup {
        evloop();
        tokio();
    }
    let mut evloop_times = Vec::with_capacity(s.iterations);
    let mut tokio_times = Vec::with_capacity(s.iterations);
    for i in 0..s.iterations {
        // Alternate who goes first, so neither always runs on a machine
        // the other just warmed (or heated).
        if i % 2 == 0 {
            evloop_times.push(evloop());
            tokio_times.push(tokio());
        } else {
            tokio_times.push(tokio());
            evloop_times.push(evloop());
        }
    }
    (Sample::of(evloop_times), Sample::of(tokio_times))
}

/// Times one call of `f`.
pub fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// An evloop loop with `WORKERS` workers.
pub fn evloop_loop() -> evloop::EventLoop {
    evloop::EventLoop::builder()
        .worker_threads(WORKERS)
        .build()
        .expect("evloop loop starts")
}

/// A tokio multi-thread runtime with `WORKERS` workers.
pub fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .expect("tokio runtime starts")
}

/// A row from the two samples, in `unit`, with their spread.
pub fn row(workload: &str, unit: &'static str, evloop: Sample, tokio: Sample) -> crate::table::Row {
    crate::table::Row::new(
        workload,
        evloop.median_in(unit),
        tokio.median_in(unit),
        unit,
    )
    .with_spread(evloop.spread_percent(), tokio.spread_percent())
}
