//! How a workload is measured: the run settings (filter, quick mode, time
//! budget) and `Section`, the one way every section compares the two
//! runtimes: warm-up, then runs that alternate between evloop and tokio,
//! then the median and interquartile range of each side.

use std::cell::OnceCell;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::runtimes::{Evloop, Peer, Tokio};
use crate::table::{self, Row};

/// Set to anything but `0` for a smoke run: fewer warm-ups and iterations.
pub const QUICK_ENV: &str = "EVLOOP_BENCH_QUICK";
/// Overrides the number of measured runs per workload.
pub const ITERATIONS_ENV: &str = "EVLOOP_BENCH_ITERATIONS";
/// Overrides the time budget of a workload's measured runs, in seconds.
pub const SECONDS_ENV: &str = "EVLOOP_BENCH_SECONDS";

/// What this run measures and how often.
#[derive(Debug)]
pub struct Settings {
    /// Only workloads (or sections) whose name contains this run.
    pub filter: Option<String>,
    pub quick: bool,
    /// Warm-up runs per side, at most (see `interleaved`).
    pub warmup: usize,
    /// Measured runs per side, at most.
    pub iterations: usize,
    /// Measured runs per side, at least, whatever the budget.
    pub min_runs: usize,
    /// Once a workload's measured runs (both sides, setup included) have
    /// taken this long and there are `min_runs` of them, it stops: a
    /// workload that takes a second per run gets fewer runs than one that
    /// takes a millisecond, and the whole table stays within minutes.
    pub budget: Duration,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();
static SECTION: Mutex<&'static str> = Mutex::new("");

fn env_number<T: std::str::FromStr>(name: &str) -> Option<T> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

impl Settings {
    /// Reads the command line (`cargo bench --bench compare -- FILTER`;
    /// flags that cargo passes, such as `--bench`, are ignored) and the
    /// environment.
    pub fn from_env() -> Settings {
        let filter = std::env::args().skip(1).find(|arg| !arg.starts_with('-'));
        let quick = std::env::var(QUICK_ENV).is_ok_and(|v| !v.is_empty() && v != "0");
        let iterations = env_number(ITERATIONS_ENV)
            .filter(|&n: &usize| n > 0)
            .unwrap_or(if quick { 3 } else { 51 });
        let budget = env_number(SECONDS_ENV)
            .filter(|&s: &f64| s.is_finite() && s >= 0.0)
            .map(Duration::from_secs_f64)
            .unwrap_or(Duration::from_secs(10));
        Settings {
            filter,
            quick,
            warmup: if quick { 1 } else { 3 },
            iterations,
            min_runs: iterations.min(5),
            budget,
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

/// Whether `workload` is selected by the filter. `Section` asks before
/// running a workload, so a filtered run skips the others' cost.
pub fn wanted(workload: &str) -> bool {
    match &settings().filter {
        None => true,
        Some(filter) => {
            let section = *SECTION.lock().unwrap_or_else(|e| e.into_inner());
            workload.contains(filter.as_str()) || section.contains(filter.as_str())
        }
    }
}

/// Times one call of `f`.
pub fn timed(f: impl FnOnce()) -> Duration {
    let start = Instant::now();
    f();
    start.elapsed()
}

/// The value at `fraction` (0 to 1) of the way through `sorted`, which is
/// sorted and not empty: 0.5 is the median, 0.99 the 99th percentile.
pub fn percentile(sorted: &[f64], fraction: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * fraction).round() as usize]
}

/// The runs of one side, in the row's unit: median and quartiles.
#[derive(Debug, Clone, Copy)]
struct Sample {
    median: f64,
    q1: f64,
    q3: f64,
}

impl Sample {
    fn of(values: impl Iterator<Item = f64>) -> Sample {
        let mut values: Vec<f64> = values.collect();
        values.sort_by(f64::total_cmp);
        Sample {
            median: percentile(&values, 0.5),
            q1: percentile(&values, 0.25),
            q3: percentile(&values, 0.75),
        }
    }

