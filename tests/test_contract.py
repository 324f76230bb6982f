"""The MutableMapping contract, run against every backend and every stack.

``store`` (see conftest) is each raw backend, bare and inside the stacks that
``get_store`` builds. Values are bytes, which every stack hands back unchanged.
"""

from __future__ import annotations

import pickle
from collections.abc import KeysView, MutableMapping

import pytest

from kvmap import InvalidKeyError, ReadOnlyError, get_store
from kvmap.backends.memory import MemoryBackend
from kvmap.errors import ProcessLocalError


def _fill(store, count=3):
    pairs = {f"k{number}": f"v{number}".encode() for number in range(count)}
    for key, value in pairs.items():
        store[key] = value
    return pairs


def test_store_is_a_mutable_mapping(store):
    assert isinstance(store, MutableMapping)


def test_set_then_get_returns_the_value(store):
    store["key"] = b"value"
    assert store["key"] == b"value"


def test_missing_key_raises_keyerror(store):
    with pytest.raises(KeyError):
        store["missing"]


def test_overwrite_replaces_the_value(store):
    store["key"] = b"old"
    store["key"] = b"new"
    assert store["key"] == b"new"
    assert len(store) == 1


def test_empty_bytes_is_a_value_not_a_missing_key(store):
    store["empty"] = b""
    assert "empty" in store
    assert store["empty"] == b""
    assert list(store) == ["empty"]


def test_bytes_like_values_come_back_as_bytes(backend):
    backend["bytearray"] = bytearray(b"abc")
    backend["memoryview"] = memoryview(b"def")
    assert backend["bytearray"] == b"abc"
    assert backend["memoryview"] == b"def"
    assert type(backend["bytearray"]) is bytes


def test_numpy_array_is_stored_as_its_buffer_by_a_raw_backend(backend):
    numpy = pytest.importorskip("numpy")
    array = numpy.arange(6, dtype="<i4").reshape(2, 3)
    backend["array"] = array
    assert backend["array"] == array.tobytes()


def test_raw_backend_refuses_objects_naming_the_serializer(backend):
    with pytest.raises(TypeError, match="serializer"):
        backend["key"] = {"not": "bytes"}
    assert "key" not in backend


def test_delete_removes_the_key(store):
    store["key"] = b"value"
    del store["key"]
    assert "key" not in store
    with pytest.raises(KeyError):
        store["key"]


def test_delete_of_missing_key_raises_keyerror(store):
    with pytest.raises(KeyError):
        del store["missing"]


def test_contains_tells_present_from_missing(store):
    store["present"] = b"1"
    assert "present" in store
    assert "missing" not in store


def test_len_and_iteration_list_every_key_once(store):
    pairs = _fill(store, 5)
    assert len(store) == 5
    assert sorted(store) == sorted(pairs)


def test_keys_view_can_be_iterated_twice(store):
    pairs = _fill(store)
    keys = store.keys()
    assert isinstance(keys, KeysView)
    assert sorted(keys) == sorted(pairs)
    assert sorted(keys) == sorted(pairs)


def test_items_and_values_match_what_was_written(store):
    pairs = _fill(store)
    assert dict(store.items()) == pairs
    assert sorted(store.values()) == sorted(pairs.values())


def test_get_returns_default_for_missing_key(store):
    store["present"] = b"1"
    assert store.get("present") == b"1"
    assert store.get("missing") is None
    assert store.get("missing", b"default") == b"default"


def test_pop_returns_and_removes(store):
    store["key"] = b"value"
    assert store.pop("key") == b"value"
    assert "key" not in store
    assert store.pop("missing", None) is None
    with pytest.raises(KeyError):
        store.pop("missing")


def test_setdefault_writes_only_when_missing(store):
    assert store.setdefault("key", b"first") == b"first"
    assert store.setdefault("key", b"second") == b"first"
    assert store["key"] == b"first"


def test_update_writes_every_pair(store):
    store.update({"a": b"1"}, b=b"2")
    store.update([("c", b"3")])
    assert dict(store.items()) == {"a": b"1", "b": b"2", "c": b"3"}


def test_clear_deletes_everything(store):
    _fill(store, 4)
    store.clear()
    assert len(store) == 0
    assert list(store) == []


def test_equality_compares_contents(store):
    pairs = _fill(store)
    assert store == pairs
    assert store != {**pairs, "extra": b"x"}


def test_nested_key_and_its_parent_can_both_exist(store):
    store["foo"] = b"parent"
    store["foo/bar"] = b"child"
    store["foo/bar/baz"] = b"grandchild"
    assert store["foo"] == b"parent"
    assert store["foo/bar"] == b"child"
    assert store["foo/bar/baz"] == b"grandchild"
    assert sorted(store) == ["foo", "foo/bar", "foo/bar/baz"]
    del store["foo/bar"]
    assert sorted(store) == ["foo", "foo/bar/baz"]
    assert store["foo/bar/baz"] == b"grandchild"


def test_parent_written_after_child_keeps_both(store):
    store["a/b"] = b"child"
    store["a"] = b"parent"
    assert store["a"] == b"parent"
    assert store["a/b"] == b"child"
    del store["a"]
    assert list(store) == ["a/b"]


