"""Fixtures of the Redis backend tests (the tests/test_redis_*.py modules).

Each module imports the fixtures it uses by name, so that pytest finds them
there; ``no_debug_mode_from_the_developer`` is imported by every one of them.
"""

from __future__ import annotations

import pytest

from kvmap.backends.redis import RedisBackend
from tests.factories.redis import (
    FAKE_URL,
    OwnRedisServer,
    require_shared_redis,
    unique_prefix,
)
from tests.services import REDIS_URL

__all__ = ["make_backend", "no_debug_mode_from_the_developer", "own_server"]


@pytest.fixture(autouse=True)
def no_debug_mode_from_the_developer(monkeypatch):
    """Real-server tests stay on the real server even if REDIS_DEBUG is set."""
    monkeypatch.delenv("REDIS_DEBUG", raising=False)


@pytest.fixture(params=["redis", "fakeredis"])
def make_backend(request):
    """Build backends on the shared server, or on fakeredis; clean up after."""
    made = []
    if request.param == "redis":
        require_shared_redis()

    def make(redis_prefix=None, **options):
        prefix = unique_prefix() if redis_prefix is None else redis_prefix
        url = REDIS_URL if request.param == "redis" else FAKE_URL
        backend = RedisBackend(
            url, redis_prefix=prefix, debug=request.param == "fakeredis", **options
        )
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.clear()
        backend.close()


@pytest.fixture
def own_server():
    """A redis-server of this test's own, removed afterwards."""
    server = OwnRedisServer()
    yield server
    server.remove()
