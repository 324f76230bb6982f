"""Expiry on the Redis backend: ttl becomes Redis's own expiry, in milliseconds.

Tests run against the shared server (each under a fresh prefix) and against
fakeredis; the contract suite covers what every backend shares.
"""

from __future__ import annotations

import time

import pytest

import kvmap
from tests.redis_support import make_backend as make_backend
from tests.redis_support import (
    no_debug_mode_from_the_developer as no_debug_mode_from_the_developer,
)


def test_ttl_expires_key_natively_within_a_second(make_backend):
    backend = make_backend()
    backend.set("short", b"value", ttl=0.15)
    backend["kept"] = b"value"
    assert backend["short"] == b"value"
    assert "short" in backend
    time.sleep(0.35)
    with pytest.raises(KeyError):
        backend["short"]
    assert "short" not in backend
    assert list(backend) == ["kept"]
    assert len(backend) == 1


def test_ttl_is_sent_as_milliseconds(make_backend):
    backend = make_backend()
    backend.set("key", b"value", ttl=30.5)
    milliseconds = backend._redis.client.pttl(f"{backend.redis_prefix}:key")
    assert 29_000 < milliseconds <= 30_500


@pytest.mark.parametrize("ttl", [0, 0.0, None])
def test_zero_ttl_stores_without_expiry(make_backend, ttl):
    backend = make_backend()
    backend.set("single", b"value", ttl=ttl)
    backend.setitems({"batch": b"value"}, ttl=ttl)
    client = backend._redis.client
    assert client.pttl(f"{backend.redis_prefix}:single") == -1
    assert client.pttl(f"{backend.redis_prefix}:batch") == -1


def test_plain_write_removes_an_earlier_expiry(make_backend):
    backend = make_backend()
    backend.set("key", b"old", ttl=0.1)
    backend["key"] = b"new"
    time.sleep(0.25)
    assert backend["key"] == b"new"


def test_ttl_below_a_millisecond_still_expires(make_backend):
    backend = make_backend()
    backend.set("key", b"value", ttl=0.0001)
    time.sleep(0.05)
    assert "key" not in backend


def test_setitems_with_ttl_expires_every_key(make_backend):
    backend = make_backend()
    backend.setitems({f"k{n}": b"v" for n in range(20)}, ttl=0.15)
    assert len(backend) == 20
    time.sleep(0.35)
    assert len(backend) == 0
    assert backend.getitems([f"k{n}" for n in range(20)]) == {}


def test_default_ttl_of_the_stack_uses_redis_expiry(make_backend):
    backend = make_backend()
    store = kvmap.wrap_backend(
        backend, kvmap.Settings(uri="redis://", default_ttl=0.15)
    )
    store["object"] = {"a": 1}
    assert store["object"] == {"a": 1}
    assert backend._redis.client.pttl(f"{backend.redis_prefix}:object") > 0
    time.sleep(0.35)
    assert "object" not in store
    assert list(store) == []
