"""S3 batches against a per-key loop, on a moto server over loopback HTTP.

Run: ``python benchmarks/bench_s3.py [--latency 10,30] [--rounds 3]
[--latency-rounds 1]``. The script starts ``moto.server`` in a separate
process on a free 127.0.0.1 port, makes a bucket, and times, for 1,000 keys
of 100 bytes:

- ``setitems`` (one concurrent ``pipe``) against ``store[key] = value`` in a
  loop, and ``getitems`` (one concurrent ``cat``) against ``store[key]`` in a
  loop;
- on the bare ``S3Backend`` and on the full ``get_store`` stack;
- with botocore's default pool of 10 connections, and with 50 on the bare
  backend.

Moto answers each request with milliseconds of Python work, so on loopback
the server, not the network, limits both paths. To show what happens when
requests wait on the network, as they do with S3 itself, the same bare
backend rows are then timed through a latency proxy: a small TCP proxy on
127.0.0.1, in its own process, that holds every chunk the client sends for a
fixed time (each ``--latency`` value, in ms) before passing it to moto, and
passes the answers back at once. Each request/answer exchange thus costs that
much more wall time and no CPU; moto's own CPU cost per request remains, and
connection set-up and TLS are not modelled.

It also prints how busy kvmap's own process was (CPU time over wall time):
the rest of the time it waits for the server.

Target: the batch at least 5x faster than the loop. Rounds interleave the
candidates in a shuffled order; each row reports the median round.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
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
VALUE = os.urandom(100)
#: The proxy refuses connections beyond this many at once.
PROXY_CONNECTIONS = 256
#: Chunks of one connection waiting in the proxy at most (then reading pauses).
PROXY_QUEUE = 64


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(port: int, kill: Callable[[], None]) -> None:
    for _ in range(600):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    kill()
    raise SystemExit(f"nothing answered on 127.0.0.1:{port}")


def start_moto() -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    wait_for(port, server.kill)
    return server, port


async def _forward_late(
    source: asyncio.StreamReader, target: asyncio.StreamWriter, delay: float
) -> None:
    """Copy ``source`` to ``target``, each chunk ``delay`` seconds after it came."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(PROXY_QUEUE)

    async def send() -> None:
        while True:
            due, chunk = await queue.get()
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if not chunk:
                target.write_eof()
                return
            target.write(chunk)
            await target.drain()

    sender = asyncio.create_task(send())
    while chunk := await source.read(65536):
        await queue.put((time.monotonic() + delay, chunk))
    await queue.put((time.monotonic() + delay, b""))
    await sender


async def _forward(source: asyncio.StreamReader, target: asyncio.StreamWriter) -> None:
    while chunk := await source.read(65536):
        target.write(chunk)
        await target.drain()
    target.write_eof()


async def _proxy(port: int, upstream: int, delay: float) -> None:
    slots = asyncio.Semaphore(PROXY_CONNECTIONS)
    running: set[asyncio.Task[None]] = set()  # the loop keeps only weak references

    async def handle(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        if slots.locked():
            writer.close()
            return
        task = asyncio.current_task()
        if task is not None:
            running.add(task)
            task.add_done_callback(running.discard)
        async with slots:
            try:
                up_reader, up_writer = await asyncio.open_connection(
                    "127.0.0.1", upstream
                )
            except OSError:
                writer.close()
                return
            try:
                await asyncio.gather(
                    _forward_late(reader, up_writer, delay),
                    _forward(up_reader, writer),
                )
            except (ConnectionError, OSError):
                pass
            finally:
                up_writer.close()
                writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def serve_proxy(port: int, upstream: int, delay: float) -> None:
    """Run the latency proxy (the target of the proxy's own process)."""
    asyncio.run(_proxy(port, upstream, delay))


def start_proxy(upstream: int, delay: float) -> tuple[multiprocessing.Process, int]:
    port = free_port()
    context = multiprocessing.get_context("spawn")
    process = context.Process(
        target=serve_proxy, args=(port, upstream, delay), daemon=True
    )
    process.start()
    wait_for(port, process.kill)
    return process, port


def options(port: int, pool: int | None) -> dict[str, object]:
    endpoint = f"http://127.0.0.1:{port}"
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


def measure(
    store: kvmap.Store[object], label: str, rounds: int
) -> list[tuple[str, float]]:
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
    for _ in range(rounds):
        shuffler.shuffle(order)
        for name in order:
            timings[name].append(timed(runs[name]))
    assert store.getitems(keys) == pairs
    store.delitems(keys)
    store.close()
    return [
        (f"{label}: {name}", statistics.median(values) / COUNT * 1e6)
        for name, values in timings.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--latency",
        default="10,30",
        help="comma-separated delays in ms added by the proxy per request "
        "(default 10,30; 0 or empty for none)",
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds at 0 ms")
    parser.add_argument(
        "--latency-rounds", type=int, default=1, help="rounds per added latency"
    )
    args = parser.parse_args()
    latencies = [float(ms) for ms in args.latency.split(",") if ms.strip()]
    server, moto_port = start_moto()
    try:
        admin = S3Backend("s3://unused", **options(moto_port, None)).fs
        admin.call_s3("create_bucket", Bucket="bench")
        backend = S3Backend("s3://bench/raw", **options(moto_port, None))
        rows = measure(backend, "0 ms, S3Backend, pool 10", args.rounds)
        stack = kvmap.get_store(
            "s3://bench/stack", backend_config=options(moto_port, None)
        )
        rows += measure(stack, "0 ms, get_store, pool 10", args.rounds)
        wide = S3Backend("s3://bench/wide", **options(moto_port, 50))
        rows += measure(wide, "0 ms, S3Backend, pool 50", args.rounds)
        for ms in (ms for ms in latencies if ms > 0):
            rows += measure_with_latency(moto_port, ms, args.latency_rounds)
    finally:
        server.terminate()
        server.wait()
    report(rows, args)


def measure_with_latency(
    moto_port: int, ms: float, rounds: int
) -> list[tuple[str, float]]:
    proxy, port = start_proxy(moto_port, ms / 1000)
    try:
        rows: list[tuple[str, float]] = []
        for pool in (10, 50):
            store = S3Backend("s3://bench/late", **options(port, pool))
            rows += measure(store, f"{ms:g} ms, S3Backend, pool {pool}", rounds)
        return rows
    finally:
        proxy.terminate()
        proxy.join(10)


def report(rows: list[tuple[str, float]], args: argparse.Namespace) -> None:
    micros = dict(rows)
    print(
        f"{COUNT} keys of {len(VALUE)} bytes; median of {args.rounds} rounds at "
        f"0 ms, {args.latency_rounds} per added latency"
    )
    print(
        "added latency: a 127.0.0.1 proxy holds each chunk the client sends "
        "that long before moto sees it (moto's own CPU time per request remains)"
    )
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
