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
elsewhere on a shared machine hits them alike; each row reports the median
round (and the best). Every key written lives under a fresh prefix that is
deleted at the end.
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
PER_OP_ROUNDS = 60
BATCH_COUNT = 10_000
BATCH_ROUNDS = 7
VALUE = os.urandom(100)

Run = Callable[[], object]


def seconds(run: Run) -> float:
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        run()
        return time.perf_counter() - start
    finally:
        gc.enable()


def interleaved(runs: Mapping[str, Run], rounds: int) -> dict[str, list[float]]:
    """Time each run once per round, in a shuffled order; return all timings."""
    timings: dict[str, list[float]] = {name: [] for name in runs}
    order = list(runs)
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
            timings[name].append(seconds(runs[name]))
    return timings


def report(title: str, timings: dict[str, list[float]], count: int, base: str) -> None:
    reference = statistics.median(timings[base])
    print(f"\n{title} ({count:,} operations per round)")
    print(f"{'':36} {'median µs/op':>13} {'best µs/op':>11} {'ratio':>7}")
    for name, values in timings.items():
        median = statistics.median(values)
        per_op = median / count * 1e6
        best = min(values) / count * 1e6
        print(f"{name:36} {per_op:13.2f} {best:11.2f} {median / reference:7.2f}")


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
    sets = {name: timings[name] for name in list(runs)[:2]}
    gets = {name: timings[name] for name in list(runs)[2:]}
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
    sets = {name: timings[name] for name in names[:3]}
    gets = {name: timings[name] for name in names[3:]}
    title = "10,000-key batch"
    report(f"{title} write", sets, BATCH_COUNT, names[0])
    report(f"{title} read", gets, BATCH_COUNT, names[3])
    print("\nbatch speed-up (loop median / batch median):")
    pairs = [(names[0], names[1]), (names[0], names[2]), (names[3], names[4])]
    for loop, batch in pairs:
        speedup = statistics.median(timings[loop]) / statistics.median(timings[batch])
        print(f"  {batch:34} {speedup:6.1f}x")
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
