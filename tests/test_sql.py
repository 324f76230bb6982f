"""What the SQL backend adds to the contract: URIs, options, schema, TTL, races.

Tests that take ``sql_backend`` run on SQLite (a file and in memory), the
real PostgreSQL and the real MariaDB, each on a table of its own.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sqlite3
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.pool import NullPool

import kvmap
from kvmap.backends.sql import SQLBackend
from kvmap.errors import (
    BackendUnavailableError,
    ConfigError,
    InvalidKeyError,
    ProcessLocalError,
)
from tests.factories import sql as factories
from tests.services import MARIADB_URL, POSTGRES_URL

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


# URIs and options


def test_relative_sqlite_path_is_resolved_when_the_store_is_made(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    backend = SQLBackend("sqlite:///relative.db")
    monkeypatch.chdir("/")
    backend["key"] = b"value"
    assert (tmp_path / "relative.db").is_file()
    assert backend.url.database == str(tmp_path / "relative.db")


def test_absolute_sqlite_path_and_memory_uri(tmp_path):
    on_disk = SQLBackend(f"sqlite:///{tmp_path}/absolute.db")
    on_disk["key"] = b"disk"
    in_memory = SQLBackend("sqlite://")
    in_memory["key"] = b"memory"
    assert (tmp_path / "absolute.db").is_file()
    assert SQLBackend(f"sqlite:///{tmp_path}/absolute.db")["key"] == b"disk"
    assert "key" not in SQLBackend("sqlite://")


@pytest.mark.parametrize(
    ("uri", "drivername"),
    [
        ("postgresql://user@host/db", "postgresql+psycopg"),
        ("postgres://user@host/db", "postgresql+psycopg"),
        ("postgresql+psycopg2://user@host/db", "postgresql+psycopg2"),
        ("mysql://root@host/db", "mysql+pymysql"),
        ("mariadb://root@host/db", "mariadb+pymysql"),
        ("sqlite:///x.db", "sqlite"),
    ],
)
def test_driver_is_chosen_when_none_is_named(uri, drivername):
    assert SQLBackend(uri).url.drivername == drivername


def test_query_parameters_reach_the_driver(request):
    backend = factories.server_backend(
        POSTGRES_URL + "?sslmode=disable&application_name=kvmap-query", request
    )
    backend["key"] = b"value"
    with backend.engine.connect() as connection:
        name = connection.execute(text("SHOW application_name")).scalar()
    assert name == "kvmap-query"


@pytest.mark.parametrize("uri", ["oracle://user@host/db", "not a url", "sqlite"])
def test_uri_that_is_not_a_supported_database_raises_configerror(uri):
    with pytest.raises(ConfigError):
        SQLBackend(uri)


def test_options_from_the_environment_are_cast_to_their_types(tmp_path, monkeypatch):
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__SQL__TABLE", "from_environment")
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__SQL__POOL_SIZE", "7")
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__SQL__ENGINE_KWARGS", '{"echo": false}')
    store = kvmap.get_store(f"sqlite:///{tmp_path}/env.db")
    store["key"] = {"any": "object"}
    backend = store.inner.inner
    assert backend.pool_size == 7
    assert backend.engine.pool.size() == 7
    assert backend.engine_kwargs == {"echo": False}
    assert inspect(backend.engine).get_table_names() == ["from_environment"]
    assert store["key"] == {"any": "object"}


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"table": "drop table; --"}, "sql.table"),
        ({"table": "a" * 49}, "sql.table"),
        ({"table": "1starts_with_digit"}, "sql.table"),
        ({"pool_size": 0}, "sql.pool_size"),
        ({"pool_size": "5"}, "sql.pool_size"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_option_raises_configerror_naming_it(options, named):
    with pytest.raises(ConfigError, match=named):
        SQLBackend.from_uri("sqlite://", sql=options)


def test_table_is_created_on_first_use_and_only_that_table(tmp_path):
    path = tmp_path / "tables.db"
    backend = SQLBackend(f"sqlite:///{path}", table="mine")
    assert not path.exists()
    assert "key" not in backend
    assert inspect(backend.engine).get_table_names() == ["mine"]
    other = SQLBackend(f"sqlite:///{path}")
    other["key"] = b"in the default table"
    assert sorted(inspect(other.engine).get_table_names()) == ["kvmap", "mine"]
    assert "key" not in backend


def test_schema_qualified_table_name(request):
    backend = factories.server_backend(POSTGRES_URL, request)
    schema_backend = SQLBackend(POSTGRES_URL, table=f"public.{backend.table.name}")
    schema_backend["key"] = b"value"
    assert backend["key"] == b"value"
    schema_backend.close()


# Keys


def test_keys_differing_in_case_accents_or_spaces_are_distinct(sql_backend):
    keys = ["foo", "FOO", "Foo", "e", "é", "E", "a", "a ", "ss", "ß"]
    for number, key in enumerate(keys):
        sql_backend[key] = str(number).encode()
    assert len(sql_backend) == len(keys)
    assert {key: sql_backend[key] for key in keys} == {
        key: str(number).encode() for number, key in enumerate(keys)
    }
    del sql_backend["FOO"]
    assert "foo" in sql_backend
    assert "FOO" not in sql_backend


def test_keys_are_listed_in_code_point_order(sql_backend):
    keys = ["b", "B", "a/b", "a", "é", "z", "a b", "日本", "a~"]
    sql_backend.setitems({key: b"" for key in keys})
    assert list(sql_backend) == sorted(keys)


def test_prefix_with_like_wildcards_lists_only_literal_matches(sql_backend):
    keys = ["a_c/1", "abc/2", "a%c/3", "axc", "a\\c/4", "a_", "ab"]
    sql_backend.setitems({key: b"" for key in keys})
    assert list(sql_backend.keys(prefix="a_c")) == ["a_c/1"]
    assert list(sql_backend.keys(prefix="a_")) == ["a_", "a_c/1"]
    assert list(sql_backend.keys(prefix="a%")) == ["a%c/3"]
    assert list(sql_backend.keys(prefix="a\\")) == ["a\\c/4"]


def test_longest_key_round_trips_and_a_longer_one_is_refused(sql_backend):
    segment = "é" * 127  # 254 bytes in UTF-8
    longest = "/".join([segment] * 4) + "/abcd"  # 4 * 254 + 4 slashes + 4
    assert len(longest.encode()) == 1024
    sql_backend[longest] = b"longest"
    assert sql_backend[longest] == b"longest"
    assert list(sql_backend) == [longest]
    with pytest.raises(InvalidKeyError, match="1024 bytes"):
        sql_backend[longest + "c"] = b"too long"


def test_invalid_key_is_refused_before_reaching_the_database():
    unreachable = SQLBackend("postgresql://user:pw@127.0.0.1:1/db")
    with pytest.raises(InvalidKeyError):
        unreachable["nul\x00key"] = b"value"
    with pytest.raises(InvalidKeyError):
        unreachable.getitems(["fine", "x" * 2000])
    assert unreachable._engine is None


def test_iteration_pages_through_more_keys_than_one_page(sql_backend):
    keys = [f"k/{number:05d}" for number in range(2345)]
    sql_backend.setitems({key: b"" for key in keys})
    sql_backend["l"] = b""
    assert list(sql_backend.keys(prefix="k/")) == keys
    assert list(sql_backend) == [*keys, "l"]
    assert len(sql_backend) == 2346


def test_deleting_while_iterating_finishes_the_listing(sql_backend):
    keys = [f"k{number:04d}" for number in range(2100)]
    sql_backend.setitems({key: b"" for key in keys})
    seen, deleted = [], set()
    for key in sql_backend:
        seen.append(key)
        if len(seen) % 700 == 0:
            doomed = keys[len(seen) + 5 : len(seen) + 15]
            sql_backend.delitems(doomed)
            deleted.update(doomed)
    assert seen == sorted(set(seen))
    assert set(keys) - deleted <= set(seen)
    assert len(sql_backend) == 2100 - len(deleted) == 2080


# Values and batches


def test_five_megabyte_value_round_trips(sql_backend):
    value = os.urandom(5 << 20)
    sql_backend["large"] = value
    assert sql_backend["large"] == value
    sql_backend.setitems({"large/1": value, "large/2": value[::-1], "small": b"s"})
    assert sql_backend.getitems(["large/1", "large/2", "small"]) == {
        "large/1": value,
        "large/2": value[::-1],
        "small": b"s",
    }


def test_setitems_with_a_repeated_key_keeps_the_last_value(sql_backend):
    sql_backend.setitems([("key", b"first"), ("other", b"x"), ("key", b"last")])
    assert sql_backend.getitems(["key", "other", "key"]) == {
        "key": b"last",
        "other": b"x",
    }


def test_failed_setitems_writes_nothing(sql_backend):
    sql_backend["kept"] = b"old"
    items = {f"k{number}": b"" for number in range(1500)} | {"kept": b"new"}
    items["k1400"] = "not bytes"
    with pytest.raises(TypeError, match="k1400"):
        sql_backend.setitems(items)
    assert list(sql_backend) == ["kept"]
    assert sql_backend["kept"] == b"old"


def test_getitems_and_delitems_span_several_chunks(sql_backend):
    items = {f"k{number}": str(number).encode() for number in range(2500)}
    sql_backend.setitems(items)
    wanted = [f"k{number}" for number in range(0, 3000, 3)]
    found = sql_backend.getitems(wanted)
    assert found == {key: items[key] for key in wanted if key in items}
    assert list(found) == [key for key in wanted if key in items]
    sql_backend.delitems(list(items)[:2400])
    assert len(sql_backend) == 100


# Expiry


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


# Concurrency


def write_race(uri, table, writer, count):
    """Write ``count`` new keys that every writer writes too, in the same order."""
    backend = SQLBackend(uri, table=table)
    for number in range(count):
        backend[f"race/{number}"] = f"writer {writer}".encode()
        backend.setitems({f"batch/{number % 7}": f"writer {writer}".encode()})
    backend.close()
    return writer


@pytest.mark.slow
def test_processes_racing_on_new_keys_never_collide(shared_backend):
    uri = shared_backend.uri
    table = shared_backend.table.name
    shared_backend["created"] = b"table exists"
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(4, mp_context=context) as pool:
        jobs = [pool.submit(write_race, uri, table, writer, 150) for writer in range(4)]
        assert sorted(job.result() for job in jobs) == [0, 1, 2, 3]
    winners = {f"writer {writer}".encode() for writer in range(4)}
    values = shared_backend.getitems(f"race/{number}" for number in range(150))
    assert len(values) == 150
    assert set(values.values()) <= winners
    assert len(shared_backend) == 150 + 7 + 1


def test_threads_share_one_store(sql_backend):
    def write(thread):
        for number in range(50):
            sql_backend[f"t{thread}/{number}"] = b"x"
            assert sql_backend[f"t{thread}/{number}"] == b"x"
        return len(list(sql_backend.keys(prefix=f"t{thread}/")))

    with ThreadPoolExecutor(6) as pool:
        assert list(pool.map(write, range(6))) == [50] * 6
    assert len(sql_backend) == 300


def test_sqlite_file_uses_wal_and_waits_for_another_writer(tmp_path):
    path = tmp_path / "locked.db"
    backend = SQLBackend(f"sqlite:///{path}")
    backend["first"] = b"1"
    with backend.engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
    assert mode == "wal"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # holds the write lock
    threading.Timer(1.0, other.execute, ["COMMIT"]).start()
    started = time.monotonic()
    backend["second"] = b"2"
    assert time.monotonic() - started >= 0.9
    assert backend["second"] == b"2"
    other.close()


def test_memory_database_cannot_be_unpickled_in_another_process():
    store = SQLBackend("sqlite://")
    store["key"] = b"value"
    assert pickle.loads(pickle.dumps(store)) is store
    context = multiprocessing.get_context("spawn")
    payload = pickle.dumps(store)
    with (
        ProcessPoolExecutor(1, mp_context=context) as pool,
        pytest.raises(ProcessLocalError, match="another process"),
    ):
        pool.submit(pickle.loads, payload).result()


def write_after_fork(backend):
    backend["child"] = b"written after fork"
    return backend["parent"]


def test_forked_child_opens_its_own_connections(server_backend):
    server_backend["parent"] = b"from the parent"
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(1, mp_context=context) as pool:
        assert pool.submit(write_after_fork, server_backend).result() == (
            b"from the parent"
        )
    assert server_backend["child"] == b"written after fork"
    server_backend["parent"] = b"still usable"
    assert server_backend["parent"] == b"still usable"


# Lost and unreachable servers


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
