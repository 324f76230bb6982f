"""SQL backend URIs, options and tables: what a store opens and creates.

Server tests run on the real PostgreSQL and MariaDB, each on a table of its
own.
"""

from __future__ import annotations

import pickle

import pytest
from sqlalchemy import inspect, text

import kvmap
from kvmap.backends.sql import SQLBackend
from kvmap.errors import ConfigError
from tests.factories import sql as factories
from tests.services import POSTGRES_URL


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


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("ENGINE_KWARGS", '{"bogus": 1}', "create_engine"),
        ("POOL_SIZE", "-1", "int >= 1"),
        ("TABLE", "bad-name", "letters, digits and '_'"),
    ],
)
def test_bad_option_from_the_environment_names_its_variable(
    tmp_path, monkeypatch, name, value, allowed
):
    variable = f"KVMAP_BACKEND_CONFIG__SQL__{name}"
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        store = kvmap.get_store(f"sqlite:///{tmp_path}/env.db")
        store["key"] = "value"
    message = str(raised.value)
    assert variable in message
    assert f"sql.{name.lower()}" in message
    assert allowed in message


@pytest.mark.parametrize("engine_kwargs", [[1], {1: 2}, "echo"])
def test_engine_kwargs_that_are_not_a_mapping_of_names_raise_configerror(
    engine_kwargs,
):
    with pytest.raises(ConfigError, match="KVMAP_BACKEND_CONFIG__SQL__ENGINE_KWARGS"):
        SQLBackend("sqlite://", engine_kwargs=engine_kwargs)


def test_pickled_relative_sqlite_store_reopens_the_same_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = kvmap.get_store("sqlite:///relative.db")
    store["key"] = 1
    payload = pickle.dumps(store)
    (tmp_path / "other").mkdir()
    monkeypatch.chdir(tmp_path / "other")
    copy = pickle.loads(payload)
    assert list(copy) == ["key"]
    assert copy["key"] == 1
    assert not (tmp_path / "other" / "relative.db").exists()
