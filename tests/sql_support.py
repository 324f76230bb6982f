"""Fixtures of the SQL backend tests (the tests/test_sql_*.py modules).

Each module imports the fixtures it uses by name, so that pytest finds them
there.
"""

from __future__ import annotations

import pytest

from tests.factories import sql as factories

__all__ = [
    "EVERY",
    "SERVERS",
    "SHARED",
    "server_backend",
    "shared_backend",
    "sql_backend",
]

SERVERS = {"postgresql": factories.postgresql, "mariadb": factories.mariadb}
SHARED = {"sqlite-file": factories.sqlite_file, **SERVERS}
EVERY = {**SHARED, "sqlite-memory": factories.sqlite_memory}


@pytest.fixture(params=sorted(EVERY))
def sql_backend(request, tmp_path):
    """An empty SQL backend on every dialect."""
    return EVERY[request.param](tmp_path, request)


@pytest.fixture(params=sorted(SHARED))
def shared_backend(request, tmp_path):
    """An empty SQL backend that several processes can open."""
    return SHARED[request.param](tmp_path, request)


@pytest.fixture(params=sorted(SERVERS))
def server_backend(request, tmp_path):
    """An empty SQL backend on a database server."""
    return SERVERS[request.param](tmp_path, request)
