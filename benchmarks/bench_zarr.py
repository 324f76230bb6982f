"""zarr 3 through kvmap.zarr.ZarrStore against zarr's own LocalStore.

Run: ``python benchmarks/bench_zarr.py [folder]`` (the folder defaults to a
temporary one; give one on the disk you care about).

1. Throughput: write, then read, a 200 MB float32 array in 1 MB chunks
   (no compression, so the store's I/O is what is timed), through zarr's
   ``LocalStore``, ``ZarrStore`` over the bare local-file backend, and
   ``ZarrStore`` over the full ``get_store`` stack, all in this one process.
   Best of several interleaved rounds; ratios are to ``LocalStore``.
2. Concurrency: read 100 chunks from a backend that sleeps 20 ms per read.
   One read after another would take 2 s.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import zarr
from zarr.storage import LocalStore

import kvmap
from benchmarks.timing import compare
from kvmap.zarr import ZarrStore

MB = 1 << 20
CHUNK_ITEMS = MB // 4  # float32
CHUNKS = 200
SLOW_SECONDS = 0.02


class SlowLayer(kvmap.Layer):
    """Sleep before each read, like a backend ``SLOW_SECONDS`` away."""

    def __getitem__(self, key):
        time.sleep(SLOW_SECONDS)
        return self.inner[key]


def throughput(folder: Path) -> None:
    data = np.random.default_rng(0).random(CHUNKS * CHUNK_ITEMS, dtype="f4")
    stores = {
        "zarr LocalStore": LocalStore(folder / "zarr-local"),
        "ZarrStore(FileBackend)": ZarrStore(kvmap.FileBackend(folder / "bare")),
        "ZarrStore(get_store(path))": ZarrStore(kvmap.get_store(str(folder / "stack"))),
    }
    arrays = {
        name: zarr.create_array(
            store,
            shape=data.shape,
            chunks=(CHUNK_ITEMS,),
            dtype="f4",
            compressors=None,
            overwrite=True,
        )
        for name, store in stores.items()
    }

    def writer(array):
        return lambda _: array.__setitem__(slice(None), data)

    def reader(array):
        return lambda _: array[:]

    for name, array in arrays.items():  # check, and warm the page cache
        array[:] = data
        assert np.array_equal(array[:], data), name

    total = CHUNKS * MB
    for label, make in (("write", writer), ("read", reader)):
        operations = {name: make(array) for name, array in arrays.items()}
        rows = compare(operations, count=1, rounds=5)
        print_throughput(f"{label} 200 MB in 1 MB chunks", rows, total)


def print_throughput(title: str, rows: list[tuple[str, float]], size: int) -> None:
    reference = dict(rows)["zarr LocalStore"]
    print(f"\n{title}")
    print(f"{'':30} {'µs/chunk':>10} {'MB/s':>8} {'throughput vs LocalStore':>26}")
    for name, micros in rows:
        rate = size / MB / (micros / 1e6)
        print(
            f"{name:30} {micros / CHUNKS:10.0f} {rate:8.0f} {reference / micros:>26.2f}"
        )


def concurrency() -> None:
    backend = kvmap.MemoryBackend()
    array = zarr.create_array(ZarrStore(backend), shape=(100,), chunks=(1,), dtype="i4")
    array[:] = np.arange(100)
    print(f"\nread 100 chunks, {SLOW_SECONDS * 1000:.0f} ms per backend read")
    print(f"{'':30} {'seconds':>10} {'speed-up vs one by one':>24}")
    serial = 100 * SLOW_SECONDS
    print(f"{'one read after another':30} {serial:10.2f} {1:>24.1f}")
    for limit in (10, 32):
        with zarr.config.set({"async.concurrency": limit}):
            slow = zarr.open_array(store=ZarrStore(SlowLayer(backend)), mode="r")
            start = time.perf_counter()
            assert slow[:].sum() == sum(range(100))
            elapsed = time.perf_counter() - start
        name = f"ZarrStore, concurrency {limit}"
        print(f"{name:30} {elapsed:10.2f} {serial / elapsed:>24.1f}")


def main() -> None:
    if len(sys.argv) > 1:
        throughput(Path(sys.argv[1]))
    else:
        with tempfile.TemporaryDirectory() as folder:
            throughput(Path(folder))
    concurrency()


if __name__ == "__main__":
    main()
