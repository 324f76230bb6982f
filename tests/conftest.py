"""Fixtures shared by the whole suite.

``backend`` is every raw backend in :mod:`tests.factories`; ``store`` is every
backend, bare and inside the full stack that ``get_store`` builds. The contract
suite runs against ``store``, so a new backend joins it by adding a factory.
"""

from __future__ import annotations

import os

import pytest

from kvmap.factory import wrap_backend
from kvmap.settings import Settings
from tests.factories import all_factories

FACTORIES = all_factories()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch):
    """Run every test without the developer's own KVMAP_* settings."""
    for variable in list(os.environ):
        if variable.startswith("KVMAP_") and not variable.startswith("KVMAP_TEST_"):
            monkeypatch.delenv(variable)


@pytest.fixture(params=sorted(FACTORIES))
def backend(request, tmp_path):
    """An empty raw backend of each kind."""
    return FACTORIES[request.param](tmp_path, request)


def stack_over(backend, **settings):
    """The full default stack over an existing backend."""
    return wrap_backend(backend, Settings(uri=backend.uri, **settings))


STACKS = {
    "bare": lambda backend: backend,
    "stack": lambda backend: stack_over(backend),
    "stack-prefixed": lambda backend: stack_over(backend, key_prefix="team/app"),
}


@pytest.fixture(params=sorted(STACKS))
def store(request, backend):
    """Each backend, bare and wrapped in the stacks that get_store builds."""
    return STACKS[request.param](backend)
