"""The TTL, prefix, missing-key and custom layers."""

from __future__ import annotations

import os
import time
import zlib

import pytest

import kvmap
from kvmap import (
    FileBackend,
    Layer,
    MemoryBackend,
    MissingKeyLayer,
    PrefixLayer,
    TTLLayer,
    TTLNotSupportedError,
)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "file", "dict"])
def inner(request, tmp_path):
    if request.param == "memory":
        return MemoryBackend()
    if request.param == "file":
        return FileBackend(tmp_path)
    return {}


def test_key_expires_exactly_at_its_ttl(inner):
    clock = Clock()
    store = TTLLayer(inner, clock=clock)
    store.set("key", b"value", ttl=1)
    clock.now += 0.999
    assert store["key"] == b"value"
    clock.now += 0.001
    with pytest.raises(KeyError):
        store["key"]


def test_expired_key_is_missing_everywhere(inner):
    clock = Clock()
    store = TTLLayer(inner, clock=clock)
    store.set("gone", b"1", ttl=5)
    store["kept"] = b"2"
    clock.now += 5
    assert "gone" not in store
    assert list(store) == ["kept"]
    assert len(store) == 1
    assert store.get("gone") is None
    assert store.getitems(["gone", "kept"]) == {"kept": b"2"}
    assert list(store.keys(prefix="g")) == []


def test_default_ttl_applies_to_plain_writes(inner):
    clock = Clock()
    store = TTLLayer(inner, default_ttl=10, clock=clock)
    store["key"] = b"value"
    store.setitems({"batch": b"value"})
    store.set("forever", b"value", ttl=0)
    clock.now += 10
    assert sorted(store) == ["forever"]


def test_zero_default_ttl_stores_values_unchanged():
    backend = MemoryBackend()
    TTLLayer(backend)["key"] = b"plain"
    assert backend["key"] == b"plain"


def test_values_that_look_like_an_envelope_round_trip():
    store = TTLLayer(MemoryBackend())
    tricky = b"\x00kvmap:t" + b"\x00" * 20
    store["key"] = tricky
    assert store["key"] == tricky


@pytest.mark.parametrize("ttl", [-1, "soon", True, float("inf"), 1e20])
def test_bad_ttl_raises_valueerror(ttl):
    store = TTLLayer(MemoryBackend())
    with pytest.raises(ValueError):
        store.set("key", b"value", ttl=ttl)
    with pytest.raises(ValueError):
        TTLLayer(MemoryBackend(), default_ttl=ttl)


def test_purge_expired_deletes_only_expired_keys():
    clock = Clock()
    backend = MemoryBackend()
    store = TTLLayer(backend, clock=clock)
    store.set("old", b"1", ttl=1)
    store.set("new", b"2", ttl=100)
    store["forever"] = b"3"
    clock.now += 2
    assert store.purge_expired() == 1
    assert sorted(backend) == ["forever", "new"]


def test_backend_without_native_expiry_refuses_a_ttl_clearly():
    with pytest.raises(TTLNotSupportedError, match="TTLLayer"):
        MemoryBackend().set("key", b"value", ttl=5)


def test_ttl_is_passed_down_to_native_expiry():
    received = []

    class NativeBackend(MemoryBackend):
        native_ttl = True

        def set(self, key, value, ttl=None):
            received.append((key, ttl))
            self[key] = value

        def setitems(self, items, ttl=None):
            received.append(("batch", ttl))
            for key, value in items.items():
                self[key] = value

    backend = NativeBackend()
    store = TTLLayer(backend, default_ttl=30)
    store["a"] = b"1"
    store.set("b", b"2", ttl=5)
    store.setitems({"c": b"3"})
    assert received == [("a", 30.0), ("b", 5.0), ("batch", 30.0)]
    assert backend["a"] == b"1"


