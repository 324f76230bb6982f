"""The Redis backend across processes (pickling, spawned workers) and threads."""

from __future__ import annotations

import multiprocessing
import pickle
import threading

import pytest

import kvmap
from kvmap.backends.redis import RedisBackend
from kvmap.errors import ProcessLocalError
from tests.factories.redis import (
    FAKE_URL,
    free_port,
    require_shared_redis,
    unique_prefix,
)
from tests.redis_support import make_backend as make_backend
from tests.redis_support import (
    no_debug_mode_from_the_developer as no_debug_mode_from_the_developer,
)
from tests.services import REDIS_URL


def _write_in_worker(store, count):
    for number in range(count):
        store[f"from-worker/{number}"] = {"number": number}
    store.close()


def test_pickled_store_writes_from_a_spawned_process():
    require_shared_redis()
    store = kvmap.get_store(REDIS_URL, redis_prefix=unique_prefix())
    try:
        context = multiprocessing.get_context("spawn")
        worker = context.Process(target=_write_in_worker, args=(store, 5))
        worker.start()
        worker.join(60)
        assert worker.exitcode == 0
        assert store.getitems(f"from-worker/{n}" for n in range(5)) == {
            f"from-worker/{n}": {"number": n} for n in range(5)
        }
    finally:
        store.clear()


def test_store_pickles_to_its_configuration_without_connecting():
    port = free_port()
    backend = RedisBackend(f"redis://:pw@127.0.0.1:{port}/3", redis_prefix="app")
    copy = pickle.loads(pickle.dumps(backend))
    assert (copy.uri, copy.redis_prefix) == (backend.uri, "app")
    assert copy._redis.client is not backend._redis.client


def test_debug_store_refuses_to_unpickle_in_another_process():
    backend = RedisBackend(FAKE_URL, debug=True)
    backend._pid = -1  # as if the pickle came from another process
    with pytest.raises(ProcessLocalError, match="debug mode"):
        pickle.loads(pickle.dumps(backend))


def test_threads_share_one_store(make_backend):
    backend = make_backend()
    errors = []

    def work(thread):
        try:
            for number in range(50):
                backend[f"t{thread}/{number}"] = bytes([thread])
                assert backend[f"t{thread}/{number}"] == bytes([thread])
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(backend) == 400
