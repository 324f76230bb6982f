"""Lost and unreachable SQL servers: errors name the database, never a password."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

import kvmap
from kvmap.backends.sql import SQLBackend
from kvmap.backends.sql_statements import largest_value
from kvmap.errors import BackendUnavailableError, StatementError, ValueTooLargeError
from tests.factories import sql as factories
from tests.services import MARIADB_URL
from tests.sql_support import server_backend as server_backend


def kill_pooled_connection(backend):
    """Close the store's pooled connection from the server's side.

    This is what a server restart does to a client's connections; the shared
    test servers are not restarted, only this store's session is ended.
    """
    with backend.engine.connect() as connection:
        if backend.url.get_backend_name() == "postgresql":
            session = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
            statement = f"SELECT pg_terminate_backend({int(session)})"
        else:
            session = connection.exec_driver_sql("SELECT CONNECTION_ID()").scalar()
            statement = f"KILL {int(session)}"
    admin = create_engine(backend.url, poolclass=NullPool)
    with admin.begin() as connection:
        connection.exec_driver_sql(statement)
    admin.dispose()


def test_server_restart_is_recovered_on_the_next_call(server_backend):
    """The server ends this store's session, as a restart would."""
    server_backend["key"] = b"before"
    kill_pooled_connection(server_backend)
    assert server_backend["key"] == b"before"
    server_backend["key"] = b"after"
    assert server_backend["key"] == b"after"


def test_lost_connection_without_pre_ping_raises_unavailable(server_backend, request):
    """Without pre-ping the call that meets the ended session fails, clearly."""
    backend = SQLBackend(
        server_backend.uri,
        table=server_backend.table.name,
        engine_kwargs={"pool_pre_ping": False},
    )
    request.addfinalizer(backend.close)
    backend["key"] = b"value"
    kill_pooled_connection(backend)
    with pytest.raises(BackendUnavailableError, match=r"127\.0\.0\.1"):
        backend["key"]
    assert backend["key"] == b"value"


@pytest.mark.parametrize(
    "uri",
    [
        "postgresql://kvuser:s3cr3t-pw@127.0.0.1:1/somedb",
        "mysql+pymysql://kvuser:s3cr3t-pw@127.0.0.1:1/somedb",
    ],
)
def test_unreachable_server_raises_unavailable_naming_host_not_password(uri):
    backend = SQLBackend(uri)
    with pytest.raises(BackendUnavailableError) as raised:
        backend["key"]
    message = str(raised.value)
    assert "127.0.0.1:1" in message
    assert "somedb" in message
    assert "s3cr3t-pw" not in message
    assert isinstance(raised.value, ConnectionError)
    assert not isinstance(raised.value, KeyError)
    assert "s3cr3t-pw" not in repr(backend)


def test_unopenable_sqlite_file_raises_unavailable(tmp_path):
    backend = SQLBackend(f"sqlite:///{tmp_path}/missing/folder/store.db")
    with pytest.raises(BackendUnavailableError, match="missing/folder"):
        backend["key"] = b"value"


def test_get_store_on_mariadb_keeps_objects(request):
    backend = factories.server_backend(MARIADB_URL, request)
    store = kvmap.get_store(MARIADB_URL, sql={"table": backend.table.name})
    store["object"] = {"list": [1, 2], "text": "été"}
    assert store["object"] == {"list": [1, 2], "text": "été"}
    assert list(backend) == ["object"]
    store.close()


def test_failed_statement_raises_kvmap_error_naming_the_database(server_backend):
    """The table is dropped behind the store's back: every call now fails."""
    server_backend["key"] = b"value"
    factories.drop_table(server_backend)
    for action in (
        lambda: server_backend["key"],
        lambda: server_backend.setitems({"a": b"1", "b": b"2"}),
        lambda: server_backend.delitems(["a"]),
    ):
        with pytest.raises(StatementError) as raised:
            action()
        message = str(raised.value)
        assert "failed a statement" in message
        assert "127.0.0.1" in message and "'test'" in message
        assert not isinstance(raised.value, KeyError | ConnectionError)


@pytest.fixture
def mariadb_backend(request, tmp_path):
    backend = factories.mariadb(tmp_path, request)
    backend["created"] = b"table exists"
    assert backend.max_packet is not None
    return backend


def test_mariadb_value_over_the_limit_names_key_size_and_packet(mariadb_backend):
    limit = largest_value(mariadb_backend.max_packet)
    too_big = b"a" * (limit + 1)
    for action in (
        lambda: mariadb_backend.__setitem__("big", too_big),
        lambda: mariadb_backend.setitems({"small": b"1", "big": too_big}),
    ):
        with pytest.raises(ValueTooLargeError) as raised:
            action()
        message = str(raised.value)
        assert "'big'" in message and str(limit + 1) in message
        assert f"max_allowed_packet ({mariadb_backend.max_packet} bytes)" in message
        assert "cannot reach" not in message
        assert isinstance(raised.value, ValueError)
    assert "small" not in mariadb_backend
    assert "big" not in mariadb_backend


@pytest.mark.slow
@pytest.mark.parametrize("fill", [b"a", b"\0", b"'\\"])
def test_mariadb_value_at_the_limit_round_trips(mariadb_backend, fill):
    """Bytes that escape to two (NUL, quote, backslash) still fit at the limit."""
    limit = largest_value(mariadb_backend.max_packet)
    value = (fill * limit)[:limit]
    mariadb_backend["at limit"] = value
    assert mariadb_backend["at limit"] == value
    mariadb_backend.setitems({"batch/1": value[:-1], "batch/2": value})
    assert mariadb_backend.getitems(["batch/1", "batch/2"]) == {
        "batch/1": value[:-1],
        "batch/2": value,
    }