def test_prefix_layer_lists_and_clears_only_its_keys():
    backend = MemoryBackend()
    backend["other"] = b"x"
    backend["team/appx"] = b"not under team/app/"
    store = PrefixLayer(backend, "team/app")
    store["k"] = b"1"
    store["sub/k"] = b"2"
    assert backend["team/app/k"] == b"1"
    assert sorted(store) == ["k", "sub/k"]
    assert len(store) == 2
    assert list(store.keys(prefix="sub/")) == ["sub/k"]
    store.clear()
    assert sorted(backend) == ["other", "team/appx"]


def test_prefix_layer_rejects_keys_that_would_escape_it():
    store = PrefixLayer(MemoryBackend(), "app")
    with pytest.raises(ValueError, match=r"'\.\./x'"):
        store["../x"] = b"1"


def test_prefix_layer_rejects_an_invalid_prefix():
    with pytest.raises(ValueError):
        PrefixLayer(MemoryBackend(), "a//b")


def test_missing_key_policy_returns_none_but_keeps_membership_right():
    store = MissingKeyLayer(MemoryBackend(), raise_on_nonexist=False)
    store["present"] = b"1"
    assert store["missing"] is None
    assert "missing" not in store
    assert store.get("missing", b"default") == b"default"
    assert store.pop("missing", b"default") == b"default"
    assert store.setdefault("new", b"2") == b"2"
    assert store.pop("present") == b"1"
    with pytest.raises(KeyError):
        store.pop("present")
    with pytest.raises(KeyError):
        del store["missing"]


def test_missing_key_policy_tells_a_stored_none_from_a_missing_key():
    store = kvmap.get_store("memory://", raise_on_nonexist=False)
    store["none"] = None
    assert "none" in store
    assert store.get("none", "default") is None
    assert store.get("missing", "default") == "default"


class ZlibLayer(Layer):
    def encode(self, value):
        return zlib.compress(value)

    def decode(self, stored):
        return zlib.decompress(stored)


def test_custom_layer_changes_values_for_single_and_batch_calls():
    backend = MemoryBackend()
    store = ZlibLayer(backend)
    store["key"] = b"a" * 1000
    store.setitems({"batch": b"b" * 1000})
    assert len(backend["key"]) < 100
    assert store["key"] == b"a" * 1000
    assert store.getitems(["batch"]) == {"batch": b"b" * 1000}
    assert store.inner is backend


def test_layers_wrap_plain_dicts_too():
    inner: dict[str, bytes] = {}
    store = PrefixLayer(ZlibLayer(inner), "p")
    store.setitems({"a": b"1", "b": b"2"})
    assert sorted(store) == ["a", "b"]
    assert store.getitems(["a", "zz"]) == {"a": b"1"}
    store.delitems(["a", "zz"])
    assert sorted(inner) == ["p/b"]


def test_ttl_listing_reads_only_value_heads_in_batches():
    calls = []

    class CountingBackend(MemoryBackend):
        def getranges(self, keys, start, stop=None):
            calls.append((len(keys), start, stop))
            return super().getranges(keys, start, stop)

        def __getitem__(self, key):
            calls.append(("full read", key))
            return super().__getitem__(key)

    clock = Clock()
    store = TTLLayer(CountingBackend(), clock=clock)
    store.setitems({f"k{n}": b"x" * 1000 for n in range(10)}, ttl=5)
    store["forever"] = b"y" * 1000
    clock.now += 6
    # A comprehension, not list(): list() would also call len().
    assert [key for key in store] == ["forever"]
    assert calls == [(11, 0, 16)]


def test_prefix_layer_passes_ranged_batches_down():
    backend = MemoryBackend()
    store = PrefixLayer(backend, "p")
    store.update({"a": b"abcdef", "b": b"uvwxyz"})
    assert store.getrange("a", 1, 3) == b"bc"
    assert store.getranges(["a", "b", "missing"], 2, 4) == {"a": b"cd", "b": b"wx"}


