"""The serializer layer: exact round trips, no guessing, safe loading."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import sys
import uuid
from collections import namedtuple

import pytest

from kvmap import (
    ConfigError,
    CorruptValueError,
    MemoryBackend,
    SerializerLayer,
    UnsafeValueError,
)
from kvmap.auto_format import MARKER


@dataclasses.dataclass
class Point:
    x: int
    y: float
    tags: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Frozen:
    name: str
    when: datetime.date


class Colour(enum.Enum):
    RED = 1


Pair = namedtuple("Pair", "left right")

UTC_PLUS_2 = datetime.timezone(datetime.timedelta(hours=2))

EXACT_VALUES = [
    b"bytes",
    b"",
    b"1",
    "text",
    "",
    "123",
    "null",
    "true",
    "\udc80 lone surrogate",
    0,
    -(2**70),
    1.5,
    -0.0,
    float("inf"),
    True,
    False,
    None,
    [1, "a", [None, 2.5]],
    {"a": 1, "b": [1, 2]},
    {1: "int key", (1, 2): "tuple key", None: "none key"},
    {"__kvmap__": "a user key that looks like a tag"},
    (1, "two", (3,)),
    (),
    {1, 2, 3},
    frozenset({"a"}),
    datetime.datetime(2024, 6, 1, 12, 30, 15, 123456),
    datetime.datetime(2024, 6, 1, 12, 30, tzinfo=UTC_PLUS_2),
    datetime.date(2024, 6, 1),
    datetime.time(23, 59, 1, 5),
    datetime.timedelta(days=-3, seconds=5, microseconds=7),
    decimal.Decimal("3.14159265358979323846264338327950288"),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    complex(1, -2),
    Point(1, 2.5, ("a", "b")),
    Frozen("f", datetime.date(2020, 1, 2)),
    [Point(0, 0.0)],
    {"bytes inside": b"\x00\x01", "set inside": {1}},
]


def _same(left, right):
    if type(left) is not type(right):
        return False
    if isinstance(left, float) and left != left:
        return right != right
    if isinstance(left, float) and left == 0:
        return str(left) == str(right)
    return left == right


@pytest.mark.parametrize("value", EXACT_VALUES, ids=repr)
def test_auto_round_trips_type_and_value(value):
    store = SerializerLayer(MemoryBackend(), "auto")
    store["key"] = value
    assert _same(store["key"], value)


@pytest.mark.parametrize("value", EXACT_VALUES, ids=repr)
def test_auto_loads_common_types_without_pickle(value):
    store = SerializerLayer(MemoryBackend(), "auto", allow_pickle=False)
    store["key"] = value
    assert _same(store["key"], value)


def test_auto_keeps_nan():
    store = SerializerLayer(MemoryBackend(), "auto")
    store["nan"] = [float("nan")]
    assert store["nan"][0] != store["nan"][0]


def test_auto_bytes_stay_plain_for_a_raw_reader():
    backend = MemoryBackend()
    SerializerLayer(backend, "auto")["key"] = b"plain bytes"
    assert backend["key"] == b"plain bytes"
    assert SerializerLayer(backend, "raw")["key"] == b"plain bytes"


def test_auto_bytes_that_look_like_its_marker_round_trip():
    store = SerializerLayer(MemoryBackend(), "auto")
    tricky = MARKER + b"u" + b"not a string"
    store["key"] = tricky
    assert store["key"] == tricky


def test_auto_does_not_guess_types_from_plain_bytes():
    backend = MemoryBackend()
    backend.update({"one": b"1", "null": b"null", "json": b'{"a": 1}'})
    store = SerializerLayer(backend, "auto")
    assert store["one"] == b"1"
    assert store["null"] == b"null"
    assert store["json"] == b'{"a": 1}'


@pytest.mark.parametrize("value", [Colour.RED, Pair(1, 2), bytearray(b"x")], ids=repr)
def test_auto_pickles_subclasses_and_other_types_exactly(value):
    store = SerializerLayer(MemoryBackend(), "auto")
    store["key"] = value
    assert _same(store["key"], value)


def test_auto_round_trips_numpy_arrays_exactly():
    numpy = pytest.importorskip("numpy")
    store = SerializerLayer(MemoryBackend(), "auto", allow_pickle=False)
    arrays = [
        numpy.arange(12, dtype="<f4").reshape(3, 4),
        numpy.asfortranarray(numpy.ones((2, 3), dtype=">i8")),
        numpy.zeros((0, 5), dtype=bool),
        numpy.array([(1, 2.0)], dtype=[("a", "<i4"), ("b", "<f8")]),
        numpy.array("text"),
    ]
    for number, array in enumerate(arrays):
        store[f"a{number}"] = array
        loaded = store[f"a{number}"]
        assert type(loaded) is numpy.ndarray
        assert loaded.dtype == array.dtype
        assert loaded.shape == array.shape
        assert numpy.array_equal(loaded, array)
    store["nested"] = {"weights": arrays[0]}
    assert numpy.array_equal(store["nested"]["weights"], arrays[0])


def test_allow_pickle_false_refuses_to_load_a_pickle():
    backend = MemoryBackend()
    SerializerLayer(backend, "auto")["key"] = Colour.RED
    with pytest.raises(UnsafeValueError, match="'key'"):
        SerializerLayer(backend, "auto", allow_pickle=False)["key"]
    with pytest.raises(ConfigError, match="allow_pickle"):
        SerializerLayer(backend, "pickle", allow_pickle=False)


def test_allow_pickle_false_refuses_to_write_a_pickle():
    backend = MemoryBackend()
    with pytest.raises(UnsafeValueError, match="'key'"):
        SerializerLayer(backend, "auto", allow_pickle=False)["key"] = Colour.RED
    assert "key" not in backend


def test_signed_pickles_load_with_the_right_key_only():
    backend = MemoryBackend()
    SerializerLayer(backend, "auto", signing_key="s3cret")["key"] = Colour.RED
    assert SerializerLayer(backend, "auto", signing_key="s3cret")["key"] is Colour.RED
    with pytest.raises(UnsafeValueError, match="signature"):
        SerializerLayer(backend, "auto", signing_key="wrong")["key"]
    with pytest.raises(UnsafeValueError, match="no signing key"):
        SerializerLayer(backend, "auto")["key"]


def test_tampered_signed_pickle_is_refused():
    backend = MemoryBackend()
    SerializerLayer(backend, "pickle", signing_key="k")["key"] = {"a": 1}
    backend["key"] = backend["key"][:-3] + b"xyz"
    with pytest.raises(UnsafeValueError):
        SerializerLayer(backend, "pickle", signing_key="k")["key"]


def test_unsigned_pickle_is_refused_when_a_signing_key_is_set():
    backend = MemoryBackend()
    SerializerLayer(backend, "pickle")["key"] = {"a": 1}
    with pytest.raises(UnsafeValueError, match="without a signature"):
        SerializerLayer(backend, "pickle", signing_key="k")["key"]


def test_signing_key_never_shows_in_repr():
    store = SerializerLayer(MemoryBackend(), "auto", signing_key="topsecret")
    assert "topsecret" not in repr(store)
    assert "signed=True" in repr(store)


def test_json_mode_stores_json_text():
    backend = MemoryBackend()
    store = SerializerLayer(backend, "json")
    store["key"] = {"a": [1, 2]}
    assert backend["key"] == b'{"a":[1,2]}'
    assert store["key"] == {"a": [1, 2]}


def test_json_mode_rejects_other_types_naming_the_key():
    store = SerializerLayer(MemoryBackend(), "json")
    with pytest.raises(TypeError, match=r"'key'.*auto"):
        store["key"] = {1, 2}


def test_cloudpickle_mode_stores_lambdas():
    store = SerializerLayer(MemoryBackend(), "cloudpickle")
    store["function"] = lambda number: number * 2
    assert store["function"](21) == 42


def test_raw_mode_refuses_objects_naming_the_serializer():
    with pytest.raises(TypeError, match="serializer"):
        SerializerLayer(MemoryBackend(), "raw")["key"] = 1


def test_unknown_mode_is_a_config_error_listing_the_modes():
    with pytest.raises(ConfigError, match="auto"):
        SerializerLayer(MemoryBackend(), "xml")


def test_batches_reach_the_inner_store_as_batches():
    calls = []

    class CountingBackend(MemoryBackend):
        def getitems(self, keys):
            calls.append("getitems")
            return super().getitems(keys)

        def setitems(self, items, ttl=None):
            calls.append("setitems")
            super().setitems(items, ttl)

        def delitems(self, keys):
            calls.append("delitems")
            super().delitems(keys)

    store = SerializerLayer(CountingBackend(), "auto")
    store.setitems({f"k{n}": n for n in range(10)})
    assert store.getitems([f"k{n}" for n in range(10)]) == {
        f"k{n}": n for n in range(10)
    }
    store.delitems(["k1", "k2"])
    assert calls == ["setitems", "getitems", "delitems"]


def test_reading_a_dataclass_never_imports_a_module():
    backend = MemoryBackend()
    forged = b'{"__kvmap__":"dataclass","class":["this","DC"],"fields":{"x":1}}'
    backend["key"] = MARKER + b"j" + forged
    store = SerializerLayer(backend, "auto", allow_pickle=False)
    with pytest.raises(CorruptValueError, match=r"'key'.*import this"):
        store["key"]
    assert "this" not in sys.modules


def test_a_named_class_that_is_not_a_dataclass_is_refused():
    backend = MemoryBackend()
    forged = b'{"__kvmap__":"dataclass","class":["os","system"],"fields":{}}'
    backend["key"] = MARKER + b"j" + forged
    with pytest.raises(CorruptValueError, match="not a dataclass"):
        SerializerLayer(backend, "auto")["key"]


@pytest.mark.parametrize(
    ("mode", "stored"),
    [
        ("auto", MARKER + b"j{not json"),
        ("auto", MARKER + b"u\xff\xfe"),
        ("auto", MARKER + b'j{"__kvmap__":"tuple"}'),
        ("auto", MARKER + b"p\x80\x05truncated"),
        ("json", b"{not json"),
        ("pickle", b"not a pickle"),
    ],
)
def test_corrupt_values_raise_an_error_naming_the_key(mode, stored):
    backend = MemoryBackend()
    backend["broken"] = stored
    with pytest.raises(CorruptValueError, match=f"'broken'.*{mode}") as raised:
        SerializerLayer(backend, mode)["broken"]
    assert not isinstance(raised.value, KeyError)
    assert backend["broken"] == stored


def test_json_mode_refuses_nan_naming_the_key():
    with pytest.raises(TypeError, match="'key'"):
        SerializerLayer(MemoryBackend(), "json")["key"] = float("nan")


def test_pickle_mode_does_not_fall_back_to_cloudpickle():
    store = SerializerLayer(MemoryBackend(), "pickle")
    with pytest.raises(TypeError, match=r"'function'.*cloudpickle"):
        store["function"] = lambda: 1
    assert "function" not in store


def test_ranges_of_values_without_ranges_name_the_key():
    store = SerializerLayer(MemoryBackend(), "auto")
    store["mapping"] = {"a": 1}
    with pytest.raises(TypeError, match="'mapping' is a dict"):
        store.getrange("mapping", 0, 2)


def test_auto_round_trips_numpy_scalars_without_pickle():
    numpy = pytest.importorskip("numpy")
    store = SerializerLayer(MemoryBackend(), "auto", allow_pickle=False)
    scalars = [
        numpy.float64(0.5),
        numpy.float32(1.25),
        numpy.int64(-7),
        numpy.uint8(255),
        numpy.bool_(True),
        numpy.arange(3).mean(),
    ]
    store["metrics"] = {"values": scalars}
    loaded = store["metrics"]["values"]
    assert [type(value) for value in loaded] == [type(value) for value in scalars]
    assert loaded == scalars
