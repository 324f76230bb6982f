"""zarr 2 keeps arrays in a bare kvmap store: any mutable mapping is a store.

Runs in the ``zarr2`` tox environment (``zarr<3``), which
``test_zarr2_environment.py`` builds and runs from the main suite; under zarr 3
it is not collected (zarr 3's own tests are in ``test_zarr.py``). ``store`` is
every backend of :mod:`tests.factories`, bare and inside the stacks that
``get_store`` builds.
"""

from __future__ import annotations

import numpy as np
import pytest

zarr = pytest.importorskip("zarr")
if int(zarr.__version__.split(".")[0]) >= 3:
    pytest.skip("zarr 3 takes kvmap.zarr.ZarrStore", allow_module_level=True)


def test_array_round_trips(store):
    data = np.arange(60, dtype="<f8").reshape(6, 10)
    array = zarr.open_array(store=store, mode="w", shape=(6, 10), chunks=(4, 4))
    array[:] = data
    assert {".zarray", "0.0", "1.2"} <= set(store)
    np.testing.assert_array_equal(zarr.open_array(store=store, mode="r")[:], data)


def test_uncompressed_chunks_round_trip(store):
    data = np.arange(12, dtype="<i4").reshape(3, 4)
    array = zarr.open_array(
        store=store,
        mode="w",
        shape=(3, 4),
        chunks=(2, 2),
        dtype="<i4",
        compressor=None,
    )
    array[:] = data
    assert bytes(store["0.0"]) == data[:2, :2].tobytes()
    np.testing.assert_array_equal(zarr.open_array(store=store, mode="r")[:], data)


def test_chunk_written_as_a_numpy_array_reads_back(store):
    array = zarr.open_array(
        store=store,
        mode="w",
        shape=(2, 2),
        chunks=(2, 2),
        dtype="<i4",
        compressor=None,
        fill_value=0,
    )
    store["0.0"] = np.array([[1, 2], [3, 4]], dtype="<i4")
    np.testing.assert_array_equal(array[:], [[1, 2], [3, 4]])


def test_missing_chunk_reads_as_the_fill_value(store):
    array = zarr.open_array(
        store=store, mode="w", shape=(4,), chunks=(2,), dtype="<i2", fill_value=-1
    )
    array[:2] = [5, 6]
    np.testing.assert_array_equal(array[:], [5, 6, -1, -1])


def test_group_with_consolidated_metadata_round_trips(store):
    group = zarr.open_group(store=store, mode="w")
    group.create_dataset("a", data=np.arange(5), chunks=(2,))
    group.require_group("sub").create_dataset("b", data=np.ones(3))
    zarr.consolidate_metadata(store)
    opened = zarr.open_consolidated(store, mode="r")
    np.testing.assert_array_equal(opened["a"][:], np.arange(5))
    np.testing.assert_array_equal(opened["sub/b"][:], np.ones(3))
