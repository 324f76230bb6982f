"""Find the services the tests use, through environment variables.

Each service has a loopback default. When one cannot be reached, the test that
needs it is skipped with the reason on a developer's machine, and fails under
CI (``CI=true``): a backend skipped in CI would be an untested backend.
"""

from __future__ import annotations

import os
import socket

import pytest

REDIS_URL = os.environ.get("KVMAP_TEST_REDIS_URL", "redis://127.0.0.1:6379")
POSTGRES_URL = os.environ.get(
    "KVMAP_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
MARIADB_URL = os.environ.get(
    "KVMAP_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test"
)


def in_ci() -> bool:
    """Tell whether the tests run under CI, where no service may be missing."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_port(name: str, host: str, port: int) -> None:
    """Skip (or, under CI, fail) the calling test when host:port is closed."""
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError as error:
        reason = f"{name} is not reachable at {host}:{port} ({error})"
        if in_ci():
            pytest.fail(f"{reason}; CI must test every backend", pytrace=False)
        pytest.skip(reason)
