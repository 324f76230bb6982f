"""The SQL backend under racing processes, threads and forks."""

from __future__ import annotations

import multiprocessing
import pickle
import sqlite3
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

from kvmap.backends.sql import SQLBackend
from kvmap.errors import ProcessLocalError
from tests.sql_support import server_backend as server_backend
from tests.sql_support import shared_backend as shared_backend
from tests.sql_support import sql_backend as sql_backend


def write_race(uri, table, writer, count):
    """Write ``count`` new keys that every writer writes too, in the same order."""
    backend = SQLBackend(uri, table=table)
    for number in range(count):
        backend[f"race/{number}"] = f"writer {writer}".encode()
        backend.setitems({f"batch/{number % 7}": f"writer {writer}".encode()})
    backend.close()
    return writer


@pytest.mark.slow
def test_processes_racing_on_new_keys_never_collide(shared_backend):
    uri = shared_backend.uri
    table = shared_backend.table.name
    shared_backend["created"] = b"table exists"
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(4, mp_context=context) as pool:
        jobs = [pool.submit(write_race, uri, table, writer, 150) for writer in range(4)]
        assert sorted(job.result() for job in jobs) == [0, 1, 2, 3]
    winners = {f"writer {writer}".encode() for writer in range(4)}
    values = shared_backend.getitems(f"race/{number}" for number in range(150))
    assert len(values) == 150
    assert set(values.values()) <= winners
    assert len(shared_backend) == 150 + 7 + 1


def test_threads_share_one_store(sql_backend):
    def write(thread):
        for number in range(50):
            sql_backend[f"t{thread}/{number}"] = b"x"
            assert sql_backend[f"t{thread}/{number}"] == b"x"
        return len(list(sql_backend.keys(prefix=f"t{thread}/")))

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(write, range(6))) == [50] * 6
    assert len(sql_backend) == 300


def test_sqlite_file_uses_wal_and_waits_for_another_writer(tmp_path):
    path = tmp_path / "locked.db"
    backend = SQLBackend(f"sqlite:///{path}")
    backend["first"] = b"1"
    with backend.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    threading.Timer(1.0, other.execute, ["COMMIT"]).start()
    started = time.monotonic()
    backend["second"] = b"2"
    assert time.monotonic() - started >= 0.9
    assert backend["second"] == b"2"
    other.close()


def test_memory_database_cannot_be_unpickled_in_another_process():
    store = SQLBackend("sqlite://")
    store["key"] = b"value"
    assert pickle.loads(pickle.dumps(store)) is store
    context = multiprocessing.get_context("spawn")
    payload = pickle.dumps(store)
    with (
        ProcessPoolExecutor(1, mp_context=context) as pool,
        pytest.raises(ProcessLocalError, match="another process"),
    ):
        pool.submit(pickle.loads, payload).result()


def write_after_fork(backend):
    backend["child"] = b"written after fork"
    return backend["parent"]


def test_forked_child_opens_its_own_connections(server_backend):
    server_backend["parent"] = b"from the parent"
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        assert pool.submit(write_after_fork, server_backend).result() == (
            b"from the parent"
        )
    assert server_backend["child"] == b"written after fork"
    server_backend["parent"] = b"still usable"
    assert server_backend["parent"] == b"still usable"


def write_batches(uri, table, descending, rounds):
    """Write 2000 keys, then delete the first 500, in ascending or descending order."""
    backend = SQLBackend(uri, table=table)
    numbers = range(2000)
    keys = [
        f"k{number:04d}" for number in (reversed(numbers) if descending else numbers)
    ]
    for round_number in range(rounds):
        backend.setitems({key: b"%d" % round_number for key in keys})
        backend.delitems(keys[:500])
    backend.close()
    return descending


@pytest.mark.slow
def test_batches_over_the_same_keys_in_opposite_orders_never_deadlock(server_backend):
    uri, table = server_backend.uri, server_backend.table.name
    server_backend["created"] = b"table exists"
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(4, mp_context=context) as pool:
        orders = [False, True, False, True]
        jobs = [pool.submit(write_batches, uri, table, order, 8) for order in orders]
        assert [job.result(timeout=240) for job in jobs] == orders
    # Which batch came last decides whether the first and last 500 keys are
    # there; the middle 1000 are never deleted.
    listed = set(server_backend.keys(prefix="k"))
    assert {f"k{number:04d}" for number in range(500, 1500)} <= listed
    assert listed <= {f"k{number:04d}" for number in range(2000)}
