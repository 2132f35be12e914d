//! evloop side by side with tokio (and Python's asyncio / uvloop where a
//! script in `benches/` measures the same workload).
//!
//! ```text
//! cargo bench --bench compare                    # everything
//! cargo bench --bench compare -- spawn           # workloads or sections containing "spawn"
//! EVLOOP_BENCH_QUICK=1 cargo bench --bench compare   # smoke run: few iterations
//! EVLOOP_BENCH_ITERATIONS=51 cargo bench --bench compare
//! cargo bench --features hyper --bench compare -- HTTP   # the hyper servers
//! ```
//!
//! Each workload is warmed up, then run several times on each runtime,
//! alternating between them; the table shows the median and the
//! interquartile range. Both runtimes get the same number of workers.
//!
//! Adding a section: write `benches/compare/NAME.rs` with
//! `pub fn rows() -> Vec<table::Row>` that measures its workloads with a
//! `measure::Section` (which builds the runtimes, skips the workloads the
//! filter leaves out, and times the rest), and add `NAME` to the
//! `sections!` list below; `runtimes::Runtime` lets one function serve both
//! runtimes.

mod echo;
mod measure;
mod python;
mod runtimes;
mod table;

use table::Row;

/// Declares the bench modules and lists them, in table order.
macro_rules! sections {
    ($($name:ident),* $(,)?) => {
        $(mod $name;)*

        fn sections() -> Vec<(&'static str, fn() -> Vec<Row>)> {
            vec![$((stringify!($name), $name::rows as fn() -> Vec<Row>)),*]
        }
    };
}

sections! {
    scheduler,
    timers,
    net,
    bridge,
    sync,
    combinators,
    http,
    os,
}

fn main() {
    if http::serve_if_asked() {
        return;
    }
    measure::install(measure::Settings::from_env());
    let settings = measure::settings();
    eprintln!(
        "evloop vs {}, {} workers each: per workload up to {} warm-up and {} measured \
         runs (at least {}, then until {:.0} s have passed){}{}",
        runtimes::peer_name(),
        runtimes::WORKERS,
        settings.warmup,
        settings.iterations,
        settings.min_runs,
        settings.budget.as_secs_f64(),
        if settings.quick { " (quick mode)" } else { "" },
        settings
            .filter
            .as_ref()
            .map(|f| format!(", filter \"{f}\""))
            .unwrap_or_default(),
    );

    let mut rows = Vec::new();
    for (name, section_rows) in sections() {
        if runtimes::peer_is_uncounted() && name != "scheduler" {
            // Only the scheduler rows measure evloop against itself.
            continue;
        }
        measure::enter_section(name);
        eprintln!("{name}");
        rows.extend(
            section_rows()
                .into_iter()
                .filter(|row| measure::wanted(&row.workload)),
        );
    }
    if rows.is_empty() {
        eprintln!("no workload matches the filter");
        return;
    }

    if !runtimes::peer_is_uncounted() {
        eprintln!("python");
        python::merge(&mut rows, &python::measure());
    }

    println!();
    print!("{}", table::render(&rows));
    println!();
    println!(
        "Values are medians over the runs (the runs column; at most {}, fewer once a \
         workload's runs have taken {:.0} s); IQR: the interquartile range of the runs, \
         in percent of the median (the noise).",
        settings.iterations,
        settings.budget.as_secs_f64(),
    );
    println!(
        "Ratios are evloop / peer. The better column says which way is better: for times \
         (lower is better) a ratio below 1 means evloop is faster; for rates (.../s, higher \
         is better) a ratio above 1 does."
    );
    if rows
        .iter()
        .any(|r| r.asyncio.is_some() || r.uvloop.is_some())
    {
        println!("Python's asyncio and uvloop run on one thread (that is their model).");
    }
}