class RangeCountingBackend(MemoryBackend):
    """A memory backend that records how much of each value is read."""

    def __init__(self):
        super().__init__()
        self.reads = []

    def __getitem__(self, key):
        self.reads.append(("whole", key))
        return super().__getitem__(key)

    def getrange(self, key, start, stop=None):
        self.reads.append((start, stop))
        return super().getrange(key, start, stop)


@pytest.mark.parametrize("ttl", [0, 100])
def test_default_stack_reads_only_ranges_of_plain_bytes(ttl):
    backend = RangeCountingBackend()
    store = kvmap.wrap_backend(backend, kvmap.Settings(uri="memory://"))
    store.set("blob", bytes(range(100)), ttl=ttl)
    backend.reads.clear()
    assert store.getrange("blob", 10, 13) == bytes([10, 11, 12])
    assert all(read[0] != "whole" for read in backend.reads)
    assert store.getrange("blob", -2) == bytes([98, 99])


def test_ranges_of_encoded_values_are_sliced_from_the_decoded_value():
    store = kvmap.wrap_backend(RangeCountingBackend(), kvmap.Settings(uri="memory://"))
    store["text"] = "abcdef"
    assert store.getrange("text", 1, 3) == "bc"


def test_ranged_read_of_an_expired_key_raises_keyerror():
    clock = Clock()
    store = TTLLayer(RangeCountingBackend(), clock=clock)
    store.set("key", b"value", ttl=1)
    assert store.getrange("key", 1, 3) == b"al"
    clock.now += 1
    with pytest.raises(KeyError):
        store.getrange("key", 1, 3)


def test_file_store_skips_foreign_files_with_names_no_key_can_have(tmp_path):
    store = FileBackend(tmp_path)
    store["good"] = b"1"
    (tmp_path / "sub").mkdir()
    os.close(os.open(os.fsencode(tmp_path) + b"/sub/\xff\xfe", os.O_CREAT))
    assert list(store) == ["good"]
    assert len(store) == 1


def test_deleting_an_expired_key_raises_keyerror_and_removes_it(inner):
    clock = Clock()
    store = TTLLayer(inner, clock=clock)
    store.set("key", b"value", ttl=1)
    clock.now += 2
    with pytest.raises(KeyError):
        del store["key"]
    assert "key" not in inner


@pytest.mark.parametrize("kind", ["memory", "file"])
def test_a_batch_with_one_invalid_key_writes_nothing(kind, tmp_path):
    inner = MemoryBackend() if kind == "memory" else FileBackend(tmp_path)
    store = TTLLayer(inner)
    with pytest.raises(ValueError, match=r"'\.\./bad'"):
        store.setitems({"ok1": b"1", "../bad": b"2", "ok2": b"3"})
    with pytest.raises(ValueError, match=r"'\.\./bad'"):
        PrefixLayer(inner, "p").setitems({"ok1": b"1", "../bad": b"2"})
    assert list(inner) == []


def test_a_single_string_is_not_taken_for_a_list_of_keys():
    store = TTLLayer(MemoryBackend())
    with pytest.raises(TypeError, match="wrap it in a list"):
        store.getitems("abc")
    with pytest.raises(TypeError, match="wrap it in a list"):
        store.delitems("abc")


def test_purge_expired_is_reachable_from_the_full_stack(tmp_path):
    store = kvmap.get_store(str(tmp_path), raise_on_nonexist=False)
    store.set("old", "x", ttl=0.01)
    store["kept"] = "y"
    time.sleep(0.05)
    assert store.purge_expired() == 1
    assert sorted(os.listdir(tmp_path)) == ["kept"]


def test_a_broken_expiry_header_is_reported_not_hidden_or_purged():
    backend = MemoryBackend()
    backend["broken"] = b"\x00kvmap:t\x00\x01"
    store = TTLLayer(backend)
    with pytest.raises(kvmap.CorruptValueError, match="'broken'"):
        store["broken"]
    assert "broken" in store
    assert list(store) == ["broken"]
    assert store.purge_expired() == 0
    assert "broken" in backend
