"""Keys, values and batches of the SQL backend, beyond the contract suite.

Tests that take ``sql_backend`` run on SQLite (a file and in memory), the
real PostgreSQL and the real MariaDB, each on a table of its own.
"""

from __future__ import annotations

import os

import pytest

from kvmap.backends.sql import SQLBackend
from kvmap.errors import InvalidKeyError
from tests.sql_support import sql_backend as sql_backend


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
