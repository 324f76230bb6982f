"""SQL: kvmap on SQLite and PostgreSQL against sqlitedict and raw SQLAlchemy.

Run: ``python benchmarks/bench_sql.py [postgresql-url]`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``, or
``KVMAP_BENCH_POSTGRES_URL``); PostgreSQL rows are left out when it is not
reachable. SQLite files go to a fresh temporary folder.

- Per operation, 100-byte values, one key per call:
  ``kvmap.get_store(uri)`` (full stack) and the bare ``SQLBackend`` against
  ``SqliteDict(autocommit=True)`` (SQLite only) and a hand-written SQLAlchemy
  upsert / select on an engine of its own (same table layout; on SQLite the
  same WAL and ``synchronous=NORMAL`` settings kvmap uses).
  Target on SQLite: kvmap's ``set`` at least 2x faster than sqlitedict.
- Batches: ``setitems`` / ``getitems`` of 10,000 keys against a loop of one
  call per key through the same store. Target: the batch at least 20x faster.

Candidates run in shuffled order, several rounds each; rows give the best
round. Every table written is dropped at the end.
"""

from __future__ import annotations

import os
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, create_engine, event, inspect, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlitedict import SqliteDict

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import kvmap
from benchmarks.timing import compare, print_table
from kvmap.backends.sql import SQLBackend
from kvmap.backends.sql_schema import key_table

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
VALUE = os.urandom(100)
BATCH_COUNT = 10_000


def raw_engine(url: str) -> Engine:
    """A plain engine; on SQLite with the pragmas kvmap also sets."""
    if not url.startswith("sqlite"):
        return create_engine(url)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def use_wal(connection: Any, record: Any) -> None:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")

    return engine


def raw_operations(url: str, table_name: str) -> tuple[Any, Any, Engine]:
    """Hand-written SQLAlchemy upsert and select on a table like kvmap's."""
    engine = raw_engine(url)
    table = key_table(table_name)
    table.metadata.create_all(engine)
    dialect = sqlite if url.startswith("sqlite") else postgresql
    insert = dialect.insert(table)
    upsert = insert.on_conflict_do_update(
        index_elements=[table.c.key], set_={"value": insert.excluded.value}
    )
    query = select(table.c.value).where(table.c.key == bindparam("key"))

    def set_one(index: int) -> None:
        with engine.begin() as connection:
            connection.execute(upsert, {"key": f"k{index}", "value": VALUE})

    def get_one(index: int) -> bytes:
        with engine.connect() as connection:
            return bytes(connection.execute(query, {"key": f"k{index}"}).scalar_one())

    return set_one, get_one, engine


def per_op(name: str, url: str, folder: str | None, count: int) -> list[Engine]:
    table = f"bench_{uuid.uuid4().hex[:12]}"
    backend = SQLBackend(url, table=table + "_bare")
    store = kvmap.get_store(url, sql={"table": table + "_stack"})
    raw_set, raw_get, engine = raw_operations(url, table + "_raw")
    sets: dict[str, Any] = {
        "kvmap get_store (full stack)": lambda i: store.__setitem__(f"k{i}", VALUE),
        "kvmap SQLBackend (bare)": lambda i: backend.__setitem__(f"k{i}", VALUE),
        "raw SQLAlchemy upsert": raw_set,
    }
    gets: dict[str, Any] = {
        "kvmap get_store (full stack)": lambda i: store[f"k{i}"],
        "kvmap SQLBackend (bare)": lambda i: backend[f"k{i}"],
        "raw SQLAlchemy select": raw_get,
    }
    if folder is not None:
        sqlitedict = SqliteDict(f"{folder}/sqlitedict.db", autocommit=True)
        sets["sqlitedict autocommit=True"] = lambda i: sqlitedict.__setitem__(
            f"k{i}", VALUE
        )
        gets["sqlitedict autocommit=True"] = lambda i: sqlitedict[f"k{i}"]
    baseline = "sqlitedict autocommit=True" if folder else "raw SQLAlchemy upsert"
    print_table(f"{name}: set, µs/op", compare(sets, count), baseline)
    baseline = "sqlitedict autocommit=True" if folder else "raw SQLAlchemy select"
    print_table(f"{name}: get, µs/op", compare(gets, count), baseline)
    if folder is not None:
        sqlitedict.close()
    return [backend.engine, engine, store.inner.inner.engine]


def batches(name: str, url: str, rounds: int) -> Engine:
    table = f"bench_{uuid.uuid4().hex[:12]}_batch"
    store = kvmap.get_store(url, sql={"table": table})
    items = {f"batch/{index:05d}": VALUE for index in range(BATCH_COUNT)}
    keys = list(items)
    store.setitems(items)

    def loop_set(_: int) -> None:
        for key, value in items.items():
            store[key] = value

    def loop_get(_: int) -> None:
        for key in keys:
            store[key]

    sets = {
        "setitems": lambda _: store.setitems(items),
        "loop of store[k] = v": loop_set,
    }
    gets = {"getitems": lambda _: store.getitems(keys), "loop of store[k]": loop_get}
    title = f"{name}: {BATCH_COUNT:,} keys, µs per key"
    rows = [(n, us / BATCH_COUNT) for n, us in compare(sets, 1, rounds)]
    print_table(title + " (write)", rows, "setitems")
    rows = [(n, us / BATCH_COUNT) for n, us in compare(gets, 1, rounds)]
    print_table(title + " (read)", rows, "getitems")
    return store.inner.inner.engine


def drop_bench_tables(engine: Engine) -> None:
    names = inspect(engine).get_table_names()
    with engine.begin() as connection:
        for name in names:
            if name.startswith("bench_"):
                connection.execute(text(f'DROP TABLE IF EXISTS "{name}"'))
    engine.dispose()


def postgres_reachable(url: str) -> bool:
    try:
        with create_engine(url).connect():
            return True
    except Exception as error:
        print(f"\nPostgreSQL at {url} is not reachable, skipped: {error}")
        return False


def main() -> None:
    postgres = sys.argv[1] if len(sys.argv) > 1 else None
    postgres = postgres or os.environ.get("KVMAP_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/kvmap.db"
        engines = per_op("SQLite file", url, folder, 500)
        engines.append(batches("SQLite file", url, 5))
        for engine in engines:
            engine.dispose()
    if postgres_reachable(postgres):
        engines = per_op("PostgreSQL", postgres, None, 300)
        engines.append(batches("PostgreSQL", postgres, 3))
        drop_bench_tables(engines[0])


if __name__ == "__main__":
    main()
