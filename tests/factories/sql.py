"""SQL backends: SQLite (file and memory), PostgreSQL and MariaDB.

Each backend gets a table of its own, dropped when the test ends, so tests
never see each other's keys even on a shared server database.
"""

from __future__ import annotations

import uuid
from urllib.parse import urlsplit

from sqlalchemy import text

from kvmap.backends.sql import SQLBackend
from tests.services import MARIADB_URL, POSTGRES_URL, require_port


def table_name() -> str:
    """A table name no other test uses."""
    return f"kvmap_test_{uuid.uuid4().hex[:16]}"


def drop_table(backend: SQLBackend) -> None:
    """Drop the backend's table and close its connections.

    The table is dropped even when this backend never opened it: another
    backend of the test may have made it under the same name.
    """
    with backend.engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {backend.table.name}"))
    backend.close()


def server_backend(url, request, **options):
    """A backend on the server of ``url`` with its own table, or skip."""
    parts = urlsplit(url)
    require_port(parts.scheme, parts.hostname or "127.0.0.1", parts.port or 0)
    backend = SQLBackend(url, table=table_name(), **options)
    request.addfinalizer(lambda: drop_table(backend))
    return backend


def sqlite_file(tmp_path, request):
    return SQLBackend(f"sqlite:///{tmp_path}/store.db", table=table_name())


def sqlite_memory(tmp_path, request):
    return SQLBackend("sqlite://", table=table_name())


def postgresql(tmp_path, request):
    return server_backend(POSTGRES_URL, request)


def mariadb(tmp_path, request):
    return server_backend(MARIADB_URL, request)


FACTORIES = {
    "sql-sqlite-file": sqlite_file,
    "sql-sqlite-memory": sqlite_memory,
    "sql-postgresql": postgresql,
    "sql-mariadb": mariadb,
}