    /// The interquartile range in percent of the median.
    fn spread_percent(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            100.0 * (self.q3 - self.q1) / self.median
        }
    }
}

/// Runs both sides alternately (evloop, tokio, tokio, evloop, ...) so
/// that a burst of load from elsewhere on the machine hits both: first up
/// to `warmup` runs each (fewer once they have taken a tenth of the budget:
/// a long workload warms up in one run), then the measured runs, as many
/// as `iterations` and the budget allow. Returns what each measured run
/// returned.
fn interleaved<T>(mut evloop: impl FnMut() -> T, mut tokio: impl FnMut() -> T) -> (Vec<T>, Vec<T>) {
    let s = settings();
    let warming = Instant::now();
    for _ in 0..s.warmup {
        evloop();
        tokio();
        if warming.elapsed() >= s.budget / 10 {
            break;
        }
    }
    let measuring = Instant::now();
    let mut evloop_runs = Vec::with_capacity(s.iterations);
    let mut tokio_runs = Vec::with_capacity(s.iterations);
    for i in 0..s.iterations {
        if i >= s.min_runs && measuring.elapsed() >= s.budget {
            break;
        }
        // Alternate who goes first, so neither always runs on a machine
        // the other just warmed (or heated).
        if i % 2 == 0 {
            evloop_runs.push(evloop());
            tokio_runs.push(tokio());
        } else {
            tokio_runs.push(tokio());
            evloop_runs.push(evloop());
        }
    }
    (evloop_runs, tokio_runs)
}

/// The workloads of one section and their rows. The section's workloads
/// share one evloop loop and one tokio runtime, built when the first
/// wanted workload runs (a section filtered out entirely builds neither).
pub struct Section<P = Tokio> {
    runtimes: OnceCell<(Evloop, P)>,
    rows: Vec<Row>,
    /// Where the rows of the last measured workload start.
    last: usize,
}

impl Section {
    /// A section against tokio.
    pub fn new() -> Section {
        Section::against()
    }
}

impl<P: Peer> Section<P> {
    /// A section against the peer `P`.
    pub fn against() -> Section<P> {
        Section {
            runtimes: OnceCell::new(),
            rows: Vec::new(),
            last: 0,
        }
    }

    /// Measures a workload whose run returns the time it took (setup may
    /// be left out); one row, in the time `unit`.
    pub fn time(
        &mut self,
        workload: impl Into<String>,
        unit: &'static str,
        mut evloop: impl FnMut(&Evloop) -> Duration,
        mut tokio: impl FnMut(&P) -> Duration,
    ) -> &mut Section<P> {
        self.figures(
            [(workload.into(), unit)],
            move |rt| [evloop(rt).as_secs_f64()],
            move |rt| [tokio(rt).as_secs_f64()],
        )
    }

    /// Measures a workload whose run returns `N` figures, one per row, in
    /// seconds: the time of the run, a time per item (the row of a rate
    /// such as `req/s` shows its inverse), or a statistic of samples the
    /// run took itself (a percentile of round trips). Each row shows the
    /// median over the runs of its figure.
    pub fn figures<const N: usize>(
        &mut self,
        rows: [(String, &'static str); N],
        mut evloop: impl FnMut(&Evloop) -> [f64; N],
        mut tokio: impl FnMut(&P) -> [f64; N],
    ) -> &mut Section<P> {
        self.last = self.rows.len();
        if !rows.iter().any(|(workload, _)| wanted(workload)) {
            return self;
        }
        let names: Vec<&str> = rows.iter().map(|(workload, _)| workload.as_str()).collect();
        eprintln!("  {}", names.join(" / "));
        let (on_evloop, on_tokio) = self.runtimes.get_or_init(|| (Evloop::new(), P::new()));
        let (evloop_runs, tokio_runs) = interleaved(|| evloop(on_evloop), || tokio(on_tokio));
        for (i, (workload, unit)) in rows.into_iter().enumerate() {
            let side = |runs: &[[f64; N]]| {
                Sample::of(
                    runs.iter()
                        .map(|figures| table::from_seconds(figures[i], unit)),
                )
            };
            let (e, t) = (side(&evloop_runs), side(&tokio_runs));
            self.rows.push(
                Row::new(workload, e.median, t.median, unit)
                    .with_spread(e.spread_percent(), t.spread_percent())
                    .with_runs(evloop_runs.len()),
            );
        }
        self
    }

    /// Attaches a note (what exactly is compared) to the rows of the last
    /// measured workload; it is printed under the table.
    pub fn note(&mut self, note: &'static str) -> &mut Section<P> {
        for row in &mut self.rows[self.last..] {
            row.note = Some(note);
        }
        self
    }

    /// The rows measured; shuts both runtimes down.
    pub fn into_rows(self) -> Vec<Row> {
        self.rows
    }
}
