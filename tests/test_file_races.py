"""Several processes writing a key and keys under it into one folder store."""

from __future__ import annotations

import multiprocessing
import os

from kvmap import FileBackend


def _hammer(root: str, role: str, rounds: int, errors) -> None:
    store = FileBackend(root)
    for number in range(rounds):
        try:
            if role == "parent":
                store["a"] = f"parent {number}".encode()
            elif role == "child":
                store["a/b"] = f"child {number}".encode()
                if number % 2:
                    del store["a/b"]
            else:
                store["a/c/d"] = f"grandchild {number}".encode()
        except Exception as error:  # reported to the test, which fails on it
            errors.put(f"{role}: {type(error).__name__}: {error}")
            return


def test_writers_of_a_key_and_its_children_do_not_fail_or_leave_debris(tmp_path):
    root = str(tmp_path / "store")
    context = multiprocessing.get_context("spawn")
    errors = context.Queue()
    workers = [
        context.Process(target=_hammer, args=(root, role, 300, errors))
        for role in ("parent", "child", "grandchild", "parent")
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    found = []
    while not errors.empty():
        found.append(errors.get())
    assert found == []
    assert all(worker.exitcode == 0 for worker in workers)

    store = FileBackend(root)
    assert store["a"].startswith(b"parent ")
    assert store["a/c/d"] == b"grandchild 299"
    for key in store:
        assert isinstance(store[key], bytes)
    leftovers = [
        name
        for _, folders, files in os.walk(root)
        for name in folders + files
        if name.startswith(".kvmap-tmp-")
    ]
    assert leftovers == []
