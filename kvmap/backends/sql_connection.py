"""The configuration, engine and connections of a SQL store.

:class:`SQLConnection` checks a store's options, opens the SQLAlchemy engine
and creates the table on first use, lends connections (in a transaction for
writes), and pickles a store to its configuration.
:class:`~kvmap.backends.sql.SQLBackend` builds the mapping on it.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Self

from sqlalchemy import Connection, Engine

from kvmap.backends.base import Backend
from kvmap.backends.sql_engine import (
    database_url,
    find_memory_store,
    is_memory,
    lend_connection,
    open_engine,
    option_name,
    remember_memory_store,
)
from kvmap.backends.sql_schema import (
    MYSQL_DIALECTS,
    check_table_name,
    create_missing_table,
    key_table,
)
from kvmap.backends.sql_statements import Statements, max_allowed_packet
from kvmap.errors import ConfigError

__all__ = ["SQLConnection"]


class SQLConnection(Backend):
    """The engine and connections of a SQL store, without the mapping.

    The base of :class:`~kvmap.backends.sql.SQLBackend`, which documents the
    store and its options; it reads and writes no keys of its own. ``uri`` is
    a SQLAlchemy URL and ``table`` the name of the store's table.

    Notes
    -----
    Safe across threads: the engine is created once under a lock, and each
    call takes a connection from a pool of ``pool_size``. An in-memory SQLite
    database has one connection, shared under a lock. It pickles to its
    configuration (an in-memory SQLite store to a token that only its own
    process can resolve).
    """

    options: ClassVar[Mapping[str, Any]] = {
        "sql": {"table": str, "pool_size": int, "engine_kwargs": dict}
    }

    def __init__(
        self,
        uri: str,
        *,
        table: str = "kvmap",
        pool_size: int = 5,
        engine_kwargs: Mapping[str, Any] | None = None,
    ) -> None:
        if type(pool_size) is not int or pool_size < 1:
            raise ConfigError(
                f"backend option {option_name('pool_size')}={pool_size!r} is "
                "not valid: expected an int >= 1"
            )
        if engine_kwargs is not None and not (
            isinstance(engine_kwargs, Mapping) and all(map(_is_name, engine_kwargs))
        ):
            raise ConfigError(
                f"backend option {option_name('engine_kwargs')}={engine_kwargs!r} "
                "is not valid: expected a mapping (a JSON object in the variable) "
                "of sqlalchemy.create_engine keyword arguments"
            )
        self.uri = uri
        self.url = database_url(uri)
        self.dialect_name = self.url.get_backend_name()
        schema, name = check_table_name(table)
        self.table = key_table(name, schema)
        self.pool_size = pool_size
        self.engine_kwargs = dict(engine_kwargs or {})
        self._engine: Engine | None = None
        self._sql: Statements | None = None
        #: MariaDB's or MySQL's max_allowed_packet (None on other databases).
        self.max_packet: int | None = None
        self._table_ready = False
        self._engine_lock = threading.Lock()
        self._lock: Any = contextlib.nullcontext()
        self._memory_token = ""
        if is_memory(self.url):
            self._lock = threading.RLock()
            self._memory_token = remember_memory_store(self)

    @classmethod
    def from_uri(cls, uri: str, **options: Any) -> Self:
        sql = options.pop("sql", None) or {}
        names = {"table", "pool_size", "engine_kwargs"}
        if options or not isinstance(sql, Mapping) or set(sql) - names:
            raise ConfigError(
                f"unknown options {options or sql!r} for SQLBackend; allowed: "
                "sql.table, sql.pool_size, sql.engine_kwargs"
            )
        return cls(uri, **sql)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, created on first use with the table."""
        engine = self._engine
        if engine is not None and self._table_ready:
            return engine
        with self._engine_lock:
            if self._engine is None:
                kwargs = self.engine_kwargs
                self._engine = open_engine(self.url, self.pool_size, kwargs)
                self._sql = Statements(self.table, self._engine.dialect)
            if not self._table_ready:
                with lend_connection(self._engine, self.url) as connection:
                    create_missing_table(connection, self.table)
                    if self.dialect_name in MYSQL_DIALECTS:
                        self.max_packet = max_allowed_packet(connection)
                self._table_ready = True
            return self._engine

    @contextlib.contextmanager
    def _connect(self, write: bool = False) -> Iterator[tuple[Connection, Statements]]:
        """Lend a connection and the statements, in a transaction if ``write``."""
        engine, sql = self.engine, self._sql
        assert sql is not None
        with self._lock, lend_connection(engine, self.url) as connection:
            if not write:
                yield connection, sql
                return
            with connection.begin():
                yield connection, sql

    def close(self) -> None:
        """Close the pooled connections; they reopen if the store is used again.

        An in-memory SQLite database is kept: closing its only connection
        would delete it.
        """
        if self._engine is not None and not self._memory_token:
            self._engine.dispose()

    def __reduce__(self) -> tuple[Any, ...]:
        if self._memory_token:
            return (find_memory_store, (self._memory_token,))
        reopen = functools.partial(
            type(self),
            table=self.table.fullname,
            pool_size=self.pool_size,
            engine_kwargs=self.engine_kwargs,
        )
        uri = self.uri
        if self.dialect_name == "sqlite":
            # The path was made absolute against the working directory of
            # the process that made the store, not the one that unpickles it.
            uri = self.url.render_as_string(hide_password=False)
        return (reopen, (uri,))


def _is_name(name: object) -> bool:
    return isinstance(name, str) and name.isidentifier()
