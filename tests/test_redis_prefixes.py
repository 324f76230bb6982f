"""Key prefixes of the Redis backend: stores sharing a server stay apart.

Tests run against the shared server (each under a fresh prefix) and against
fakeredis.
"""

from __future__ import annotations

import uuid

import pytest

import kvmap
from kvmap.backends.redis import RedisBackend
from kvmap.backends.redis_names import glob_escape
from kvmap.errors import ConfigError
from tests.factories.redis import FAKE_URL
from tests.redis_support import make_backend as make_backend
from tests.redis_support import (
    no_debug_mode_from_the_developer as no_debug_mode_from_the_developer,
)


def test_glob_characters_in_prefixes_do_not_mix_stores(make_backend):
    base = uuid.uuid4().hex[:8]
    names = ["app[1]", "app1", "app*", "app?", "app\\", "app[!1]"]
    stores = {name: make_backend(f"{base}-{name}") for name in names}
    for name, backend in stores.items():
        backend.update(
            {"shared": name.encode(), f"only-{name}": b"", "k*": b"", "k?": b""}
        )
    for name, backend in stores.items():
        assert sorted(backend) == sorted(["shared", f"only-{name}", "k*", "k?"])
        assert len(backend) == 4
        assert backend["shared"] == name.encode()
    stores["app[1]"].clear()
    assert list(stores["app[1]"]) == []
    for name in names[1:]:
        assert len(stores[name]) == 4


def test_listing_a_key_prefix_with_glob_characters_is_literal(make_backend):
    backend = make_backend()
    backend.update({"k[1]/a": b"", "k1/b": b"", "k*/c": b"", "kx/d": b""})
    assert sorted(backend.keys(prefix="k[1]")) == ["k[1]/a"]
    assert sorted(backend.keys(prefix="k*")) == ["k*/c"]
    assert sorted(backend.keys(prefix="k")) == ["k*/c", "k1/b", "k[1]/a", "kx/d"]


def test_glob_escape_escapes_every_special_character():
    assert glob_escape("a*b?c[d]e\\f") == "a\\*b\\?c\\[d\\]e\\\\f"


def test_keys_live_under_the_prefix_and_a_colon(make_backend):
    backend = make_backend("tenant.a")
    backend["x/y"] = b"1"
    assert backend._redis.client.get("tenant.a:x/y") == b"1"


def test_prefix_with_a_colon_is_refused_naming_the_option():
    with pytest.raises(ConfigError, match="redis_prefix='a:b'"):
        RedisBackend(FAKE_URL, redis_prefix="a:b", debug=True)


def test_prefix_with_a_trailing_colon_means_the_same_prefix():
    assert RedisBackend(FAKE_URL, redis_prefix="app:", debug=True).redis_prefix == "app"


def test_prefix_from_the_environment_stays_a_string(monkeypatch):
    monkeypatch.setenv("REDIS_DEBUG", "1")
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__REDIS_PREFIX", "0042")
    store = kvmap.get_store(FAKE_URL)
    store.clear()
    store["key"] = b"value"
    backend = store.inner.inner
    assert backend.redis_prefix == "0042"
    assert backend._redis.client.get("0042:key") == b"value"
    store.clear()
