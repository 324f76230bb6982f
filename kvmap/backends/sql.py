"""The SQL backend: one table in SQLite, PostgreSQL or MariaDB/MySQL.

The engine, the connections and the store's options are
:class:`~kvmap.backends.sql_connection.SQLConnection`'s; this module reads,
writes, lists and expires keys through them.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

from kvmap.backends.base import as_bytes
from kvmap.backends.sql_connection import SQLConnection
from kvmap.backends.sql_engine import describe_database
from kvmap.backends.sql_statements import CHUNK_BYTES, chunk_rows, largest_value
from kvmap.errors import ValueTooLargeError
from kvmap.keys import check_key, check_prefix
from kvmap.store import BATCH_SIZE, batched, check_ttl

__all__ = ["SQLBackend"]


class SQLBackend(SQLConnection):
    """Keep ``bytes`` values in one table of a SQL database, through SQLAlchemy.

    ``uri`` is a SQLAlchemy URL: ``sqlite:///relative.db``,
    ``sqlite:////absolute.db``, ``sqlite://`` (in memory),
    ``postgresql://user:password@host/db`` (psycopg 3 when no driver is
    named and it is installed), ``mysql+pymysql://...`` or
    ``mariadb+pymysql://...``. Query parameters reach the driver. The table
    (``table``, default ``"kvmap"``, may be ``"schema.table"``) is created on
    first use; see :mod:`kvmap.backends.sql_schema` for its columns.

    Keys follow :mod:`kvmap.keys`, which caps them at 1024 UTF-8 bytes, the
    width of the key column, and refuses NUL before any query. They compare
    byte for byte on every dialect: ``"foo"`` and ``"FOO"`` are two keys.
    Values are ``bytes`` of any size the database takes; on MariaDB and
    MySQL a value may be at most half of ``max_allowed_packet`` less 4 KiB
    (8 MiB - 4 KiB with the default 16 MiB), and a larger one raises
    :class:`~kvmap.errors.ValueTooLargeError` before it is
    sent. A missing or expired key raises ``KeyError``; a database that
    cannot be reached raises :class:`~kvmap.errors.BackendUnavailableError`,
    and any other failure of the database (a deadlock, a full disk)
    :class:`~kvmap.errors.StatementError`.

    Writes are the dialect's upsert, so racing writers never collide on a
    new key: the last write wins. :meth:`set` and :meth:`setitems` take a
    ``ttl``; the expiry time is stored with the row, expired rows are
    invisible to every read, and they are deleted when a read meets them or
    by :meth:`purge_expired`. ``getitems`` and ``delitems`` send one query
    per 1000 keys; ``setitems`` one multi-row upsert per 1000 keys, all in
    one transaction. ``len()`` is one ``COUNT``, O(n) in the database;
    iteration pages through the keys in code point order, 1000 per query,
    and a prefix is a range of the primary key index.

    Notes
    -----
    Safe across threads (each call takes a connection from a pool of
    ``pool_size``) and across processes (each statement is atomic; a batch
    is one transaction, and it locks its rows in key order, so concurrent
    batches wait for each other instead of deadlocking). A SQLite file is
    opened in WAL mode with a busy timeout of 30 seconds: writers from
    several processes take turns, and readers do not wait for them. An
    in-memory SQLite database belongs to one store and one process: its
    threads share one connection under a lock, :meth:`close` keeps it, and
    it cannot be unpickled elsewhere.
    A connection the server dropped is replaced when it is next used
    (``pool_pre_ping``); a call that was running when it dropped raises.
    After ``fork`` the child opens connections of its own.
    """

    native_ttl: ClassVar[bool] = True  # type: ignore[misc]

    def __getitem__(self, key: str) -> bytes:
        key = check_key(key)
        with self._connect() as (connection, sql):
            row = connection.execute(sql.select_value, {"key": key}).first()
        if row is None:
            raise KeyError(key)
        value, expires_at = row
        if expires_at is not None and expires_at <= time.time():
            self._forget_expired([key])
            raise KeyError(key)
        return value if type(value) is bytes else bytes(value)

    def __contains__(self, key: object) -> bool:
        key = check_key(key)
        with self._connect() as (connection, sql):
            row = connection.execute(sql.select_expiry, {"key": key}).first()
        if row is None:
            return False
        if row[0] is not None and row[0] <= time.time():
            self._forget_expired([key])
            return False
        return True

    def __setitem__(self, key: str, value: bytes) -> None:
        self.set(key, value)

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value`` under ``key``, to expire after ``ttl`` seconds."""
        key = check_key(key)
        data, expires_at = as_bytes(value, key), _expiry(check_ttl(ttl))
        row = {"key": key, "value": data, "expires_at": expires_at}
        with self._connect(write=True) as (connection, sql):
            self._check_size(key, data)
            connection.execute(sql.upsert, row)

    def __delitem__(self, key: str) -> None:
        key = check_key(key)
        now = time.time()
        with self._connect(write=True) as (connection, sql):
            deleted = connection.execute(sql.delete_live, {"key": key, "now": now})
            if deleted.rowcount == 0:
                connection.execute(sql.delete_expired, {"keys": [key], "now": now})
        if deleted.rowcount == 0:
            raise KeyError(key)

    def __len__(self) -> int:
        with self._connect() as (connection, sql):
            count = connection.execute(sql.count, {"now": time.time()}).scalar()
        return int(count or 0)

    def iter_keys(self, prefix: str = "") -> Iterator[str]:
        """Yield the keys under ``prefix`` in code point order, a page at a time."""
        prefix = check_prefix(prefix)
        parameters: dict[str, Any] = {}
        while True:
            parameters["now"] = time.time()
            with self._connect() as (connection, sql):
                page = sql.page(prefix, after="last" in parameters)
                keys = connection.execute(page, parameters).scalars().all()
            yield from keys
            if len(keys) < BATCH_SIZE:
                return
            parameters["last"] = keys[-1]

    def getitems(self, keys: Iterable[str]) -> dict[str, bytes]:
        """Return ``{key: value}`` for the live keys, one query per 1000 keys."""
        wanted = list(dict.fromkeys(check_key(key) for key in keys))
        found: dict[str, bytes] = {}
        expired: list[str] = []
        now = time.time()
        with self._connect() as (connection, sql):
            for chunk in batched(wanted, BATCH_SIZE):
                parameters = tuple(sql.key_parameter(key) for key in chunk)
                rows = connection.exec_driver_sql(
                    sql.select_rows(len(chunk)), parameters
                )
                for stored_key, value, expires_at in rows:
                    key = sql.key_result(stored_key)
                    if expires_at is not None and expires_at <= now:
                        expired.append(key)
                    else:
                        found[key] = value if type(value) is bytes else bytes(value)
        if expired:
            self._forget_expired(expired)
        return {key: found[key] for key in wanted if key in found}

    def setitems(
        self,
        items: Mapping[str, bytes] | Iterable[tuple[str, bytes]],
        ttl: float | None = None,
    ) -> None:
        """Store every pair in one transaction, one upsert per 1000 keys."""
        expires_at = _expiry(check_ttl(ttl))
        pairs = items.items() if isinstance(items, Mapping) else items
        rows: dict[str, tuple[str, bytes, float | None]] = {}
        for key, value in pairs:
            key = check_key(key)
            rows[key] = (key, as_bytes(value, key), expires_at)
        if not rows:
            return
        # Rows are written, and so locked, in key order: two batches that
        # share keys then never hold locks the other one waits for.
        ordered = [rows[key] for key in sorted(rows)]
        with self._connect(write=True) as (connection, sql):
            limit = CHUNK_BYTES
            if self.max_packet is not None:
                limit = min(limit, self.max_packet // 4)
                for key, data, _ in ordered:
                    self._check_size(key, data)
            for chunk in chunk_rows(ordered, limit):
                parameters = tuple(sql.upsert_parameters(chunk))
                connection.exec_driver_sql(sql.upsert_rows(len(chunk)), parameters)

    def delitems(self, keys: Iterable[str]) -> None:
        """Delete the keys in one transaction, one query per 1000 keys."""
        doomed = sorted({check_key(key) for key in keys})  # lock in key order
        if not doomed:
            return
        with self._connect(write=True) as (connection, sql):
            for chunk in batched(doomed, BATCH_SIZE):
                connection.execute(sql.delete_keys, {"keys": chunk})

    def clear(self) -> None:
        """Delete every row of the table, live or expired, in one statement."""
        with self._connect(write=True) as (connection, sql):
            connection.execute(sql.delete_all)

    def purge_expired(self) -> int:
        """Delete every expired row now; return how many were deleted."""
        with self._connect(write=True) as (connection, sql):
            result = connection.execute(sql.purge, {"now": time.time()})
        return int(result.rowcount)

    def _check_size(self, key: str, value: bytes) -> None:
        if self.max_packet is None:
            return
        limit = largest_value(self.max_packet)
        if len(value) > limit:
            raise ValueTooLargeError(
                f"the value of key {key!r} is {len(value)} bytes; the "
                f"{describe_database(self.url)} takes at most {limit} bytes per "
                f"value: half its max_allowed_packet ({self.max_packet} bytes) "
                "less 4 KiB for the key and the statement. Raise "
                "max_allowed_packet on the server or store smaller values"
            )

    def _forget_expired(self, keys: list[str]) -> None:
        # Only rows still expired are deleted: a writer that renewed a key
        # since it was read keeps its new value.
        now = time.time()
        with self._connect(write=True) as (connection, sql):
            for chunk in batched(sorted(keys), BATCH_SIZE):
                parameters = {"keys": chunk, "now": now}
                connection.execute(sql.delete_expired, parameters)


def _expiry(seconds: float) -> float | None:
    return time.time() + seconds if seconds else None
