//! The result table: one `Row` per workload, printed side by side.
//!
//! Units are either times (`s`, `ms`, `µs`, `ns`, or a per-item form such
//! as `ns/spawn`): lower is better; or rates ending in `/s` (`req/s`, or
//! in thousands or millions: `k req/s`, `M callbacks/s`): higher is
//! better; or counts per item (`switches/req`): lower is better, shown as
//! measured. The table says which in its `better` column.

use std::fmt::Write as _;

/// One workload measured on each runtime, in `unit`.
#[derive(Debug, Clone)]
pub struct Row {
    pub workload: String,
    pub unit: &'static str,
    pub evloop: f64,
    pub tokio: f64,
    /// Python's asyncio on its default loop, when a script measured it.
    pub asyncio: Option<f64>,
    /// Python's asyncio on uvloop, when uvloop is importable.
    pub uvloop: Option<f64>,
    /// The interquartile range of the evloop and tokio runs, in percent
    /// of their medians: how noisy the measurement was.
    pub spread: Option<(f64, f64)>,
    /// Measured runs per side.
    pub runs: Option<usize>,
    /// What exactly is compared, printed under the table.
    pub note: Option<&'static str>,
}

impl Row {
    /// # Panics
    ///
    /// When `unit` is neither a time nor a rate (see `better`).
    pub fn new(workload: impl Into<String>, evloop: f64, tokio: f64, unit: &'static str) -> Row {
        assert!(
            better(unit).is_some(),
            "unit {unit:?} is neither a time (s, ms, µs, ns, or per item: ns/op), a rate (.../s) \
             nor a count (switches/...)"
        );
        Row {
            workload: workload.into(),
            unit,
            evloop,
            tokio,
            asyncio: None,
            uvloop: None,
            spread: None,
            runs: None,
            note: None,
        }
    }

    /// Adds the relative spread (IQR / median, in percent) of both sides.
    pub fn with_spread(mut self, evloop: f64, tokio: f64) -> Row {
        self.spread = Some((evloop, tokio));
        self
    }

    /// Records how many runs per side the medians are of.
    pub fn with_runs(mut self, runs: usize) -> Row {
        self.runs = Some(runs);
        self
    }
}

/// Seconds per unit for the time units (`ms`, `ns/op`), `None` for
/// anything else.
pub fn seconds_per(unit: &str) -> Option<f64> {
    if is_rate(unit) || is_count(unit) {
        return None;
    }
    match unit.split('/').next().unwrap_or(unit) {
        "s" => Some(1.0),
        "ms" => Some(1e-3),
        "µs" | "us" => Some(1e-6),
        "ns" => Some(1e-9),
        _ => None,
    }
}

fn is_rate(unit: &str) -> bool {
    unit.len() > 2 && unit.ends_with("/s")
}

/// Counts per item, such as context switches per request.
fn is_count(unit: &str) -> bool {
    unit.starts_with("switches/")
}

/// Which way is better for `unit`: `"lower"` for times and counts,
/// `"higher"` for rates, `None` for anything else.
pub fn better(unit: &str) -> Option<&'static str> {
    if is_rate(unit) {
        Some("higher")
    } else if is_count(unit) || seconds_per(unit).is_some() {
        Some("lower")
    } else {
        None
    }
}

/// A figure measured in seconds (a time, or the time per item of a rate),
/// in `unit`; a count is already in its unit.
pub fn from_seconds(seconds: f64, unit: &str) -> f64 {
    if is_count(unit) {
        return seconds;
    }
    match seconds_per(unit) {
        Some(per) => seconds / per,
        None => 1.0 / seconds / rate_scale(unit),
    }
}

/// Items per unit of a rate: 1000 for `k req/s`.
fn rate_scale(unit: &str) -> f64 {
    if unit.starts_with("k ") {
        1e3
    } else if unit.starts_with("M ") {
        1e6
    } else {
        1.0
    }
}

fn number(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1000.0 {
        format!("{value:.0}")
    } else if magnitude >= 100.0 {
        format!("{value:.1}")
    } else if magnitude >= 10.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.3}")
    }
}

fn ratio(evloop: f64, peer: f64) -> String {
    if peer == 0.0 {
        "-".to_owned()
    } else {
        format!("{:.2}", evloop / peer)
    }
}

/// Renders the rows as an aligned text table, with the rows' notes under
/// it (numbered, each note once).
pub fn render(rows: &[Row]) -> String {
    let has_asyncio = rows.iter().any(|r| r.asyncio.is_some());
    let has_uvloop = rows.iter().any(|r| r.uvloop.is_some());
    let has_runs = rows.iter().any(|r| r.runs.is_some());
    let has_spread = rows.iter().any(|r| r.spread.is_some());

    let peer = crate::runtimes::peer_name();
    let peer_ratio = format!("evloop/{peer}");
    let peer_spread = format!("IQR evloop,{peer}");
    let mut header = vec![
        "workload",
        "unit",
        "better",
        "evloop",
        peer,
        peer_ratio.as_str(),
    ];
    if has_asyncio {
        header.extend(["asyncio", "evloop/asyncio"]);
    }
    if has_uvloop {
        header.extend(["uvloop", "evloop/uvloop"]);
    }
    if has_runs {
        header.push("runs");
    }
    if has_spread {
        header.push(peer_spread.as_str());
    }

    let dash = || "-".to_owned();
    let mut notes: Vec<&str> = Vec::new();
    let mut cells: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
    for row in rows {
        let workload = match row.note {
            Some(note) => {
                let number = match notes.iter().position(|n| *n == note) {
                    Some(i) => i + 1,
                    None => {
                        notes.push(note);
                        notes.len()
                    }
                };
                format!("{} [{number}]", row.workload)
            }
            None => row.workload.clone(),
        };
        let mut line = vec![
            workload,
            row.unit.to_owned(),
            better(row.unit).unwrap_or("?").to_owned(),
            number(row.evloop),
            number(row.tokio),
            ratio(row.evloop, row.tokio),
        ];
        for (present, value) in [(has_asyncio, row.asyncio), (has_uvloop, row.uvloop)] {
            if present {
                line.push(value.map(number).unwrap_or_else(dash));
                line.push(value.map(|v| ratio(row.evloop, v)).unwrap_or_else(dash));
            }
        }
        if has_runs {
            line.push(row.runs.map(|n| n.to_string()).unwrap_or_else(dash));
        }
        if has_spread {
            line.push(match row.spread {
                Some((e, t)) => format!("±{e:.0}%, ±{t:.0}%"),
                None => dash(),
            });
        }
        cells.push(line);
    }

    let columns = cells[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            cells
                .iter()
                .map(|line| line[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for (i, line) in cells.iter().enumerate() {
        let mut text = String::new();
        for (c, cell) in line.iter().enumerate() {
            let pad = " ".repeat(widths[c] - cell.chars().count());
            // Text columns (workload, unit, better) left, numbers right.
            if c == 0 {
                let _ = write!(text, "{cell}{pad}");
            } else if c < 3 {
                let _ = write!(text, " | {cell}{pad}");
            } else {
                let _ = write!(text, " | {pad}{cell}");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
        if i == 0 {
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            out.push_str(&rule.join("-|-"));
            out.push('\n');
        }
    }
    for (i, note) in notes.iter().enumerate() {
        let _ = writeln!(out, "[{}] {note}", i + 1);
    }
    out
}
