"""Fixtures of the integration tests.

``kvmap_store`` is every backend of :mod:`tests.factories` in the default stack,
so a new backend joins the zarr, joblib, xarray and dask tests by its factory.

``async def`` tests (zarr's store suite is written as coroutines) run without
an asyncio plugin: each runs to completion on zarr's own event loop, the loop
that zarr's synchronous API uses too.
"""

from __future__ import annotations

import inspect

import pytest

from tests.conftest import stack_over
from tests.factories import all_factories


def _zarr_major_version() -> int:
    try:
        import zarr
    except ImportError:
        return 0
    return int(zarr.__version__.split(".")[0])


# The zarr 2 tests need zarr<3, so they run in their own environment: the
# tox environment "zarr2", which test_zarr2_environment.py builds and runs.
collect_ignore = ["test_zarr2.py"] if _zarr_major_version() >= 3 else []


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    from zarr.core.sync import sync

    names = pyfuncitem._fixtureinfo.argnames
    arguments = {name: pyfuncitem.funcargs[name] for name in names}
    sync(pyfuncitem.obj(**arguments))
    return True


@pytest.fixture(params=sorted(all_factories()))
def kvmap_store(request, tmp_path):
    """Each backend of tests.factories inside the default get_store stack."""
    return stack_over(all_factories()[request.param](tmp_path, request))
