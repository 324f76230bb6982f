"""The table that :class:`~kvmap.backends.sql.SQLBackend` keeps, and its statements.

One table per store, three columns:

=============  =====================  ===================  ======================
column         SQLite                 PostgreSQL           MariaDB / MySQL
=============  =====================  ===================  ======================
``key``        ``VARCHAR(1024)``      ``VARCHAR(1024)``    ``VARBINARY(1024)``
               (binary collation)     ``COLLATE "C"``      (UTF-8 bytes)
``value``      ``BLOB``               ``BYTEA``            ``LONGBLOB``
``expires_at`` ``DOUBLE``             ``DOUBLE PRECISION`` ``DOUBLE``
=============  =====================  ===================  ======================

``key`` is the primary key. Every dialect compares it byte for byte, so keys
that differ only in case, accents or trailing spaces are distinct keys, and
its order is the order of Unicode code points (the order of ``sorted()``).
``expires_at`` is the expiry time in Unix seconds, ``NULL`` for never. SQLite
and PostgreSQL index it for the rows that expire; MariaDB and MySQL cannot
index part of a table, so there :meth:`SQLBackend.purge_expired` scans it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Double,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    inspect,
    or_,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateIndex, CreateTable
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.expression import Insert
from sqlalchemy.types import TypeDecorator, TypeEngine

from kvmap.errors import ConfigError
from kvmap.keys import MAX_KEY_BYTES
from kvmap.settings import BACKEND_CONFIG_PREFIX

__all__ = [
    "MYSQL_DIALECTS",
    "KeyType",
    "check_table_name",
    "create_missing_table",
    "is_live",
    "key_table",
    "prefix_end",
    "upsert",
]

logger = logging.getLogger(__name__)

#: The dialect names that speak MySQL's SQL.
MYSQL_DIALECTS = frozenset({"mysql", "mariadb"})
#: The longest table name: the index name adds 11 characters, and
#: PostgreSQL and MySQL cap names at 63 and 64.
MAX_TABLE_NAME = 48

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_LAST_CODE_POINT = 0x10FFFF
_FIRST_SURROGATE, _AFTER_SURROGATES = 0xD800, 0xE000


class KeyType(TypeDecorator[str]):
    """A ``str`` key column that compares byte for byte on every dialect.

    MariaDB's text collations ignore case and trailing spaces, so there the
    key is the UTF-8 encoding of the ``str`` in a ``VARBINARY`` column.

    Notes
    -----
    Stateless: SQLAlchemy may cache and share it between threads.
    """

    impl = String
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name in MYSQL_DIALECTS:
            return dialect.type_descriptor(mysql.VARBINARY(MAX_KEY_BYTES))
        if dialect.name == "postgresql":
            return dialect.type_descriptor(String(MAX_KEY_BYTES, collation="C"))
        return dialect.type_descriptor(String(MAX_KEY_BYTES))

    def process_bind_param(self, value: str | None, dialect: Dialect) -> Any:
        if value is not None and dialect.name in MYSQL_DIALECTS:
            return value.encode("utf-8")
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value).decode("utf-8")
        return value  # type: ignore[no-any-return]


def check_table_name(name: Any) -> tuple[str | None, str]:
    """Return ``(schema, table)`` for ``"table"`` or ``"schema.table"``, or raise."""
    if isinstance(name, str):
        parts = name.split(".")
        if len(parts) <= 2 and all(
            _NAME.match(part) and len(part) <= MAX_TABLE_NAME for part in parts
        ):
            return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])
    raise ConfigError(
        f"backend option 'sql.table' ({BACKEND_CONFIG_PREFIX}SQL__TABLE)={name!r} "
        "is not valid: expected a table "
        f"name of letters, digits and '_' (at most {MAX_TABLE_NAME} characters, "
        "not starting with a digit), optionally after 'schema.'"
    )


def key_table(name: str, schema: str | None = None) -> Table:
    """Return the definition of the table named ``name``."""
    value_type = LargeBinary().with_variant(mysql.LONGBLOB(), *MYSQL_DIALECTS)
    table = Table(
        name,
        MetaData(),
        Column("key", KeyType(), primary_key=True),
        Column("value", value_type, nullable=False),
        Column("expires_at", Double(), nullable=True),
        schema=schema,
    )
    expiring = table.c.expires_at.is_not(None)
    Index(
        f"{name}_expires_at",
        table.c.expires_at,
        sqlite_where=expiring,
        postgresql_where=expiring,
    )
    return table


def create_missing_table(connection: Connection, table: Table) -> bool:
    """Create ``table`` if it does not exist yet; return whether it was created.

    Several processes may race to create it: the losers see it exist and go on.
    """
    if _has_table(connection, table):
        return False
    try:
        with connection.begin():
            connection.execute(CreateTable(table, if_not_exists=True))
            if connection.dialect.name not in MYSQL_DIALECTS:
                for index in table.indexes:
                    connection.execute(CreateIndex(index, if_not_exists=True))
    except DBAPIError:
        # PostgreSQL's IF NOT EXISTS is not atomic: a concurrent creator can
        # still make it fail. The table then exists, made by the other one.
        if not _has_table(connection, table):
            raise
        return False
    logger.debug("created table %s", table.fullname)
    return True


def _has_table(connection: Connection, table: Table) -> bool:
    found = inspect(connection).has_table(table.name, schema=table.schema)
    connection.rollback()
    return found


def is_live(table: Table) -> ColumnElement[bool]:
    """The condition that a row has not expired at the bound time ``now``."""
    expires_at = table.c.expires_at
    return or_(expires_at.is_(None), expires_at > bindparam("now"))


def upsert(dialect_name: str, table: Table) -> Insert:
    """Return the dialect's insert-or-replace of one row.

    Its parameters are ``key``, ``value`` and ``expires_at``.
    """
    statement: Any
    if dialect_name in MYSQL_DIALECTS:
        statement = mysql.insert(table)
        return statement.on_duplicate_key_update(  # type: ignore[no-any-return]
            value=statement.inserted.value,
            expires_at=statement.inserted.expires_at,
        )
    statement = (sqlite if dialect_name == "sqlite" else postgresql).insert(table)
    return statement.on_conflict_do_update(  # type: ignore[no-any-return]
        index_elements=[table.c.key],
        set_={
            "value": statement.excluded.value,
            "expires_at": statement.excluded.expires_at,
        },
    )


def prefix_end(prefix: str) -> str | None:
    """Return the first string after every string that starts with ``prefix``.

    Keys under ``prefix`` are then ``prefix <= key < prefix_end(prefix)`` in
    code point order, a range the primary key index answers, with no LIKE
    pattern whose ``%`` and ``_`` would need escaping. ``None`` means no end.
    """
    while prefix:
        following = ord(prefix[-1]) + 1
        if following == _FIRST_SURROGATE:
            following = _AFTER_SURROGATES
        if following <= _LAST_CODE_POINT:
            return prefix[:-1] + chr(following)
        prefix = prefix[:-1]
    return None
