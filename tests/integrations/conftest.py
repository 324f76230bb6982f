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
