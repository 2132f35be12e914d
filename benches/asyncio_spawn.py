"""tokio's scheduler workloads written for Python's asyncio (and uvloop when
it can be imported), for the Python columns of `cargo bench --bench compare`.

Prints `RESULT <loop> <workload> <median seconds>` per measurement.
Usage: python3 asyncio_spawn.py [--quick] [--filter SUBSTRING]

spawn_many_remote_idle spawns from a plain thread into a loop that runs in
a thread of its own; asyncio's way to do that is run_coroutine_threadsafe,
which hands back a concurrent future to wait on. The other workloads run on
the calling thread's loop.
"""

import argparse
import asyncio
import statistics
import threading
import time

NUM_SPAWN = 10_000
YIELD_TASKS = 200
NUM_YIELD = 1_000
NUM_PINGS = 1_000
CHAIN = 1_000

# The section of the compare table these rows belong to (the filter matches it too).
SECTION = "scheduler"


async def spawn_many_local():
    """10 000 tasks created from inside a task; done when the last one ran."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    remaining = NUM_SPAWN

    async def child():
        nonlocal remaining
        remaining -= 1
        if remaining == 0:
            done.set_result(None)

    async def parent():
        for _ in range(NUM_SPAWN):
            loop.create_task(child())

    loop.create_task(parent())
    await done


async def noop():
    pass


def spawn_many_remote_idle(loop):
    """10 000 coroutines submitted from this thread to an idle loop running
    in another thread, then waiting for every one of them."""
    futures = [asyncio.run_coroutine_threadsafe(noop(), loop) for _ in range(NUM_SPAWN)]
    for future in futures:
        future.result()


async def yield_many():
    """200 tasks that each yield 1 000 times (asyncio.sleep(0))."""

    async def yielder():
        for _ in range(NUM_YIELD):
            await asyncio.sleep(0)

    await asyncio.gather(*(yielder() for _ in range(YIELD_TASKS)))


async def ping_pong():
    """1 000 times: a task creates a partner and the two exchange a message
    each way through a pair of futures."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    remaining = NUM_PINGS

    async def pong(ping, reply):
        await ping
        reply.set_result(None)

    async def ping_task():
        nonlocal remaining
        ping = loop.create_future()
        reply = loop.create_future()
        loop.create_task(pong(ping, reply))
        ping.set_result(None)
        await reply
        remaining -= 1
        if remaining == 0:
            done.set_result(None)

    async def parent():
        for _ in range(NUM_PINGS):
            loop.create_task(ping_task())

    loop.create_task(parent())
    await done


async def chained_spawn():
    """A chain of 1 000 tasks, each creating the next."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()

    async def link(n):
        if n == 0:
            done.set_result(None)
        else:
            loop.create_task(link(n - 1))

    loop.create_task(link(CHAIN))
    await done


WORKLOADS = {
    "spawn_many_local": spawn_many_local,
    "yield_many": yield_many,
    "ping_pong": ping_pong,
    "chained_spawn": chained_spawn,
}


# Run from a plain thread against a loop running in a thread of its own.
REMOTE_WORKLOADS = {
    "spawn_many_remote_idle": spawn_many_remote_idle,
}


def median_seconds(run_once, warmup, iterations):
    for _ in range(warmup):
        run_once()
    times = []
    for _ in range(iterations):
        start = time.perf_counter()
        run_once()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(new_loop, name, warmup, iterations):
    loop = new_loop()
    try:
        if name in WORKLOADS:
            workload = WORKLOADS[name]
            return median_seconds(
                lambda: loop.run_until_complete(workload()), warmup, iterations
            )
        workload = REMOTE_WORKLOADS[name]
        runner = threading.Thread(target=loop.run_forever, name="loop")
        runner.start()
        try:
            return median_seconds(lambda: workload(loop), warmup, iterations)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            runner.join()
    finally:
        loop.close()


def loops():
    yield "asyncio", asyncio.new_event_loop
    try:
        import uvloop
    except ImportError:
        return
    yield "uvloop", uvloop.new_event_loop


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--filter", default="")
    args = parser.parse_args()
    warmup, iterations = (1, 3) if args.quick else (2, 11)
    for loop_name, new_loop in loops():
        for name in [*WORKLOADS, *REMOTE_WORKLOADS]:
            if args.filter and args.filter not in name and args.filter not in SECTION:
                continue
            seconds = measure(new_loop, name, warmup, iterations)
            print(f"RESULT {loop_name} {name} {seconds:.9f}", flush=True)


if __name__ == "__main__":
    main()
