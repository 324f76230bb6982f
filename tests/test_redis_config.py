"""Options of the Redis backend: connection options, URIs and debug mode.

Debug mode (``REDIS_DEBUG``, ``KVMAP_REDIS_DEBUG``) swaps in fakeredis for
the same URI; the other tests build stores against fakeredis, the shared
server or a ``redis-server`` of their own on a Unix socket.
"""

from __future__ import annotations

import pytest

import kvmap
from kvmap.backends.redis import RedisBackend
from kvmap.errors import ConfigError
from tests.factories.redis import (
    FAKE_URL,
    OwnRedisServer,
    free_port,
    require_shared_redis,
    unique_prefix,
)
from tests.redis_support import (
    no_debug_mode_from_the_developer as no_debug_mode_from_the_developer,
)
from tests.services import REDIS_URL


@pytest.mark.parametrize(
    "uri, options",
    [(FAKE_URL + "?decode_responses=True", {}), (FAKE_URL, {"decode_responses": True})],
)
def test_decode_responses_is_ignored_so_values_stay_bytes(uri, options):
    prefix = unique_prefix()
    store = kvmap.get_store(uri, redis_prefix=prefix, debug=True, **options)
    store["binary"] = b"\xff\x00\xfe"
    store["object"] = {"set": {1, 2}, "bytes": b"\x80"}
    assert store["binary"] == b"\xff\x00\xfe"
    assert store["object"] == {"set": {1, 2}, "bytes": b"\x80"}
    assert sorted(store) == ["binary", "object"]
    store.clear()


def test_decode_responses_is_ignored_on_the_real_server():
    require_shared_redis()
    backend = RedisBackend(
        REDIS_URL, redis_prefix=unique_prefix(), decode_responses=True
    )
    try:
        backend["binary"] = b"\xff\x00"
        assert backend["binary"] == b"\xff\x00"
        assert backend.getitems(["binary"]) == {"binary": b"\xff\x00"}
    finally:
        backend.clear()


def test_unknown_uri_option_is_refused_when_the_store_is_made():
    with pytest.raises(ConfigError, match="bogus"):
        RedisBackend("redis://127.0.0.1:6379/0?bogus=1", debug=False)


@pytest.mark.parametrize("scan_count", [0, -5, 1.5, True])
def test_scan_count_must_be_a_positive_int(scan_count):
    with pytest.raises(ConfigError, match="scan_count"):
        RedisBackend(FAKE_URL, debug=True, scan_count=scan_count)


def test_tls_options_need_a_rediss_uri():
    with pytest.raises(ConfigError, match="rediss://"):
        RedisBackend("redis://127.0.0.1:6379/0", ssl_ca_certs="/ca.pem")


def test_connection_option_from_the_environment_is_cast(monkeypatch):
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__SOCKET_TIMEOUT", "2.5")
    settings = kvmap.Settings.load(uri=REDIS_URL)
    assert settings.backend_config == {"socket_timeout": 2.5}


def test_unknown_backend_option_is_refused_naming_it():
    with pytest.raises(ConfigError, match="redis_prefx"):
        kvmap.get_store(REDIS_URL, redis_prefx="typo")


def test_unix_socket_uri_reaches_the_server(tmp_path):
    socket_path = tmp_path / "redis.sock"
    server = OwnRedisServer("--unixsocket", str(socket_path), "--unixsocketperm", "700")
    try:
        backend = RedisBackend(f"unix://{socket_path}?db=2")
        backend["key"] = b"value"
        assert server.client(db=2).get("key") == b"value"
        backend.close()
    finally:
        server.remove()


@pytest.mark.parametrize("variable", ["REDIS_DEBUG", "KVMAP_REDIS_DEBUG"])
def test_debug_variable_swaps_in_fakeredis_for_the_same_uri(monkeypatch, variable):
    monkeypatch.setenv(variable, "1")
    uri = f"redis://127.0.0.1:{free_port()}/0"
    first = kvmap.get_store(uri)
    second = kvmap.get_store(uri)
    first["shared"] = [1, 2]
    assert second["shared"] == [1, 2]
    assert "debug=True" in repr(first)
    first.clear()


@pytest.mark.parametrize(
    "uri", ["rediss://127.0.0.1:6380/0?ssl_cert_reqs=none", "unix:///tmp/no.sock?db=1"]
)
def test_debug_mode_serves_tls_and_socket_uris_too(uri):
    backend = RedisBackend(uri, debug=True)
    backend["key"] = b"value"
    assert RedisBackend(uri, debug=True)["key"] == b"value"
    backend.clear()


def test_kvmap_debug_variable_wins_over_the_generic_one(monkeypatch):
    monkeypatch.setenv("REDIS_DEBUG", "1")
    monkeypatch.setenv("KVMAP_REDIS_DEBUG", "0")
    assert RedisBackend(FAKE_URL).debug is False


def test_debug_variable_that_is_no_boolean_is_refused(monkeypatch):
    monkeypatch.setenv("REDIS_DEBUG", "maybe")
    with pytest.raises(ConfigError, match="REDIS_DEBUG='maybe'"):
        RedisBackend(FAKE_URL)
