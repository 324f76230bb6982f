"""Expiry on the SQL backend: rows with an expiry time, hidden and deleted.

Tests that take ``sql_backend`` run on SQLite (a file and in memory), the
real PostgreSQL and the real MariaDB; ``clock`` stands still until moved.
"""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text

from tests.sql_support import sql_backend as sql_backend


@pytest.fixture
def clock(monkeypatch):
    """A wall clock that moves only when the test says so."""
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def stored_rows(backend):
    """Count every row of the backend's table, expired or not, with raw SQL."""
    with backend.engine.connect() as connection:
        return connection.execute(
            text(f"SELECT COUNT(*) FROM {backend.table}")
        ).scalar()


def test_ttl_expiry_hides_the_key_everywhere(sql_backend, clock):
    sql_backend.set("short", b"1", ttl=10)
    sql_backend.setitems({"batch/a": b"2", "batch/b": b"3"}, ttl=20)
    sql_backend["forever"] = b"4"
    assert len(sql_backend) == 4
    clock[0] += 15
    assert "short" not in sql_backend
    with pytest.raises(KeyError):
        sql_backend["short"]
    assert sorted(sql_backend) == ["batch/a", "batch/b", "forever"]
    clock[0] += 10
    assert list(sql_backend) == ["forever"]
    assert len(sql_backend) == 1
    assert sql_backend.getitems(["short", "batch/a", "forever"]) == {"forever": b"4"}
    with pytest.raises(KeyError):
        del sql_backend["batch/b"]


def test_reading_an_expired_key_deletes_its_row(sql_backend, clock):
    sql_backend.set("short", b"1", ttl=1)
    sql_backend.setitems({"a": b"", "b": b""}, ttl=1)
    clock[0] += 2
    assert stored_rows(sql_backend) == 3
    with pytest.raises(KeyError):
        sql_backend["short"]
    assert stored_rows(sql_backend) == 2
    assert sql_backend.getitems(["a", "b"]) == {}
    assert stored_rows(sql_backend) == 0


def test_purge_expired_deletes_only_expired_rows(sql_backend, clock):
    sql_backend.setitems({f"old/{n}": b"" for n in range(5)}, ttl=1)
    sql_backend.set("later", b"", ttl=100)
    sql_backend["forever"] = b""
    clock[0] += 2
    assert sql_backend.purge_expired() == 5
    assert stored_rows(sql_backend) == 2
    assert sql_backend.purge_expired() == 0


def test_rewrite_without_ttl_removes_the_expiry(sql_backend, clock):
    sql_backend.set("key", b"short", ttl=1)
    sql_backend["key"] = b"kept"
    clock[0] += 5
    assert sql_backend["key"] == b"kept"


def test_stack_passes_ttl_down_and_stores_plain_values(sql_backend, clock):
    from tests.conftest import stack_over

    store = stack_over(sql_backend, default_ttl=10, serialization_mode="raw")
    store["default"] = b"value"
    store.set("own", b"value", ttl=100)
    assert sql_backend["default"] == b"value"
    clock[0] += 50
    assert list(store) == ["own"]
    assert sql_backend.purge_expired() == 1
