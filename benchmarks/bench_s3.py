"""S3 batches against a per-key loop, on a moto server over loopback HTTP.

Run: ``python benchmarks/bench_s3.py``. The script starts ``moto.server`` in a
separate process on a free 127.0.0.1 port, makes a bucket, and times, for
1,000 keys of 100 bytes:

- ``setitems`` (one concurrent ``pipe``) against ``store[key] = value`` in a
  loop, and ``getitems`` (one concurrent ``cat``) against ``store[key]`` in a
  loop;
- on the bare ``S3Backend`` and on the full ``get_store`` stack;
- with botocore's default pool of 10 connections, and with 50 on the bare
  backend.

It also prints how busy kvmap's own process was (CPU time over wall time):
the rest of the time it waits for the server.

Target: the batch at least 5x faster than the loop. Rounds interleave the
candidates in a shuffled order; each row reports the median round.
"""

from __future__ import annotations

import os
import random
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kvmap
from kvmap.backends.s3 import S3Backend

COUNT = 1000
ROUNDS = 3
VALUE = os.urandom(100)


def start_moto() -> tuple[subprocess.Popen[bytes], str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("moto server did not start")


def options(endpoint: str, pool: int | None) -> dict[str, object]:
    client_kwargs = {"endpoint_url": endpoint, "region_name": "us-east-1"}
    config = {"max_pool_connections": pool} if pool else {}
    return {
        "key": "testing",
        "secret": "testing",
        "client_kwargs": client_kwargs,
        "config_kwargs": config,
    }


def timed(run: Callable[[], object]) -> float:
    start, cpu = time.perf_counter(), time.process_time()
    run()
    elapsed = time.perf_counter() - start
    client_cpu.append((time.process_time() - cpu) / elapsed)
    return elapsed


client_cpu: list[float] = []


def measure(store: kvmap.Store[object], label: str) -> list[tuple[str, float]]:
    keys = [f"bench/{uuid.uuid4().hex[:8]}/{number}" for number in range(COUNT)]
    pairs = dict.fromkeys(keys, VALUE)

    def set_loop() -> None:
        for key in keys:
            store[key] = VALUE

    def get_loop() -> None:
        for key in keys:
            store[key]

    runs = {
        "set loop": set_loop,
        "setitems": lambda: store.setitems(pairs),
        "get loop": get_loop,
        "getitems": lambda: store.getitems(keys),
    }
    store.setitems(pairs)  # warm up connections; reads find every key
    timings: dict[str, list[float]] = {name: [] for name in runs}
    order = list(runs)
    shuffler = random.Random(0)
    for _ in range(ROUNDS):
        shuffler.shuffle(order)
        for name in order:
            timings[name].append(timed(runs[name]))
    assert store.getitems(keys) == pairs
    store.delitems(keys)
    return [
        (f"{label}: {name}", statistics.median(values) / COUNT * 1e6)
        for name, values in timings.items()
    ]


def main() -> None:
    server, endpoint = start_moto()
    try:
        admin = S3Backend("s3://unused", **options(endpoint, None)).fs
        admin.call_s3("create_bucket", Bucket="bench")
        backend = S3Backend("s3://bench/raw", **options(endpoint, None))
        rows = measure(backend, "S3Backend, pool 10")
        stack = kvmap.get_store(
            "s3://bench/stack", backend_config=options(endpoint, None)
        )
        rows += measure(stack, "get_store, pool 10")
        wide = S3Backend("s3://bench/wide", **options(endpoint, 50))
        rows += measure(wide, "S3Backend, pool 50")
    finally:
        server.terminate()
        server.wait()
    report(rows)


def report(rows: list[tuple[str, float]]) -> None:
    micros = dict(rows)
    print(f"{COUNT} keys of {len(VALUE)} bytes, median of {ROUNDS} rounds")
    share = statistics.median(client_cpu)
    print(f"kvmap's process was busy {share:.0%} of the time (CPU / wall, median)")
    print(f"{'':44} {'µs/key':>10} {'loop / batch':>14}")
    for name, value in rows:
        label, _, operation = name.rpartition(": ")
        loop = {"setitems": "set loop", "getitems": "get loop"}.get(operation)
        ratio = f"{micros[f'{label}: {loop}'] / value:.1f}x" if loop else ""
        print(f"{name:44} {value:10.0f} {ratio:>14}")


if __name__ == "__main__":
    main()
