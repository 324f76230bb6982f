"""The statements :class:`~kvmap.backends.sql.SQLBackend` sends to its table.

Single-key statements are SQLAlchemy Core, compiled once and cached. The two
batch statements, a multi-row upsert and a ``SELECT ... WHERE key IN``, are
written out as SQL text for the driver: compiling a 1000-row ``VALUES`` list
through SQLAlchemy costs more than the database takes to run it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Select, Table, bindparam, delete, func, select
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.expression import Delete, Insert

from kvmap.backends.sql_schema import MYSQL_DIALECTS, is_live, prefix_end, upsert
from kvmap.errors import ConfigError
from kvmap.store import BATCH_SIZE

__all__ = [
    "CHUNK_BYTES",
    "STATEMENT_MARGIN",
    "Statements",
    "chunk_rows",
    "largest_value",
    "max_allowed_packet",
]

#: A batch write starts a new statement after this many bytes of values.
CHUNK_BYTES = 4 << 20
#: Bytes of a MariaDB/MySQL packet kept for the key and the SQL around a value.
STATEMENT_MARGIN = 4096

_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}


class Statements:
    """Every statement on ``table``, for the driver of ``dialect``.

    Parameters are named ``key``, ``keys`` (a list), ``value``,
    ``expires_at``, ``now`` (the current Unix time) and ``last`` (the last
    key of the previous page).

    Notes
    -----
    Built once per engine and then only read, apart from a small cache of
    SQL texts that threads may fill at the same time (each entry is written
    whole, and two threads write the same text), so one instance serves
    every thread of a store.
    """

    def __init__(self, table: Table, dialect: Dialect) -> None:
        self.table = table
        self.encode_keys = dialect.name in MYSQL_DIALECTS
        columns = table.c
        key: Any = bindparam("key")
        keys: Any = bindparam("keys", expanding=True)
        self.select_value = select(columns.value, columns.expires_at)
        self.select_value = self.select_value.where(columns.key == key)
        self.select_expiry = select(columns.expires_at).where(columns.key == key)
        self.upsert: Insert = upsert(dialect.name, table)
        self.delete_live: Delete = delete(table).where(columns.key == key)
        self.delete_live = self.delete_live.where(is_live(table))
        self.delete_expired: Delete = delete(table).where(
            columns.key.in_(keys), columns.expires_at <= bindparam("now")
        )
        self.delete_keys: Delete = delete(table).where(columns.key.in_(keys))
        if dialect.name == "postgresql":
            # PostgreSQL deletes rows in the order it finds them on disk;
            # locking them in key order first, as upserts do, rules out
            # deadlocks between batches. MariaDB deletes along the primary
            # key index, in key order already.
            in_order = select(columns.key).where(columns.key.in_(keys))
            in_order = in_order.order_by(columns.key).with_for_update()
            self.delete_keys = delete(table).where(columns.key.in_(in_order))
        self.delete_all: Delete = delete(table)
        self.purge: Delete = delete(table).where(columns.expires_at <= bindparam("now"))
        self.count = select(func.count()).select_from(table).where(is_live(table))
        self._prepare_text(dialect)

    def _prepare_text(self, dialect: Dialect) -> None:
        placeholder = _PLACEHOLDERS.get(dialect.paramstyle)
        if placeholder is None:
            raise ConfigError(
                f"the SQL backend needs a driver with the qmark, format or "
                f"pyformat parameter style; {dialect.driver!r} uses "
                f"{dialect.paramstyle!r}"
            )
        quote = dialect.identifier_preparer.quote
        name = dialect.identifier_preparer.format_table(self.table)
        key, value, expires_at = quote("key"), quote("value"), quote("expires_at")
        self._row = f"({placeholder}, {placeholder}, {placeholder})"
        self._placeholder = placeholder
        self._insert = f"INSERT INTO {name} ({key}, {value}, {expires_at}) VALUES "
        if self.encode_keys:
            self._on_conflict = (
                f" ON DUPLICATE KEY UPDATE {value} = VALUES({value}), "
                f"{expires_at} = VALUES({expires_at})"
            )
        else:
            self._on_conflict = (
                f" ON CONFLICT ({key}) DO UPDATE SET {value} = excluded.{value}, "
                f"{expires_at} = excluded.{expires_at}"
            )
        self._select = (
            f"SELECT {key}, {value}, {expires_at} FROM {name} WHERE {key} IN ("
        )
        self._text_cache: dict[tuple[str, int], str] = {}

    def upsert_rows(self, count: int) -> str:
        """The SQL of one upsert of ``count`` rows: key, value, expires_at each."""
        return self._text("upsert", count)

    def select_rows(self, count: int) -> str:
        """The SQL that reads key, value and expires_at of ``count`` keys."""
        return self._text("select", count)

    def _text(self, kind: str, count: int) -> str:
        text = self._text_cache.get((kind, count))
        if text is None:
            if kind == "upsert":
                values = ", ".join([self._row] * count)
                text = self._insert + values + self._on_conflict
            else:
                text = self._select + ", ".join([self._placeholder] * count) + ")"
            if count == BATCH_SIZE or count < 8:
                self._text_cache[kind, count] = text
        return text

    def key_parameter(self, key: str) -> Any:
        """Return ``key`` as the driver takes it in the batch statements."""
        return key.encode("utf-8") if self.encode_keys else key

    def key_result(self, stored: Any) -> str:
        """Return the ``str`` key of a row read by a batch statement."""
        if isinstance(stored, str):
            return stored
        return bytes(stored).decode("utf-8")

    def upsert_parameters(self, rows: Sequence[tuple[str, bytes, Any]]) -> list[Any]:
        """Flatten ``(key, value, expires_at)`` rows into the upsert's parameters."""
        flat: list[Any] = []
        for key, value, expires_at in rows:
            flat += (self.key_parameter(key), value, expires_at)
        return flat

    def page(self, prefix: str, after: bool) -> Select[Any]:
        """The query of one page of live keys under ``prefix``, in key order.

        The first page starts at ``prefix``; the next ones (``after``) start
        after the bound ``last``.
        """
        columns = self.table.c
        statement = select(columns.key).where(is_live(self.table))
        end = prefix_end(prefix)
        if end is not None:
            statement = statement.where(columns.key < end)
        if after:
            statement = statement.where(columns.key > bindparam("last"))
        elif prefix:
            statement = statement.where(columns.key >= prefix)
        return statement.order_by(columns.key).limit(BATCH_SIZE)


