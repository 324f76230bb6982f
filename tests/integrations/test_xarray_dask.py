"""xarray datasets and dask arrays written to kvmap stores through ZarrStore."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import dask
import dask.array as da
import numpy as np
import pytest
import xarray as xr

from kvmap import ProcessLocalError
from kvmap.zarr import ZarrStore
from tests.conftest import stack_over
from tests.factories import all_factories

FACTORIES = all_factories()
#: Backends whose data lives in the test process only: a worker process
#: cannot reach it, and each refuses to be unpickled there.
IN_PROCESS = {"memory", "fsspec-memory", "fakeredis", "sql-sqlite-memory"}


@pytest.fixture(scope="module")
def processes():
    """dask's process scheduler on one pool of two worker processes."""
    context = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(2, mp_context=context) as pool,
        dask.config.set(scheduler="processes", pool=pool),
    ):
        yield pool


def _dataset():
    return xr.Dataset(
        {"temperature": (("time", "x"), np.arange(24, dtype="f4").reshape(4, 6))},
        coords={"time": np.arange(4), "x": np.linspace(0, 1, 6)},
        attrs={"title": "a small test dataset"},
    )


@pytest.mark.filterwarnings("ignore:Consolidated metadata:UserWarning")
def test_dataset_round_trips_with_consolidated_metadata(kvmap_store):
    dataset = _dataset()
    dataset.to_zarr(ZarrStore(kvmap_store), mode="w", consolidated=True)
    assert "zarr.json" in kvmap_store

    opened = xr.open_zarr(ZarrStore(kvmap_store), consolidated=True)

    xr.testing.assert_identical(opened.load(), dataset)


@pytest.fixture(params=sorted(set(FACTORIES) - IN_PROCESS))
def shared_store(request, tmp_path):
    """Each backend that worker processes reach, in the default stack."""
    return stack_over(FACTORIES[request.param](tmp_path, request))


def test_dask_processes_write_every_chunk_through_the_backend(shared_store, processes):
    data = np.arange(64 * 64, dtype="i4").reshape(64, 64)
    array = da.from_array(data, chunks=(16, 16))

    da.to_zarr(array, ZarrStore(shared_store))

    chunks = sorted(shared_store.keys(prefix="c/"))
    assert chunks == sorted(
        f"c/{row}/{column}" for row in range(4) for column in range(4)
    )
    np.testing.assert_array_equal(da.from_zarr(ZarrStore(shared_store)).compute(), data)


def test_xarray_with_dask_processes_writes_through_the_backend(tmp_path, processes):
    store = stack_over(FACTORIES["file"](tmp_path, None))
    dataset = _dataset().chunk({"time": 1})

    dataset.to_zarr(ZarrStore(store), mode="w", consolidated=False)

    assert len(list(store.keys(prefix="temperature/c/"))) == 4
    opened = xr.open_zarr(ZarrStore(store), consolidated=False)
    xr.testing.assert_identical(opened.load(), _dataset())


@pytest.mark.parametrize("name", sorted(IN_PROCESS))
def test_in_process_stores_refuse_to_be_used_by_worker_processes(
    name, tmp_path, request, processes
):
    store = ZarrStore(stack_over(FACTORIES[name](tmp_path, request)))
    array = da.ones((8, 8), chunks=(4, 4))

    with pytest.raises(ProcessLocalError, match="another process"):
        da.to_zarr(array, store)
