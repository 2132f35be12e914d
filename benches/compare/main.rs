//! evloop side by side with tokio (and Python's asyncio / uvloop where a
//! script in `benches/` measures the same workload).
//!
//! ```text
//! cargo bench --bench compare                    # everything
//! cargo bench --bench compare -- spawn           # workloads or sections containing "spawn"
//! EVLOOP_BENCH_QUICK=1 cargo bench --bench compare   # smoke run: few iterations
//! EVLOOP_BENCH_ITERATIONS=51 cargo bench --bench compare
//! ```
//!
//! Each workload is warmed up, then run several times on each runtime,
//! alternating between them; the table shows the median and the
//! interquartile range. Both runtimes get the same number of workers.
//!
//! Adding a section: write `benches/compare/NAME.rs` with
//! `pub fn rows() -> Vec<R>` where `R` is a `table::Row` or the tuple
//! `(String, f64 /* evloop */, f64 /* tokio */, &'static str /* unit */)`,
//! and add `NAME` to the `sections!` list below. Check
//! `measure::wanted(workload)` before running a workload so that filtered
//! runs skip it; `runtimes::Runtime` lets one function serve both runtimes.

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
            vec![$((stringify!($name), || $name::rows().into_iter().map(Into::into).collect())),*]
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
}

fn main() {
    measure::install(measure::Settings::from_env());
    let settings = measure::settings();
    eprintln!(
        "evloop vs tokio, {} workers each: {} warm-up + {} measured runs per workload{}{}",
        measure::WORKERS,
        settings.warmup,
        settings.iterations,
        if settings.quick { " (quick mode)" } else { "" },
        settings
            .filter
            .as_ref()
            .map(|f| format!(", filter \"{f}\""))
            .unwrap_or_default(),
    );

    let mut rows = Vec::new();
    for (name, section_rows) in sections() {
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

    eprintln!("python");
    python::merge(&mut rows, &python::measure());

    println!();
    print!("{}", table::render(&rows));
    println!();
    println!(
        "Rows with an IQR are medians of {} runs; the other sections say how they \
         measure in their module docs (benches/compare/*.rs).",
        settings.iterations
    );
    println!(
        "Ratios are evloop / peer: below 1 evloop is faster for times (s, ms, µs, ns), \
         above 1 for rates (.../s)."
    );
    if rows.iter().any(|r| r.spread.is_some()) {
        println!("IQR: interquartile range of the runs, in percent of the median (the noise).");
    }
    if rows
        .iter()
        .any(|r| r.asyncio.is_some() || r.uvloop.is_some())
    {
        println!("Python's asyncio and uvloop run on one thread (that is their model).");
    }
}
