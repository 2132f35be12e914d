//! The Python column: runs every `benches/*.py` script with `python3` (if
//! there is one) and reads what it measured.
//!
//! The protocol: a script is run as `python3 SCRIPT [--quick] [--filter F]`
//! and prints one line per measurement,
//! `RESULT <loop> <workload> <median seconds>` (seconds per run, or per
//! item for a row measured as a rate), where `<loop>` is `asyncio`
//! or `uvloop` (the script measures uvloop too when it can import it). Other
//! lines are shown as they are, on stderr.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::measure::settings;
use crate::table::{Row, from_seconds};

/// One median measured by a script.
#[derive(Debug)]
pub struct Measurement {
    pub event_loop: String,
    pub workload: String,
    pub seconds: f64,
}

fn scripts() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches");
    let mut found: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|entry| entry.path())
                .filter(|path| path.extension().is_some_and(|ext| ext == "py"))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

/// Runs the scripts; an empty list when Python is missing (with a note).
pub fn measure() -> Vec<Measurement> {
    let scripts = scripts();
    if scripts.is_empty() {
        return Vec::new();
    }
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("python3 not found: the Python columns are left out");
        return Vec::new();
    }
    let mut results = Vec::new();
    for script in scripts {
        eprintln!(
            "  {}",
            script.file_name().unwrap_or_default().to_string_lossy()
        );
        let mut command = Command::new("python3");
        command.arg(&script);
        if settings().quick {
            command.arg("--quick");
        }
        if let Some(filter) = &settings().filter {
            command.args(["--filter", filter]);
        }
        let output = match command.output() {
            Ok(output) => output,
            Err(err) => {
                eprintln!("    could not run it: {err}");
                continue;
            }
        };
        if !output.status.success() {
            eprintln!(
                "    it failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
            continue;
        }
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let fields: Vec<&str> = line.split_whitespace().collect();
            match fields.as_slice() {
                ["RESULT", event_loop, workload, seconds] => match seconds.parse() {
                    Ok(seconds) => results.push(Measurement {
                        event_loop: (*event_loop).to_owned(),
                        workload: (*workload).to_owned(),
                        seconds,
                    }),
                    Err(_) => eprintln!("    unreadable line: {line}"),
                },
                _ => eprintln!("    {line}"),
            }
        }
    }
    results
}

/// Fills the Python columns of the rows that a script measured, in the
/// row's unit (a rate row takes the inverse of the seconds per item).
pub fn merge(rows: &mut [Row], measurements: &[Measurement]) {
    for row in rows.iter_mut() {
        for m in measurements.iter().filter(|m| m.workload == row.workload) {
            let value = Some(from_seconds(m.seconds, row.unit));
            match m.event_loop.as_str() {
                "asyncio" => row.asyncio = value,
                "uvloop" => row.uvloop = value,
                other => eprintln!("    unknown loop {other:?} for {}", m.workload),
            }
        }
    }
}