def test_every_listed_key_reads_back_its_value(store):
    pairs = {
        "plain": b"1",
        "with space": b"2",
        "unicode/ключ/值": b"3",
        "dots.in.name": b"4",
        "a/b/c/d": b"5",
        "percent%20and+plus": b"6",
        "UPPER": b"7",
        "upper": b"8",
    }
    store.update(pairs)
    assert {key: store[key] for key in store} == pairs


@pytest.mark.parametrize(
    "key",
    ["", "/lead", "trail/", "a//b", "a/./b", "a/../b", "../x", ".", "..", "a\x00b"],
)
def test_invalid_key_raises_valueerror_naming_the_key(store, key):
    with pytest.raises(InvalidKeyError) as raised:
        store[key] = b"value"
    assert isinstance(raised.value, ValueError)
    assert repr(key)[1:-1][:20] in str(raised.value)
    assert list(store) == []


def test_too_long_key_raises_the_same_error_everywhere(store):
    with pytest.raises(InvalidKeyError, match="at most 255 bytes"):
        store["x" * 256] = b"value"
    store["x" * 255] = b"longest segment"
    assert store["x" * 255] == b"longest segment"


@pytest.mark.parametrize("key", [1, None, b"bytes", ("a",)])
def test_non_str_key_raises_typeerror(store, key):
    with pytest.raises(TypeError):
        store[key] = b"value"


def test_getitems_leaves_out_missing_keys(store):
    _fill(store)
    assert store.getitems(["k0", "k2", "missing"]) == {"k0": b"v0", "k2": b"v2"}
    assert store.getitems([]) == {}


def test_setitems_writes_a_batch(store):
    store.setitems({f"batch/{n}": bytes([n]) for n in range(50)})
    assert len(store) == 50
    assert store["batch/7"] == bytes([7])


def test_delitems_ignores_missing_keys(store):
    _fill(store)
    store.delitems(["k0", "missing", "k1"])
    assert list(store) == ["k2"]


def test_keys_with_prefix_lists_only_that_prefix(store):
    store.update({"a/1": b"", "a/2": b"", "ab": b"", "b/1": b"", "a": b""})
    assert sorted(store.keys(prefix="a/")) == ["a/1", "a/2"]
    assert sorted(store.keys(prefix="a")) == ["a", "a/1", "a/2", "ab"]
    assert sorted(store.keys(prefix="b/")) == ["b/1"]
    assert list(store.keys(prefix="zzz")) == []
    assert len(store.keys(prefix="a/")) == 2


def test_set_without_ttl_is_a_plain_write(store):
    store.set("key", b"value")
    store.set("zero", b"value", ttl=0)
    assert store["key"] == b"value"
    assert store["zero"] == b"value"


@pytest.mark.parametrize("ttl", [-1, "soon", float("nan")])
def test_bad_ttl_raises_valueerror(store, ttl):
    with pytest.raises(ValueError, match="ttl"):
        store.set("key", b"value", ttl=ttl)
    assert "key" not in store


def test_store_works_as_a_context_manager(store):
    with store as opened:
        opened["key"] = b"value"
    assert store["key"] == b"value"


def test_pickled_store_reads_the_same_data(store):
    store["key"] = b"value"
    copy = pickle.loads(pickle.dumps(store))
    assert copy["key"] == b"value"
    copy["other"] = b"written by the copy"
    assert store["other"] == b"written by the copy"


@pytest.mark.parametrize(
    "make", [MemoryBackend, lambda: get_store("memory://")], ids=["bare", "stack"]
)
def test_memory_store_refuses_to_unpickle_in_another_process(make):
    store = make()
    store["key"] = b"value"
    assert pickle.loads(pickle.dumps(store))["key"] == b"value"
    backend = store
    while hasattr(backend, "inner"):
        backend = backend.inner
    backend._pid = -1  # as if the pickle had been made by another process
    with pytest.raises(ProcessLocalError, match="another process"):
        pickle.loads(pickle.dumps(store))


def test_repr_names_the_backend(store):
    assert "Backend(" in repr(store)


def test_read_only_stack_refuses_writes(backend):
    from tests.conftest import stack_over

    backend["kept"] = b"value"
    store = stack_over(backend, read_only=True)
    with pytest.raises(ReadOnlyError):
        store["new"] = b"value"
    with pytest.raises(ReadOnlyError):
        del store["kept"]
    with pytest.raises(ReadOnlyError):
        store.clear()
    assert store["kept"] == b"value"
    assert list(backend) == ["kept"]


@pytest.mark.parametrize("prefix", ["../", "../../etc/", "a/../../", "a//"])
def test_prefix_that_would_leave_the_store_raises_valueerror(store, prefix):
    with pytest.raises(InvalidKeyError):
        list(store.keys(prefix=prefix))


def test_partial_last_segment_of_a_prefix_is_allowed(store):
    store.update({"a/.x": b"1", "a/.y/z": b"2", "a/b": b"3"})
    assert sorted(store.keys(prefix="a/.")) == ["a/.x", "a/.y/z"]
