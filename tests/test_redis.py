"""What is specific to the Redis backend (the contract suite covers the rest).

Tests run against the shared server (each under a fresh prefix), against
``redis-server`` processes these tests start on free loopback ports (for
restarts, passwords and command counts), and against fakeredis.
"""

from __future__ import annotations

import logging
import multiprocessing
import pickle
import threading
import time
import uuid

import pytest
import redis

import kvmap
from kvmap.backends.redis import PIPELINE_SIZE, RedisBackend
from kvmap.backends.redis_names import glob_escape
from kvmap.errors import BackendUnavailableError, ConfigError, ProcessLocalError
from tests.factories.redis import (
    FAKE_URL,
    OwnRedisServer,
    free_port,
    require_shared_redis,
    session_server,
    unique_prefix,
)
from tests.services import REDIS_URL


@pytest.fixture(autouse=True)
def _no_debug_mode_from_the_developer(monkeypatch):
    """Real-server tests stay on the real server even if REDIS_DEBUG is set."""
    monkeypatch.delenv("REDIS_DEBUG", raising=False)


@pytest.fixture(params=["redis", "fakeredis"])
def make_backend(request):
    """Build backends on the shared server, or on fakeredis; clean up after."""
    made = []
    if request.param == "redis":
        require_shared_redis()

    def make(redis_prefix=None, **options):
        prefix = unique_prefix() if redis_prefix is None else redis_prefix
        url = REDIS_URL if request.param == "redis" else FAKE_URL
        backend = RedisBackend(
            url, redis_prefix=prefix, debug=request.param == "fakeredis", **options
        )
        made.append(backend)
        return backend

    yield make
    for backend in made:
        backend.clear()
        backend.close()


@pytest.fixture
def own_server():
    """A redis-server of this test's own, removed afterwards."""
    server = OwnRedisServer()
    yield server
    server.remove()


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


# Expiry


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


# Prefixes


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


# Connection options


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


# Listing, len and batches, counted on a server of our own


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


# Processes and threads


def _write_in_worker(store, count):
    for number in range(count):
        store[f"from-worker/{number}"] = {"number": number}
    store.close()


def test_pickled_store_writes_from_a_spawned_process():
    require_shared_redis()
    store = kvmap.get_store(REDIS_URL, redis_prefix=unique_prefix())
    try:
        context = multiprocessing.get_context("spawn")
        worker = context.Process(target=_write_in_worker, args=(store, 5))
        worker.start()
        worker.join(60)
        assert worker.exitcode == 0
        assert store.getitems(f"from-worker/{n}" for n in range(5)) == {
            f"from-worker/{n}": {"number": n} for n in range(5)
        }
    finally:
        store.clear()


def test_store_pickles_to_its_configuration_without_connecting():
    port = free_port()
    backend = RedisBackend(f"redis://:pw@127.0.0.1:{port}/3", redis_prefix="app")
    copy = pickle.loads(pickle.dumps(backend))
    assert (copy.uri, copy.redis_prefix) == (backend.uri, "app")
    assert copy._redis.client is not backend._redis.client


def test_debug_store_refuses_to_unpickle_in_another_process():
    backend = RedisBackend(FAKE_URL, debug=True)
    backend._pid = -1  # as if the pickle came from another process
    with pytest.raises(ProcessLocalError, match="debug mode"):
        pickle.loads(pickle.dumps(backend))


def test_threads_share_one_store(make_backend):
    backend = make_backend()
    errors = []

    def work(thread):
        try:
            for number in range(50):
                backend[f"t{thread}/{number}"] = bytes([thread])
                assert backend[f"t{thread}/{number}"] == bytes([thread])
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(backend) == 400


# Server restarts and errors


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


# Debug mode


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
