"""Redis: kvmap's full default stack against raw redis-py, and batches.

Run: ``python benchmarks/bench_redis.py [redis://127.0.0.1:6379/0]`` with a
Redis server running there (``KVMAP_BENCH_REDIS_URL`` also sets the URL).

- Per operation: ``store[key] = value`` and ``store[key]`` on
  ``kvmap.get_store(url, redis_prefix=...)`` (serializer, TTL layer and
  backend) against ``Redis.set`` / ``Redis.get`` of redis-py on the same key
  names, 100-byte values. Target: kvmap within 1.1x of redis-py.
- Batches: ``setitems`` / ``getitems`` of 10,000 keys against a loop of one
  call per key through the same store. Target: the batch at least 20x faster.

Many short rounds interleave the candidates in a shuffled order, so load from
elsewhere on a shared machine hits them alike. Each row reports the median
and the best round in µs/op, and its ratio to the baseline as the median over
rounds of the two times measured in the same round; the same again for this
process's CPU time, which a busy machine disturbs less (the server's work is
not in it). Every key written lives under a fresh prefix that is deleted at
the end.
"""

from __future__ import annotations

import gc
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kvmap

DEFAULT_URL = "redis://127.0.0.1:6379/0"
PER_OP_COUNT = 200
PER_OP_ROUNDS = 150
BATCH_COUNT = 10_000
BATCH_ROUNDS = 7
VALUE = os.urandom(100)

Run = Callable[[], object]


def seconds(run: Run) -> tuple[float, float]:
    """Run once; return the wall-clock time and this process's CPU time."""
    gc.collect()
    gc.disable()
    try:
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        return time.perf_counter() - start, time.process_time() - start_cpu
    finally:
        gc.enable()


Timings = dict[str, list[float]]


def interleaved(runs: Mapping[str, Run], rounds: int) -> tuple[Timings, Timings]:
    """Time each run once per round, in a shuffled order: wall and CPU times."""
    wall: Timings = {name: [] for name in runs}
    cpu: Timings = {name: [] for name in runs}
    order = list(runs)
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
            elapsed, used = seconds(runs[name])
            wall[name].append(elapsed)
            cpu[name].append(used)
    return wall, cpu


def only(timings: tuple[Timings, Timings], names: list[str]) -> tuple[Timings, Timings]:
    """The wall and CPU timings of the named runs only."""
    wall, cpu = timings
    return {name: wall[name] for name in names}, {name: cpu[name] for name in names}


def paired_ratio(timings: Timings, name: str, base: str) -> float:
    """The median over rounds of ``name``'s time over ``base``'s, same round."""
    pairs = zip(timings[name], timings[base], strict=True)
    return statistics.median(mine / theirs for mine, theirs in pairs)


def report(title: str, timings: tuple[Timings, Timings], count: int, base: str) -> None:
    wall, cpu = timings
    print(f"\n{title} ({count:,} operations per round)")
    header = ("median µs/op", "best µs/op", "ratio", "CPU µs/op", "CPU ratio")
    print(f"{'':36} {header[0]:>12} {header[1]:>10} {header[2]:>6} ", end="")
    print(f"{header[3]:>9} {header[4]:>9}")
    for name, values in wall.items():
        per_op = statistics.median(values) / count * 1e6
        best = min(values) / count * 1e6
        ratio = paired_ratio(wall, name, base)
        cpu_per_op = statistics.median(cpu[name]) / count * 1e6
        cpu_ratio = paired_ratio(cpu, name, base)
        print(f"{name:36} {per_op:12.2f} {best:10.2f} {ratio:6.2f} ", end="")
        print(f"{cpu_per_op:9.2f} {cpu_ratio:9.2f}")


def per_op(url: str, prefix: str) -> None:
    store = kvmap.get_store(url, redis_prefix=prefix)
    client = redis.Redis.from_url(url)
    keys = [f"per-op/{index}" for index in range(PER_OP_COUNT)]
    names = [f"{prefix}:{key}" for key in keys]

    def raw_set() -> None:
        for name in names:
            client.set(name, VALUE)

    def raw_get() -> None:
        for name in names:
            client.get(name)

    def kvmap_set() -> None:
        for key in keys:
            store[key] = VALUE

    def kvmap_get() -> None:
        for key in keys:
            store[key]

    raw_set()
    kvmap_set()
    runs = {
        "redis-py Redis.set": raw_set,
        "kvmap get_store() store[key] = value": kvmap_set,
        "redis-py Redis.get": raw_get,
        "kvmap get_store() store[key]": kvmap_get,
    }
    timings = interleaved(runs, PER_OP_ROUNDS)
    sets = only(timings, list(runs)[:2])
    gets = only(timings, list(runs)[2:])
    report("set, 100-byte values", sets, PER_OP_COUNT, "redis-py Redis.set")
    report("get, 100-byte values", gets, PER_OP_COUNT, "redis-py Redis.get")
    client.close()
    store.close()


def batches(url: str, prefix: str) -> None:
    store = kvmap.get_store(url, redis_prefix=prefix)
    items = {f"batch/{index}": VALUE for index in range(BATCH_COUNT)}
    keys = list(items)

    def loop_set() -> None:
        for key, value in items.items():
            store[key] = value

    def loop_get() -> None:
        for key in keys:
            store[key]

    def batch_set() -> None:
        store.setitems(items)

    def batch_set_ttl() -> None:
        store.setitems(items, ttl=600)

    def batch_get() -> None:
        found = store.getitems(keys)
        assert len(found) == BATCH_COUNT

    batch_set()
    runs = {
        "loop of store[key] = value": loop_set,
        "setitems(items)": batch_set,
        "setitems(items, ttl=600)": batch_set_ttl,
        "loop of store[key]": loop_get,
        "getitems(keys)": batch_get,
    }
    timings = interleaved(runs, BATCH_ROUNDS)
    names = list(runs)
    sets = only(timings, names[:3])
    gets = only(timings, names[3:])
    title = "10,000-key batch"
    report(f"{title} write", sets, BATCH_COUNT, names[0])
    report(f"{title} read", gets, BATCH_COUNT, names[3])
    print("\nbatch speed-up (median over rounds of loop time / batch time):")
    pairs = [(names[0], names[1]), (names[0], names[2]), (names[3], names[4])]
    for loop, batch in pairs:
        print(f"  {batch:34} {paired_ratio(timings[0], loop, batch):6.1f}x")
    store.close()


def main() -> None:
    url = sys.argv[1] if len(sys.argv) > 1 else None
    url = url or os.environ.get("KVMAP_BENCH_REDIS_URL", DEFAULT_URL)
    prefix = f"kvmap-bench-{uuid.uuid4().hex[:8]}"
    print(f"Redis at {url}, keys under {prefix}:, Python {sys.version.split()[0]}")
    try:
        per_op(url, prefix)
        batches(url, prefix)
    finally:
        kvmap.get_store(url, redis_prefix=prefix).clear()


if __name__ == "__main__":
    main()