Row = tuple[str, bytes, Any]


def chunk_rows(
    rows: Sequence[Row], limit: int = CHUNK_BYTES
) -> Iterator[Sequence[Row]]:
    """Yield runs of at most 1000 rows and about ``limit`` bytes of values.

    A single value larger than ``limit`` makes a run of its own.
    """
    start, size = 0, 0
    for index, (_, value, _) in enumerate(rows):
        full = index - start == BATCH_SIZE or size + len(value) > limit
        if index > start and full:
            yield rows[start:index]
            start, size = index, 0
        size += len(value)
    if start < len(rows):
        yield rows[start:]


def max_allowed_packet(connection: Connection) -> int:
    """Return MariaDB's or MySQL's ``max_allowed_packet``, in bytes."""
    packet: Any = connection.exec_driver_sql("SELECT @@max_allowed_packet").scalar()
    connection.rollback()
    return int(packet)


def largest_value(packet: int) -> int:
    """The largest value, in bytes, that MariaDB or MySQL take with ``packet``.

    PyMySQL and mysqlclient send a value inside the SQL text, escaped (NUL,
    quotes, backslash, newline, carriage return and Ctrl-Z take two bytes),
    and the statement must fit in ``max_allowed_packet``. The server also
    refuses a value larger than half of ``max_allowed_packet``, whatever its
    bytes (measured on MariaDB 10.11: 8 MiB of ``"a"`` passes with a 16 MiB
    packet, one byte more fails). Half the packet, less room for the key and
    the statement, is thus safe for any value.
    """
    return packet // 2 - STATEMENT_MARGIN
