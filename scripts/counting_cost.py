#!/usr/bin/env python3
"""What evloop's counting costs on the scheduler workloads: the bench table
run with counting on (the default, what users get) and off
(EVLOOP_BENCH_COUNT_POLLS=0, `Builder::count_polls(false)`), alternately.

    cargo bench --bench compare --no-run
    scripts/counting_cost.py [--runs N] [--binary PATH] [FILTER]

FILTER (default `scheduler`) is passed to the bench binary; --runs (default
6) is how many times each side runs. Each run is a whole table of medians
(EVLOOP_BENCH_QUICK is not set, so each row is itself a median of many
runs); this prints, per row, the median over the runs of each side's evloop
value and of its evloop/tokio ratio, and on/off for both. The ratio to
tokio, measured in the same process and interleaved with evloop, shares
the machine's load of that moment, so on/off of the ratios is the steadier
figure on a busy machine.
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


def run_table(binary, workload_filter, counting):
    """{workload: (evloop value, evloop/tokio ratio)} of one run."""
    env = dict(os.environ)
    env["EVLOOP_BENCH_COUNT_POLLS"] = "1" if counting else "0"
    # The Python column is not what is measured here.
    env["PATH"] = ""
    out = subprocess.run(
        [binary, workload_filter], env=env, capture_output=True, text=True, check=True
    ).stdout
    rows = {}
    for line in out.splitlines():
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) < 6 or cells[0] in ("workload", "") or set(cells[0]) <= {"-"}:
            continue
        try:
            rows[cells[0].split(" [")[0]] = (float(cells[3]), float(cells[5]))
        except ValueError:
            continue
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("filter", nargs="?", default="scheduler")
    parser.add_argument("--runs", type=int, default=6)
    parser.add_argument("--binary", default=None)
    args = parser.parse_args()
    binary = args.binary or bench_binary()
    on, off = {}, {}
    for i in range(args.runs):
        # Alternate who goes first, as the bench itself does.
        order = [(True, on), (False, off)] if i % 2 == 0 else [(False, off), (True, on)]
        for counting, results in order:
            for workload, figures in run_table(binary, args.filter, counting).items():
                results.setdefault(workload, []).append(figures)
        print(f"run {i + 1}/{args.runs} done", file=sys.stderr)
    print(
        f"{'workload':<24} {'off':>9} {'on':>9} {'on/off':>7}   "
        f"{'off/tokio':>9} {'on/tokio':>9} {'on/off':>7}   runs"
    )
    for workload in on:
        if workload not in off:
            continue
        value_on = statistics.median(v for v, _ in on[workload])
        value_off = statistics.median(v for v, _ in off[workload])
        ratio_on = statistics.median(r for _, r in on[workload])
        ratio_off = statistics.median(r for _, r in off[workload])
        print(
            f"{workload:<24} {value_off:>9.4g} {value_on:>9.4g} {value_on / value_off:>7.3f}   "
            f"{ratio_off:>9.3f} {ratio_on:>9.3f} {ratio_on / ratio_off:>7.3f}   "
            f"{len(on[workload])}"
        )


if __name__ == "__main__":
    main()
