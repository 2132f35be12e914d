"""The thread-loop bridge workloads of `benches/compare/bridge.rs`, written
for Python's asyncio (and uvloop when it can be imported), for the Python
columns of `cargo bench --bench compare`.

Output: one line per measurement,

    RESULT <loop> <workload> <median seconds>

where <loop> is `asyncio` or `uvloop`, <workload> is the name of the row in
the compare table, and the value is the median over the runs, in seconds
(per round trip, or per callback). Any other line is a note for humans.

Workloads (the loop runs forever in a thread of its own; the main thread is
the "plain thread" that submits):

- coroutine_threadsafe_rtt_mean / coroutine_threadsafe_rtt_p99: 20 000
  sequential `run_coroutine_threadsafe(trivial coroutine).result()` round
  trips; mean and 99th percentile of one round trip.
- call_soon_threadsafe_1m: 1 000 000 `call_soon_threadsafe(callback)` calls;
  the time from the first call until the last callback ran, per callback
  (the table shows its inverse, callbacks per second).

Usage: python3 asyncio_bridge.py [--quick] [--filter SUBSTRING]
"""

import argparse
import asyncio
import statistics
import threading
import time

ROUND_TRIPS = 20_000
CALLBACKS = 1_000_000

# The section of the compare table these rows belong to (the filter matches it too).
SECTION = "bridge"


async def trivial(i):
    return i


def round_trips(loop, count):
    """Seconds per round trip, one sample per submission."""
    samples = []
    for i in range(count):
        start = time.perf_counter()
        value = asyncio.run_coroutine_threadsafe(trivial(i), loop).result()
        samples.append(time.perf_counter() - start)
        assert value == i
    return samples


def callbacks(loop, count):
    """Seconds per callback, from the first submission to the last run."""
    done = threading.Event()
    finished_at = []
    remaining = [count]

    def callback():
        remaining[0] -= 1
        if remaining[0] == 0:
            finished_at.append(time.perf_counter())
            done.set()

    start = time.perf_counter()
    submit = loop.call_soon_threadsafe
    for _ in range(count):
        submit(callback)
    done.wait()
    return (finished_at[0] - start) / count


def p99(samples):
    ordered = sorted(samples)
    return ordered[round((len(ordered) - 1) * 0.99)]


def measure(name, new_loop, runs, wanted):
    loop = new_loop()
    runner = threading.Thread(target=loop.run_forever, name=f"{name}-loop")
    runner.start()
    try:
        round_trips(loop, 1_000)  # warm-up
        means, p99s, per_callback = [], [], []
        for _ in range(runs):
            if wanted("coroutine_threadsafe_rtt_mean") or wanted("coroutine_threadsafe_rtt_p99"):
                samples = round_trips(loop, ROUND_TRIPS)
                means.append(statistics.fmean(samples))
                p99s.append(p99(samples))
            if wanted("call_soon_threadsafe_1m"):
                per_callback.append(callbacks(loop, CALLBACKS))
    finally:
        loop.call_soon_threadsafe(loop.stop)
        runner.join()
        loop.close()
    for workload, values in (
        ("coroutine_threadsafe_rtt_mean", means),
        ("coroutine_threadsafe_rtt_p99", p99s),
        ("call_soon_threadsafe_1m", per_callback),
    ):
        if values and wanted(workload):
            print(f"RESULT {name} {workload} {statistics.median(values):.9e}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one run per workload")
    parser.add_argument("--filter", help="only workloads (or the section) containing this")
    args = parser.parse_args()

    def wanted(workload):
        return args.filter is None or args.filter in workload or args.filter in SECTION

    runs = 1 if args.quick else 5
    if not any(
        wanted(w)
        for w in (
            "coroutine_threadsafe_rtt_mean",
            "coroutine_threadsafe_rtt_p99",
            "call_soon_threadsafe_1m",
        )
    ):
        return
    measure("asyncio", asyncio.new_event_loop, runs, wanted)
    try:
        import uvloop
    except ImportError:
        print("uvloop is not installed: only asyncio was measured")
        return
    measure("uvloop", uvloop.new_event_loop, runs, wanted)


if __name__ == "__main__":
    main()
