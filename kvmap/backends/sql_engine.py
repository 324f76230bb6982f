"""The SQLAlchemy engine behind :class:`~kvmap.backends.sql.SQLBackend`.

:func:`database_url` turns a kvmap URI into a SQLAlchemy URL (picking a driver
when none is named, and making a relative SQLite path absolute),
:func:`open_engine` builds the engine with the settings each database needs,
and :func:`lend_connection` turns a failed or dropped connection into
:class:`~kvmap.errors.BackendUnavailableError`, and any other database error
into :class:`~kvmap.errors.StatementError`, both naming the
host and database.
In-memory SQLite stores are registered here so that unpickling finds them.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import uuid
import weakref
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import StaticPool

from kvmap.errors import (
    BackendUnavailableError,
    ConfigError,
    ProcessLocalError,
    StatementError,
)
from kvmap.redact import MASK, redact_uri
from kvmap.settings import BACKEND_CONFIG_PREFIX

__all__ = [
    "SQLITE_BUSY_TIMEOUT",
    "SUPPORTED_DIALECTS",
    "database_url",
    "describe_database",
    "failed",
    "find_memory_store",
    "is_memory",
    "lend_connection",
    "open_engine",
    "option_name",
    "remember_memory_store",
    "unavailable",
]

logger = logging.getLogger(__name__)

SUPPORTED_DIALECTS = ("sqlite", "postgresql", "mysql", "mariadb")
#: Seconds a SQLite connection waits for another writer's lock before failing.
SQLITE_BUSY_TIMEOUT = 30.0
#: Seconds a PostgreSQL connection attempt may take before failing.
CONNECT_TIMEOUT = 10

# Engines whose pooled connections a forked child must not share.
_POOLED_ENGINES: weakref.WeakSet[Engine] = weakref.WeakSet()

# The stores of in-memory SQLite databases, by token, for pickling.
_MEMORY_STORES: weakref.WeakValueDictionary[str, Any] = weakref.WeakValueDictionary()

# Without a named driver, use the first of these that is installed.
_DRIVERS = {
    "postgresql": (("psycopg", "psycopg"), ("psycopg2", "psycopg2")),
    "mysql": (("MySQLdb", "mysqldb"), ("pymysql", "pymysql")),
    "mariadb": (("MySQLdb", "mysqldb"), ("pymysql", "pymysql")),
}


def database_url(uri: str) -> URL:
    """Return the SQLAlchemy URL for ``uri``, or raise ConfigError."""
    try:
        url = make_url(uri)
    except ArgumentError:
        raise ConfigError(
            f"{redact_uri(uri)!r} is not a database URL; expected for example "
            "sqlite:///file.db, postgresql://user@host/db or "
            "mysql+pymysql://user@host/db"
        ) from None
    dialect, _, driver = url.drivername.partition("+")
    dialect = "postgresql" if dialect == "postgres" else dialect
    if dialect not in SUPPORTED_DIALECTS:
        raise ConfigError(
            f"the SQL backend serves {', '.join(SUPPORTED_DIALECTS)}, not "
            f"{dialect!r} (URI {redact_uri(uri)!r})"
        )
    driver = driver or _installed_driver(dialect)
    url = url.set(drivername=f"{dialect}+{driver}" if driver else dialect)
    if dialect == "sqlite" and not is_memory(url) and "uri" not in url.query:
        url = url.set(database=os.path.abspath(str(url.database)))
    return url


def _installed_driver(dialect: str) -> str:
    for module, driver in _DRIVERS.get(dialect, ()):
        if importlib.util.find_spec(module) is not None:
            return driver
    return ""


def is_memory(url: URL) -> bool:
    """Tell whether ``url`` names a SQLite database that lives in memory."""
    return url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")


def open_engine(url: URL, pool_size: int, engine_kwargs: Mapping[str, Any]) -> Engine:
    """Return the engine for ``url``; ``engine_kwargs`` override kvmap's choices.

    SQLite files get WAL mode and a busy timeout on every connection; an
    in-memory SQLite database is one connection shared by every thread (each
    connection to ``:memory:`` would be a database of its own). Server
    databases get ``pool_pre_ping``, so a connection that the server dropped
    (a restart) is replaced when it is next checked out.
    """
    kwargs: dict[str, Any] = {}
    connect_args: dict[str, Any] = {}
    if is_memory(url):
        kwargs["poolclass"] = StaticPool
        connect_args["check_same_thread"] = False
    elif url.get_backend_name() == "sqlite":
        kwargs["pool_size"] = pool_size
        connect_args.update(timeout=SQLITE_BUSY_TIMEOUT, check_same_thread=False)
    else:
        kwargs.update(pool_size=pool_size, pool_pre_ping=True)
        if (
            url.get_backend_name() == "postgresql"
            and "connect_timeout" not in url.query
        ):
            connect_args["connect_timeout"] = CONNECT_TIMEOUT
    connect_args.update(engine_kwargs.get("connect_args", {}))
    kwargs.update(engine_kwargs)
    kwargs["connect_args"] = connect_args

    try:
        engine = create_engine(url, **kwargs)
    except (TypeError, ArgumentError) as error:
        raise ConfigError(
            f"backend option {option_name('engine_kwargs')}="
            f"{dict(engine_kwargs)!r} is not valid: {error}; allowed: the "
            "keyword arguments of sqlalchemy.create_engine"
        ) from None
    if url.get_backend_name() == "sqlite" and not is_memory(url):
        event.listen(engine, "connect", _use_wal)
    if not is_memory(url):
        _POOLED_ENGINES.add(engine)
    logger.debug(
        "created engine for %s (pool %s)",
        describe_database(url),
        type(engine.pool).__name__,
    )
    return engine


def _use_wal(connection: Any, record: Any) -> None:
    # WAL lets readers go on while one process writes; NORMAL sync is safe
    # in WAL mode (a power cut may lose the last commits, never corrupt).
    cursor = connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def describe_database(url: URL) -> str:
    """Name the database of ``url`` for messages: host, port and database."""
    if url.get_backend_name() == "sqlite":
        return "SQLite in memory" if is_memory(url) else f"SQLite file {url.database}"
    host = url.host or "localhost"
    port = f":{url.port}" if url.port else ""
    return f"{url.get_backend_name()} database {url.database!r} on {host}{port}"


def option_name(name: str) -> str:
    """Name the option ``sql.<name>`` and the variable that sets it."""
    return f"'sql.{name}' ({BACKEND_CONFIG_PREFIX}SQL__{name.upper()})"


def _reason(url: URL, error: BaseException) -> str:
    # The driver's own message: SQLAlchemy's adds the statement and its
    # parameters, which may be megabytes of values.
    reason = str(getattr(error, "orig", None) or error).strip()
    if url.password:
        reason = reason.replace(str(url.password), MASK)
    return reason


def unavailable(url: URL, error: BaseException) -> BackendUnavailableError:
    """Return the error that says the database of ``url`` cannot be reached."""
    shown = redact_uri(url.render_as_string(hide_password=True))
    return BackendUnavailableError(
        f"cannot reach the {describe_database(url)} ({shown}): {_reason(url, error)}"
    )


def failed(url: URL, error: BaseException) -> StatementError:
    """Return the error that says the database of ``url`` failed a statement."""
    shown = redact_uri(url.render_as_string(hide_password=True))
    return StatementError(
        f"the {describe_database(url)} ({shown}) failed a statement: "
        f"{_reason(url, error)}"
    )


@contextlib.contextmanager
def lend_connection(engine: Engine, url: URL) -> Iterator[Connection]:
    """Lend a connection of ``engine``; a lost database raises as unavailable.

    A failure to connect, or an error that SQLAlchemy recognises as a dropped
    connection, becomes :class:`~kvmap.errors.BackendUnavailableError`; any
    other database error (a deadlock, a lock timeout, a full disk) becomes
    :class:`~kvmap.errors.StatementError`.
    """
    try:
        connection = engine.connect()
    except DBAPIError as error:
        raise unavailable(url, error) from error
    try:
        with connection:
            yield connection
    except DBAPIError as error:
        if error.connection_invalidated:
            raise unavailable(url, error) from error
        raise failed(url, error) from error


def remember_memory_store(store: Any) -> str:
    """Return the token under which an in-memory store is found when unpickled."""
    token = f"{os.getpid()}-{uuid.uuid4().hex}"
    _MEMORY_STORES[token] = store
    return token


def find_memory_store(token: str) -> Any:
    """Return the in-memory store of ``token``, if it lives in this process."""
    store = _MEMORY_STORES.get(token)
    if store is None or not token.startswith(f"{os.getpid()}-"):
        raise ProcessLocalError(
            "an in-memory SQLite store (sqlite://) was unpickled in another "
            "process (or after it was garbage collected): its database exists "
            "only in the process that made it. Use a SQLite file to share it."
        )
    return store


def _after_fork_in_child() -> None:
    # The parent's pooled connections stay the parent's; the child makes new
    # ones. An in-memory SQLite connection is the database: the child keeps
    # its copy.
    for engine in list(_POOLED_ENGINES):
        engine.dispose(close=False)


os.register_at_fork(after_in_child=_after_fork_in_child)
