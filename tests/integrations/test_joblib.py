"""joblib.Memory caching its results in kvmap stores (backend="kvmap")."""

from __future__ import annotations

import time
import uuid

import joblib
import numpy as np
import pytest

import kvmap
import kvmap.joblib  # registers the "kvmap" backend
from tests.services import REDIS_URL


def _memory_location(tmp_path, request):
    return "memory://", {}


def _file_location(tmp_path, request):
    return str(tmp_path / "cache"), {}


def _redis_location(tmp_path, request):
    from tests.factories.redis import require_shared_redis

    require_shared_redis()
    prefix = f"kvmap-test-{uuid.uuid4().hex[:12]}"
    request.addfinalizer(kvmap.get_store(REDIS_URL, redis_prefix=prefix).clear)
    return REDIS_URL, {"redis_prefix": prefix}


def _sqlite_location(tmp_path, request):
    pytest.importorskip("kvmap.backends.sql")
    return f"sqlite:///{tmp_path}/cache.db", {}


LOCATIONS = {
    "memory": _memory_location,
    "file": _file_location,
    "redis": _redis_location,
    "sqlite": _sqlite_location,
}


@pytest.fixture(params=sorted(LOCATIONS))
def location(request, tmp_path):
    """A kvmap URI and the backend options that scope it to this test."""
    return LOCATIONS[request.param](tmp_path, request)


def _memory(location, **options):
    uri, backend_options = location
    return joblib.Memory(
        uri, backend="kvmap", backend_options=backend_options, verbose=0, **options
    )


def test_second_call_is_a_cache_hit(location):
    calls = []

    def square(x):
        calls.append(x)
        return np.full(3, x * x)

    cached = _memory(location).cache(square)
    np.testing.assert_array_equal(cached(4), [16, 16, 16])
    np.testing.assert_array_equal(cached(4), [16, 16, 16])
    assert calls == [4]
    assert cached.check_call_in_cache(4)
    assert not cached.check_call_in_cache(5)


def test_cache_outlives_the_memory_object(tmp_path):
    calls = []

    def double(x):
        calls.append(x)
        return 2 * x

    location = (str(tmp_path), {})
    assert _memory(location).cache(double)(21) == 42
    assert _memory(location).cache(double)(21) == 42
    assert calls == [21]
    store = kvmap.get_store(str(tmp_path), serialization_mode="raw")
    outputs = [key for key in store if key.endswith("/output.pkl")]
    assert len(outputs) == 1
    assert outputs[0].startswith("joblib/")


def test_clear_empties_the_cache(location):
    calls = []

    def identity(x):
        calls.append(x)
        return x

    memory = _memory(location)
    cached = memory.cache(identity)
    cached(1)
    memory.clear(warn=False)
    assert list(memory.store_backend.store.keys(prefix="joblib/")) == []
    assert not cached.check_call_in_cache(1)
    cached(1)
    assert calls == [1, 1]


def test_reduce_size_evicts_the_least_recently_used(location):
    def payload(x):
        return np.zeros(1000) + x

    memory = _memory(location)
    cached = memory.cache(payload)
    for x in (1, 2, 3):
        cached(x)
        time.sleep(0.02)
    cached(1)  # a cache hit makes 1 the most recently used

    memory.reduce_size(items_limit=2)

    assert [cached.check_call_in_cache(x) for x in (1, 2, 3)] == [True, False, True]


def test_reduce_size_by_bytes_uses_the_recorded_sizes(location):
    memory = _memory(location)
    cached = memory.cache(lambda x: np.zeros(10_000) + x)
    for x in (1, 2, 3):
        cached(x)
        time.sleep(0.02)
    sizes = [item.size for item in memory.store_backend.get_items()]
    assert len(sizes) == 3
    assert all(size > 80_000 for size in sizes)

    memory.reduce_size(bytes_limit=sum(sizes) - 1)

    assert [cached.check_call_in_cache(x) for x in (1, 2, 3)] == [False, True, True]


def zeros():
    return np.zeros(100_000)


def test_compressed_results_are_smaller_and_round_trip(location):
    sizes = {}
    for compress in (0, 3):
        memory = _memory(location, compress=compress)
        memory.clear(warn=False)
        np.testing.assert_array_equal(memory.cache(zeros)(), zeros())
        np.testing.assert_array_equal(memory.cache(zeros)(), zeros())
        (item,) = memory.store_backend.get_items()
        sizes[compress] = item.size
    assert sizes[3] * 10 < sizes[0]


def test_two_functions_with_the_same_arguments_are_cached_apart(location):
    memory = _memory(location)

    def add_one(x):
        return x + 1

    def add_two(x):
        return x + 2

    assert memory.cache(add_one)(1) == 2
    assert memory.cache(add_two)(1) == 3
    assert memory.cache(add_one)(1) == 2


@pytest.mark.parametrize("backend", ["local", "kvmap"])
def test_missing_items_raise_what_joblib_expects(backend, tmp_path):
    memory = joblib.Memory(str(tmp_path), backend=backend, verbose=0)
    store_backend = memory.store_backend
    with pytest.raises(FileNotFoundError):
        store_backend.get_cached_func_code(["no_such_function"])
    with pytest.raises(KeyError):
        store_backend.load_item(["no_such_function", "0" * 32], verbose=0)
    assert store_backend.get_metadata(["no_such_function", "0" * 32]) == {}


def test_service_errors_are_not_read_as_missing_items(tmp_path, monkeypatch):
    memory = _memory((str(tmp_path), {}))
    cached = memory.cache(lambda x: x)
    cached(1)

    def unreachable(self, key):
        raise kvmap.BackendUnavailableError("cannot reach the service")

    monkeypatch.setattr(type(memory.store_backend.store), "__getitem__", unreachable)
    with pytest.raises(kvmap.BackendUnavailableError):
        memory.store_backend.get_cached_func_code([cached.func_id])


def test_mmap_mode_is_ignored_with_a_warning(tmp_path):
    with pytest.warns(UserWarning, match="mmap_mode"):
        memory = _memory((str(tmp_path), {}), mmap_mode="r")
    np.testing.assert_array_equal(memory.cache(np.ones)(2), [1.0, 1.0])


def test_password_is_not_shown_in_the_location():
    memory = joblib.Memory(
        "redis://:hunter2@127.0.0.1:6379/0", backend="kvmap", verbose=0
    )
    backend = memory.store_backend
    assert backend.location == "redis://:***@127.0.0.1:6379/0/joblib"
    assert "hunter2" not in repr(backend)
    assert "hunter2" not in repr(memory.cache(abs))


def test_cached_function_runs_in_worker_processes(tmp_path):
    memory = _memory((str(tmp_path), {}))
    cached = memory.cache(np.square)
    results = joblib.Parallel(n_jobs=2, backend="loky")(
        joblib.delayed(cached)(x) for x in range(4)
    )
    assert results == [0, 1, 4, 9]
    assert all(cached.check_call_in_cache(x) for x in range(4))
