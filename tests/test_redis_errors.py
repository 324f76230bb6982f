"""Server restarts, unreachable servers and refused passwords on the Redis backend.

Restarts and passwords use ``redis-server`` processes these tests start on
free loopback ports; no error may show a password or read as a missing key.
"""

from __future__ import annotations

import logging

import pytest

import kvmap
from kvmap.backends.redis import RedisBackend
from kvmap.errors import BackendUnavailableError
from tests.factories.redis import OwnRedisServer, free_port
from tests.redis_support import (
    no_debug_mode_from_the_developer as no_debug_mode_from_the_developer,
)
from tests.redis_support import own_server as own_server


def test_store_recovers_after_a_server_restart(own_server):
    backend = RedisBackend(own_server.url)
    backend["before"] = b"kept"
    own_server.client().save()
    own_server.stop()
    with pytest.raises(BackendUnavailableError, match=f"127.0.0.1:{own_server.port}"):
        backend["before"]
    own_server.start()
    assert backend["before"] == b"kept"
    backend["after"] = b"written"
    assert sorted(backend) == ["after", "before"]


def test_restart_between_calls_is_invisible(own_server):
    backend = RedisBackend(own_server.url)
    backend["key"] = b"value"
    own_server.client().save()
    own_server.restart()
    assert backend["key"] == b"value"
    own_server.restart()
    assert backend.getitems(f"k{n}" for n in range(2500)) == {}


@pytest.mark.parametrize(
    "operation",
    [
        lambda store: store["key"],
        lambda store: store.__setitem__("key", b"v"),
        lambda store: store.set("key", b"v", ttl=5),
        lambda store: "key" in store,
        lambda store: len(store),
        lambda store: list(store),
        lambda store: store.getitems(["a", "b"]),
        lambda store: store.setitems({"a": b"", "b": b""}),
        lambda store: store.delitems(["a", "b"]),
        lambda store: store.clear(),
    ],
)
def test_unreachable_server_raises_naming_host_and_port(operation):
    port = free_port()
    store = kvmap.get_store(f"redis://user:s3cret-pw@127.0.0.1:{port}/0")
    with pytest.raises(BackendUnavailableError) as raised:
        operation(store)
    assert not isinstance(raised.value, KeyError)
    assert isinstance(raised.value, ConnectionError)
    assert f"127.0.0.1:{port}" in str(raised.value)
    assert "s3cret-pw" not in str(raised.value)
    assert "s3cret-pw" not in repr(store)


@pytest.mark.parametrize("password", ["wrong-pw", None])
def test_refused_password_raises_without_showing_it(password):
    server = OwnRedisServer("--requirepass", "right-pw")
    try:
        userinfo = f":{password}@" if password else ""
        store = kvmap.get_store(f"redis://{userinfo}127.0.0.1:{server.port}/0")
        with pytest.raises(BackendUnavailableError) as raised:
            store["key"]
        message = str(raised.value)
        assert f"127.0.0.1:{server.port}" in message
        assert "wrong-pw" not in message and "right-pw" not in message
        right = kvmap.get_store(f"redis://:right-pw@127.0.0.1:{server.port}/0")
        right["key"] = b"value"
        assert right["key"] == b"value"
    finally:
        server.remove()


def test_logs_never_show_the_password(caplog):
    caplog.set_level(logging.DEBUG, logger="kvmap")
    store = kvmap.get_store("redis://:s3cret-pw@127.0.0.1:6379/0", password="other-pw")
    assert "s3cret-pw" not in repr(store)
    assert caplog.records
    assert "s3cret-pw" not in caplog.text
    assert "other-pw" not in caplog.text
