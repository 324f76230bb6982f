"""Per-operation set and get of 100-byte values: kvmap against its peers.

Run: ``python benchmarks/bench_core.py`` (peers: ``pip install '.[bench]'``).
Every row runs in this one process on the same machine; compare the ratios.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kvmap
from benchmarks.timing import compare, print_table

COUNT = 2000
VALUE = os.urandom(100)
KEYS = [f"group{index % 10}/key{index}" for index in range(COUNT)]
FLAT_KEYS = [key.replace("/", "-") for key in KEYS]


def mapping_ops(store) -> tuple[Callable[[int], object], Callable[[int], object]]:
    def put(index: int) -> None:
        store[KEYS[index]] = VALUE

    def get(index: int) -> object:
        return store[KEYS[index]]

    return put, get


def plain_file_ops(root: str):
    for group in range(10):
        os.makedirs(f"{root}/group{group}", exist_ok=True)

    def put(index: int) -> None:
        with open(f"{root}/{KEYS[index]}", "wb") as target:
            target.write(VALUE)

    def get(index: int) -> bytes:
        with open(f"{root}/{KEYS[index]}", "rb") as source:
            return source.read()

    return put, get


def flat_mapping_ops(store):
    def put(index: int) -> None:
        store[FLAT_KEYS[index]] = VALUE

    def get(index: int) -> object:
        return store[FLAT_KEYS[index]]

    return put, get


def anystore_ops(store):
    def put(index: int) -> None:
        store.put(KEYS[index], VALUE, serialization_mode="raw")

    def get(index: int) -> object:
        return store.get(KEYS[index], serialization_mode="raw")

    return put, get


def candidates(folder: str) -> dict[str, tuple]:
    import fsspec

    found = {
        "dict": mapping_ops({}),
        "kvmap memory raw": mapping_ops(kvmap.MemoryBackend()),
        "kvmap memory default stack": mapping_ops(kvmap.get_store("memory://")),
        "plain open/write/read": plain_file_ops(f"{folder}/plain"),
        "kvmap file raw": mapping_ops(kvmap.FileBackend(f"{folder}/kvmap-raw")),
        "kvmap file default stack": mapping_ops(kvmap.get_store(f"{folder}/kvmap")),
        "fsspec mapper (local)": mapping_ops(fsspec.get_mapper(f"{folder}/fsspec")),
    }
    try:
        import zict

        found["zict.File"] = flat_mapping_ops(zict.File(f"{folder}/zict"))
    except ImportError:
        print("zict is not installed: its row is left out")
    try:
        import diskcache

        found["diskcache.Cache"] = mapping_ops(diskcache.Cache(f"{folder}/diskcache"))
    except ImportError:
        print("diskcache is not installed: its row is left out")
    try:
        import anystore

        store = anystore.get_store(uri=f"{folder}/anystore")
        found["anystore (local, raw)"] = anystore_ops(store)
    except ImportError:
        print("anystore is not installed: its row is left out")
    return found


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        found = candidates(folder)
        puts = compare({name: ops[0] for name, ops in found.items()}, COUNT)
        gets = compare({name: ops[1] for name, ops in found.items()}, COUNT)
    print(f"{COUNT} keys, 100-byte values, best of 5 interleaved rounds")
    print_table("set", puts, "dict")
    print_table("get", gets, "dict")
    put = dict(puts)
    get = dict(gets)
    print("\ntargets")
    stack = max(put["kvmap memory default stack"], get["kvmap memory default stack"])
    print(f"  memory default stack <= 3 µs/op: {stack:.2f} µs")
    if "zict.File" in put:
        ratio = put["kvmap file raw"] / put["zict.File"]
        print(f"  file put vs zict.File <= 1.0x: {ratio:.2f}x")
    ratio = get["kvmap file raw"] / get["plain open/write/read"]
    print(f"  file get vs plain open/read <= 1.3x: {ratio:.2f}x")


if __name__ == "__main__":
    main()
