"""Property-based round trips of arbitrary valid keys and values."""

from __future__ import annotations

import datetime
import decimal
import tempfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kvmap
from kvmap.keys import check_key

SEGMENT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"),
    min_size=1,
    max_size=20,
).filter(
    lambda segment: segment not in (".", "..") and not segment.startswith(".kvmap-")
)
KEYS = st.lists(SEGMENT, min_size=1, max_size=4).map("/".join)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.binary()
    | st.decimals(allow_nan=False)
    | st.datetimes()
    | st.dates()
    | st.timedeltas()
)
VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children)
        | st.tuples(children, children)
        | st.dictionaries(st.text(), children)
        | st.frozensets(st.integers())
    ),
    max_leaves=10,
)

RELAXED = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@RELAXED
@given(key=KEYS, value=st.binary())
def test_raw_backends_round_trip_any_valid_key(key, value):
    check_key(key)
    with tempfile.TemporaryDirectory() as folder:
        for uri in ("memory://", folder):
            store = kvmap.get_store(uri, serialization_mode="raw")
            store[key] = value
            assert list(store) == [key]
            assert store[key] == value


@RELAXED
@given(keys=st.lists(KEYS, min_size=1, max_size=6, unique=True))
def test_listed_keys_read_back_on_the_file_store(keys):
    with tempfile.TemporaryDirectory() as folder:
        store = kvmap.get_store(folder, serialization_mode="raw")
        for number, key in enumerate(keys):
            store[key] = str(number).encode()
        assert sorted(store) == sorted(keys)
        for number, key in enumerate(keys):
            assert store[key] == str(number).encode()


def _same(left, right):
    if type(left) is not type(right):
        return False
    if isinstance(left, list | tuple):
        return len(left) == len(right) and all(map(_same, left, right))
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(
            _same(left[key], right[key]) for key in left
        )
    if isinstance(left, decimal.Decimal | datetime.datetime):
        return str(left) == str(right)
    return left == right


@RELAXED
@given(value=VALUES)
def test_auto_mode_round_trips_type_and_value(value):
    store = kvmap.get_store("memory://", allow_pickle=False)
    store["key"] = value
    assert _same(store["key"], value)
