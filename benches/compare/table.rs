//! The result table: one `Row` per workload, printed side by side.
//!
//! A bench module may return the plain tuple
//! `(workload, evloop, tokio, unit)` or a `Row` built with its methods
//! (to add a Python value or the spread of the samples).

use std::fmt::Write as _;

/// One workload measured on each runtime, in `unit`.
///
/// Units are either times (`s`, `ms`, `µs`, `ns`, or a per-item form such
/// as `ns/spawn`: lower is better) or rates ending in `/s` (higher is
/// better). Ratios are always evloop / peer.
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
    /// The interquartile range of the evloop and tokio samples, in percent
    /// of their medians: how noisy the measurement was.
    pub spread: Option<(f64, f64)>,
}

impl Row {
    pub fn new(workload: impl Into<String>, evloop: f64, tokio: f64, unit: &'static str) -> Row {
        Row {
            workload: workload.into(),
            unit,
            evloop,
            tokio,
            asyncio: None,
            uvloop: None,
            spread: None,
        }
    }

    /// Adds the value measured with Python's asyncio (same unit).
    #[allow(dead_code)]
    pub fn with_asyncio(mut self, value: f64) -> Row {
        self.asyncio = Some(value);
        self
    }

    /// Adds the value measured with uvloop (same unit).
    #[allow(dead_code)]
    pub fn with_uvloop(mut self, value: f64) -> Row {
        self.uvloop = Some(value);
        self
    }

    /// Adds the relative spread (IQR / median, in percent) of both sides.
    pub fn with_spread(mut self, evloop: f64, tokio: f64) -> Row {
        self.spread = Some((evloop, tokio));
        self
    }
}

impl From<(String, f64, f64, &'static str)> for Row {
    fn from((workload, evloop, tokio, unit): (String, f64, f64, &'static str)) -> Row {
        Row::new(workload, evloop, tokio, unit)
    }
}

impl From<(&str, f64, f64, &'static str)> for Row {
    fn from((workload, evloop, tokio, unit): (&str, f64, f64, &'static str)) -> Row {
        Row::new(workload, evloop, tokio, unit)
    }
}

/// Seconds per unit for the time units, `None` for anything else.
pub fn seconds_per(unit: &str) -> Option<f64> {
    let base = unit.split('/').next().unwrap_or(unit);
    if unit.ends_with("/s") {
        return None;
    }
    match base {
        "s" => Some(1.0),
        "ms" => Some(1e-3),
        "µs" | "us" => Some(1e-6),
        "ns" => Some(1e-9),
        _ => None,
    }
}

/// Longer "units" are printed as notes under the table.
const MAX_UNIT_WIDTH: usize = 16;

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

/// Renders the rows as an aligned text table.
pub fn render(rows: &[Row]) -> String {
    let has_asyncio = rows.iter().any(|r| r.asyncio.is_some());
    let has_uvloop = rows.iter().any(|r| r.uvloop.is_some());
    let has_spread = rows.iter().any(|r| r.spread.is_some());

    let mut header = vec!["workload", "unit", "evloop", "tokio", "evloop/tokio"];
    if has_asyncio {
        header.extend(["asyncio", "evloop/asyncio"]);
    }
    if has_uvloop {
        header.extend(["uvloop", "evloop/uvloop"]);
    }
    if has_spread {
        header.push("IQR evloop,tokio");
    }

    let optional = |value: Option<f64>| value.map(number).unwrap_or_else(|| "-".to_owned());
    let optional_ratio = |evloop: f64, value: Option<f64>| {
        value
            .map(|peer| ratio(evloop, peer))
            .unwrap_or_else(|| "-".to_owned())
    };
    // A "unit" that is really a sentence (a section describing what it
    // compares) goes under the table, with a marker in its place.
    let mut notes: Vec<&str> = Vec::new();
    let mut cells: Vec<Vec<String>> = vec![header.iter().map(|h| (*h).to_owned()).collect()];
    for row in rows {
        let unit = if row.unit.chars().count() > MAX_UNIT_WIDTH {
            notes.push(row.unit);
            format!("[{}]", notes.len())
        } else {
            row.unit.to_owned()
        };
        let mut line = vec![
            row.workload.clone(),
            unit,
            number(row.evloop),
            number(row.tokio),
            ratio(row.evloop, row.tokio),
        ];
        if has_asyncio {
            line.push(optional(row.asyncio));
            line.push(optional_ratio(row.evloop, row.asyncio));
        }
        if has_uvloop {
            line.push(optional(row.uvloop));
            line.push(optional_ratio(row.evloop, row.uvloop));
        }
        if has_spread {
            line.push(match row.spread {
                Some((e, t)) => format!("±{e:.0}%, ±{t:.0}%"),
                None => "-".to_owned(),
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
            let pad = widths[c] - cell.chars().count();
            if c == 0 {
                let _ = write!(text, "{cell}{}", " ".repeat(pad));
            } else {
                let _ = write!(text, " | {}{cell}", " ".repeat(pad));
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
