"""zarr 3 arrays and groups kept in kvmap stores through ZarrStore."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import zarr

from kvmap import BackendUnavailableError, PrefixLayer, ReadOnlyLayer
from kvmap.backends.file import FileBackend
from kvmap.backends.memory import MemoryBackend
from kvmap.zarr import ZarrStore
from tests.conftest import stack_over
from tests.integrations.probes import CountingLayer, FailingLayer, SlowLayer


def test_array_round_trips(kvmap_store):
    data = np.arange(120, dtype="f4").reshape(10, 12)
    array = zarr.open_array(
        store=ZarrStore(kvmap_store),
        mode="w",
        shape=data.shape,
        chunks=(4, 5),
        dtype="f4",
    )
    array[:] = data
    again = zarr.open_array(store=ZarrStore(kvmap_store), mode="r")
    np.testing.assert_array_equal(again[:], data)
    assert "zarr.json" in kvmap_store
    assert "c/2/2" in kvmap_store


@pytest.mark.filterwarnings("ignore:Consolidated metadata:UserWarning")
def test_group_round_trips_with_consolidated_metadata(kvmap_store):
    store = ZarrStore(kvmap_store)
    group = zarr.open_group(store=store, mode="w")
    group.create_array("a", shape=(6,), chunks=(2,), dtype="i8")[:] = range(6)
    group.create_group("sub").create_array("b", shape=(3,), dtype="f8")[:] = 1.5
    zarr.consolidate_metadata(store)

    opened = zarr.open_consolidated(store=ZarrStore(kvmap_store))
    assert opened.metadata.consolidated_metadata is not None
    assert sorted(opened.metadata.consolidated_metadata.flattened_metadata) == [
        "a",
        "sub",
        "sub/b",
    ]
    np.testing.assert_array_equal(opened["a"][:], np.arange(6))
    np.testing.assert_array_equal(opened["sub/b"][:], [1.5, 1.5, 1.5])


def test_missing_chunk_reads_as_the_fill_value(kvmap_store):
    store = ZarrStore(kvmap_store)
    array = zarr.create_array(store, shape=(8,), chunks=(2,), dtype="i4", fill_value=7)
    array[0:2] = [1, 2]
    assert list(kvmap_store.keys(prefix="c/")) == ["c/0"]
    np.testing.assert_array_equal(array[:], [1, 2, 7, 7, 7, 7, 7, 7])


def test_backend_error_is_raised_not_read_as_fill_value(tmp_path):
    backend = FileBackend(tmp_path)
    array = zarr.create_array(ZarrStore(backend), shape=(4,), chunks=(2,), dtype="i4")
    array[:] = [1, 2, 3, 4]
    failing = ZarrStore(FailingLayer(backend, prefix="c/"))
    reopened = zarr.open_array(store=failing, mode="r")
    with pytest.raises(BackendUnavailableError, match="c/"):
        reopened[:]


def test_sharded_array_reads_only_the_ranges_it_needs(tmp_path):
    counting = CountingLayer(FileBackend(tmp_path))
    array = zarr.create_array(
        ZarrStore(counting),
        shape=(64, 64),
        shards=(64, 64),
        chunks=(8, 8),
        dtype="f8",
        compressors=None,
    )
    array[:] = np.arange(64 * 64, dtype="f8").reshape(64, 64)
    shard_size = len(counting.inner["c/0/0"])
    counting.whole.clear()

    assert array[0:8, 8:16].sum() == np.arange(64 * 64).reshape(64, 64)[:8, 8:16].sum()
    assert counting.whole["c/0/0"] == 0
    assert 8 * 8 * 8 <= counting.ranged["c/0/0"] < shard_size / 10


def test_sharded_read_never_reads_a_whole_file(tmp_path, monkeypatch):
    array = zarr.create_array(
        ZarrStore(FileBackend(tmp_path)),
        shape=(64,),
        shards=(64,),
        chunks=(8,),
        dtype="i4",
        compressors=None,
    )
    array[:] = np.arange(64)
    reopened = zarr.open_array(store=ZarrStore(FileBackend(tmp_path)), mode="r")

    def whole_file_read(path):
        raise AssertionError(f"read all of {path}")

    monkeypatch.setattr("kvmap.backends.file.read_file", whole_file_read)
    with pytest.raises(AssertionError, match=r"zarr\.json"):
        zarr.open_array(store=ZarrStore(FileBackend(tmp_path)), mode="r")
    np.testing.assert_array_equal(reopened[16:24], np.arange(16, 24))


def test_sharded_array_round_trips_through_the_full_stack(kvmap_store):
    array = zarr.create_array(
        ZarrStore(kvmap_store),
        shape=(32, 32),
        shards=(16, 16),
        chunks=(4, 4),
        dtype="i2",
    )
    data = np.arange(32 * 32, dtype="i2").reshape(32, 32)
    array[:] = data
    np.testing.assert_array_equal(array[5:13, 17:30], data[5:13, 17:30])


def test_mode_r_opens_a_read_only_copy(kvmap_store):
    zarr.create_array(ZarrStore(kvmap_store), shape=(3,), dtype="i4")[:] = [1, 2, 3]
    array = zarr.open_array(store=ZarrStore(kvmap_store), mode="r")
    assert array.store.read_only
    np.testing.assert_array_equal(array[:], [1, 2, 3])
    with pytest.raises(ValueError, match="read-only"):
        array[0] = 9
    assert array[0] == 1


def test_read_only_layer_makes_a_read_only_zarr_store():
    backend = MemoryBackend()
    zarr.create_array(ZarrStore(backend), shape=(2,), dtype="i4")[:] = [4, 5]
    store = ZarrStore(ReadOnlyLayer(backend))
    assert store.read_only
    np.testing.assert_array_equal(zarr.open_array(store=store)[:], [4, 5])


def test_mode_w_over_a_root_group_keeps_keys_that_are_not_zarrs(kvmap_store):
    kvmap_store["users/1"] = b"ada"
    kvmap_store["7"] = b"looks like a chunk key, but the root is a group"
    old = zarr.open_group(store=ZarrStore(kvmap_store), mode="w")
    old.create_array("old", shape=(4,), chunks=(2,), dtype="i4")[:] = 1

    zarr.open_array(store=ZarrStore(kvmap_store), mode="w", shape=(2,), dtype="i4")

    assert sorted(kvmap_store) == ["7", "users/1", "zarr.json"]
    assert kvmap_store["users/1"] == b"ada"


def test_mode_w_over_a_root_array_deletes_its_chunks_only(kvmap_store):
    kvmap_store["users/1"] = b"ada"
    store = ZarrStore(kvmap_store)
    zarr.open_array(store=store, mode="w", shape=(4,), chunks=(1,), dtype="i4")[:] = 5

    zarr.open_group(store=store, mode="w")

    assert sorted(kvmap_store) == ["users/1", "zarr.json"]


def test_mode_w_under_a_path_deletes_only_that_path(kvmap_store):
    kvmap_store["tempo/notes"] = b"a sibling whose name shares a prefix"
    store = ZarrStore(kvmap_store)
    zarr.open_array(store=store, path="temp", mode="w", shape=(4,), dtype="i4")[:] = 3
    kvmap_store["temp/stray"] = b"under the array's path"

    zarr.open_array(store=store, path="temp", mode="w", shape=(2,), dtype="i4")

    assert "temp/stray" not in kvmap_store
    assert kvmap_store["tempo/notes"] == b"a sibling whose name shares a prefix"


def test_prefix_layer_gives_each_array_its_own_scope():
    shared = MemoryBackend()
    for name, value in (("wind", 1.0), ("rain", 2.0)):
        store = ZarrStore(PrefixLayer(shared, f"arrays/{name}"))
        zarr.open_array(store=store, mode="w", shape=(3,), dtype="f4")[:] = value
    assert sorted(shared.keys(prefix="arrays/rain/")) == [
        "arrays/rain/c/0",
        "arrays/rain/zarr.json",
    ]
    wind = zarr.open_array(store=ZarrStore(PrefixLayer(shared, "arrays/wind")))
    np.testing.assert_array_equal(wind[:], [1.0, 1.0, 1.0])


def test_chunks_of_one_read_are_fetched_concurrently():
    backend = MemoryBackend()
    array = zarr.create_array(ZarrStore(backend), shape=(100,), chunks=(1,), dtype="i4")
    array[:] = np.arange(100)
    slow = SlowLayer(backend, seconds=0.02)

    values = zarr.open_array(store=ZarrStore(slow), mode="r")[:]

    np.testing.assert_array_equal(values, np.arange(100))
    assert slow.most_in_flight >= 4


def test_a_value_that_is_not_bytes_is_refused_naming_the_key():
    store = stack_over(MemoryBackend())
    zarr.create_array(ZarrStore(store), shape=(2,), chunks=(1,), dtype="i4")[:] = 1
    store["c/1"] = {"not": "bytes"}
    with pytest.raises(TypeError, match="'c/1'"):
        zarr.open_array(store=ZarrStore(store))[:]


def test_store_pickles_to_an_equal_store_over_the_same_files(tmp_path):
    store = ZarrStore(stack_over(FileBackend(tmp_path)))
    zarr.create_array(store, shape=(2,), dtype="i4")[:] = [8, 9]
    copy = pickle.loads(pickle.dumps(store))
    assert copy == store
    assert copy.store is not store.store
    np.testing.assert_array_equal(zarr.open_array(store=copy)[:], [8, 9])


def test_stores_over_different_memory_backends_differ():
    assert ZarrStore(MemoryBackend()) != ZarrStore(MemoryBackend())
    backend = MemoryBackend()
    assert ZarrStore(stack_over(backend)) == ZarrStore(stack_over(backend))
