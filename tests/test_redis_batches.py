"""Listing, len, batches and ranged reads of the Redis backend.

Command counts and round trips are measured on a ``redis-server`` these
tests start on a free loopback port; the rest runs against the shared server
(each under a fresh prefix) and against fakeredis.
"""

from __future__ import annotations

import pytest
import redis

from kvmap.backends.redis import PIPELINE_SIZE, RedisBackend
from tests.factories.redis import session_server
from tests.redis_support import make_backend as make_backend
from tests.redis_support import (
    no_debug_mode_from_the_developer as no_debug_mode_from_the_developer,
)
from tests.redis_support import own_server as own_server


def command_calls(client: redis.Redis) -> dict[str, int]:
    """How many times the server ran each command since the last reset."""
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): row["calls"] for name, row in stats.items()}


class RoundTrips:
    """Count the requests a redis-py connection sends (one per round trip).

    Open the connection first: its handshake takes round trips of its own.
    """

    def __init__(self, monkeypatch):
        self.count = 0
        original = redis.connection.AbstractConnection.send_packed_command

        def counting(connection, command, check_health=True):
            self.count += 1
            return original(connection, command, check_health)

        monkeypatch.setattr(
            redis.connection.AbstractConnection, "send_packed_command", counting
        )


@pytest.fixture
def counted():
    """An empty database of our own server, with its command counts reset."""
    server = session_server()
    client = server.client()
    client.flushdb()
    client.config_resetstat()
    yield server, client
    client.flushdb()


def test_iteration_scans_with_count_and_never_uses_keys(counted):
    server, client = counted
    backend = RedisBackend(server.url, redis_prefix="p", scan_count=100)
    backend.setitems({f"k{n}": b"" for n in range(1000)})
    client.set("other", b"not under the prefix")
    assert len(list(backend)) == 1000
    calls = command_calls(client)
    assert calls["scan"] >= 10
    assert "keys" not in calls


def test_len_counts_by_scanning_under_a_prefix(counted):
    server, client = counted
    backend = RedisBackend(server.url, redis_prefix="p")
    backend.setitems({f"k{n}": b"" for n in range(30)})
    client.set("other", b"")
    assert len(backend) == 30
    assert "dbsize" not in command_calls(client)


def test_len_without_prefix_is_one_dbsize(counted):
    server, client = counted
    backend = RedisBackend(server.url)
    backend.setitems({f"k{n}": b"" for n in range(30)})
    assert len(backend) == 30
    calls = command_calls(client)
    assert calls["dbsize"] == 1
    assert "scan" not in calls


def test_getitems_is_one_round_trip_of_mget(counted, monkeypatch):
    server, client = counted
    backend = RedisBackend(server.url, redis_prefix="p")
    backend.setitems({f"k{n}": bytes([n % 256]) for n in range(2500)})
    client.config_resetstat()
    trips = RoundTrips(monkeypatch)
    found = backend.getitems([f"k{n}" for n in range(2500)] + ["missing"])
    assert len(found) == 2500
    assert found["k300"] == bytes([300 % 256])
    assert trips.count == 1
    calls = command_calls(client)
    assert calls["mget"] == 3
    assert "get" not in calls


@pytest.mark.parametrize("ttl, command, calls", [(None, "mset", 3), (60, "set", 2500)])
def test_setitems_is_one_round_trip(counted, monkeypatch, ttl, command, calls):
    server, client = counted
    backend = RedisBackend(server.url, redis_prefix="p")
    assert "connect" not in backend
    trips = RoundTrips(monkeypatch)
    backend.setitems({f"k{n}": b"v" for n in range(2500)}, ttl=ttl)
    assert trips.count == 1
    assert command_calls(client)[command] == calls
    assert client.dbsize() == 2500


def test_very_large_setitems_is_sent_in_several_pipelines(counted, monkeypatch):
    server, client = counted
    backend = RedisBackend(server.url)
    assert "connect" not in backend
    trips = RoundTrips(monkeypatch)
    backend.setitems((f"k{n}", b"") for n in range(PIPELINE_SIZE + 1))
    assert trips.count == 2
    assert client.dbsize() == PIPELINE_SIZE + 1


def test_delitems_and_clear_unlink_in_chunks_of_this_store_only(counted, monkeypatch):
    server, client = counted
    backend = RedisBackend(server.url, redis_prefix="p")
    backend.setitems({f"k{n}": b"" for n in range(2500)})
    client.set("other:k1", b"kept")
    trips = RoundTrips(monkeypatch)
    backend.delitems([f"k{n}" for n in range(2000)] + ["missing"])
    assert trips.count == 1
    assert command_calls(client)["unlink"] == 3
    assert len(backend) == 500
    backend.clear()
    assert client.keys("*") == [b"other:k1"]


@pytest.mark.parametrize("ttl", [None, 60])
def test_batches_of_several_chunks_round_trip(make_backend, ttl):
    backend = make_backend()
    items = {f"k{n}": n.to_bytes(2, "big") for n in range(2500)}
    backend.setitems(items, ttl=ttl)
    assert backend.getitems([*items, "missing"]) == items
    backend.delitems(list(items)[:2000])
    assert sorted(backend) == sorted(list(items)[2000:])


def test_batches_work_without_hiredis(make_backend, monkeypatch):
    monkeypatch.setattr("kvmap.backends.redis_client._pack", None)
    backend = make_backend()
    items = {f"k{n}": bytes([n % 256]) for n in range(2500)}
    backend.setitems(items, ttl=60)
    assert backend.getitems(items) == items


def test_error_reply_in_a_batch_raises_and_the_store_goes_on(own_server):
    backend = RedisBackend(own_server.url)
    backend["kept"] = b"value"
    own_server.client().config_set("maxmemory", 1)
    with pytest.raises(redis.ResponseError, match="maxmemory"):
        backend.setitems({f"k{n}": b"" for n in range(2500)})
    own_server.client().config_set("maxmemory", 0)
    backend.setitems({f"k{n}": b"" for n in range(2500)})
    assert len(backend) == 2501


def test_getrange_reads_only_the_range(make_backend):
    backend = make_backend()
    backend["key"] = b"0123456789"
    backend["empty"] = b""
    assert backend.getrange("key", 2, 5) == b"234"
    assert backend.getrange("key", 7) == b"789"
    assert backend.getrange("key", 5, 5) == b""
    assert backend.getrange("key", -3) == b"789"
    assert backend.getrange("empty", 0, 4) == b""
    with pytest.raises(KeyError):
        backend.getrange("missing", 0, 4)
