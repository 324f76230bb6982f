"""Run ``async def`` tests (zarr's store suite is written as coroutines).

No asyncio plugin is needed: a coroutine test runs to completion on zarr's own
event loop, the loop that zarr's synchronous API uses too.
"""

from __future__ import annotations

import inspect

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    from zarr.core.sync import sync

    names = pyfuncitem._fixtureinfo.argnames
    arguments = {name: pyfuncitem.funcargs[name] for name in names}
    sync(pyfuncitem.obj(**arguments))
    return True
