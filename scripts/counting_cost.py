#!/usr/bin/env python3
"""What evloop's counting costs on the scheduler workloads: the bench's
scheduler rows with evloop as it ships (counting on) against evloop with
`Builder::count_polls(false)` in the peer column (EVLOOP_BENCH_PEER=uncounted),
interleaved in one process, repeated.

    cargo bench --bench compare --no-run
    scripts/counting_cost.py [--runs N] [--binary PATH] [FILTER]

FILTER (default `scheduler`) is passed to the bench binary; --runs (default
5) is how many times the table is measured. Each run's row is already the
median of many interleaved runs of both sides (EVLOOP_BENCH_ITERATIONS,
EVLOOP_BENCH_SECONDS apply); this prints, per row, the median over the
tables of the two values and of their ratio (on / off: 1.03 is 3% slower
with counting), and the ratio of each table, to show the spread.
"""

import argparse
import glob
import os
import statistics
import subprocess
import sys


def bench_binary():
    """The newest `compare` bench binary of the target directory."""
    target = os.environ.get("CARGO_TARGET_DIR", "target")
    found = [
        path
        for path in glob.glob(os.path.join(target, "release", "deps", "compare-*"))
        if os.access(path, os.X_OK) and not path.endswith(".d")
    ]
    if not found:
        sys.exit("counting_cost.py: no bench binary; run `cargo bench --bench compare --no-run`")
    return max(found, key=os.path.getmtime)


def run_table(binary, workload_filter):
    """{workload: (on, off, on / off)} of one table."""
    env = dict(os.environ, EVLOOP_BENCH_PEER="uncounted")
    out = subprocess.run(
        [binary, workload_filter], env=env, capture_output=True, text=True, check=True
    ).stdout
    rows = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) < 6:
            continue
        try:
            on, off = float(cells[3]), float(cells[4])
        except ValueError:
            continue
        # From the values: the table's ratio column has two decimals.
        rows[cells[0].split(" [")[0]] = (on, off, on / off)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("filter", nargs="?", default="scheduler")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--binary", default=None)
    args = parser.parse_args()
    binary = args.binary or bench_binary()
    results = {}
    for i in range(args.runs):
        for workload, figures in run_table(binary, args.filter).items():
            results.setdefault(workload, []).append(figures)
        print(f"table {i + 1}/{args.runs} done", file=sys.stderr)
    print(f"{'workload':<24} {'off':>9} {'on':>9} {'on/off':>7}   each table's on/off")
    for workload, tables in results.items():
        on = statistics.median(t[0] for t in tables)
        off = statistics.median(t[1] for t in tables)
        ratio = statistics.median(t[2] for t in tables)
        each = " ".join(f"{t[2]:.3f}" for t in tables)
        print(f"{workload:<24} {off:>9.4g} {on:>9.4g} {ratio:>7.3f}   {each}")


if __name__ == "__main__":
    main()
