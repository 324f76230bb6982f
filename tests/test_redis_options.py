"""Redis option values, listings of names other clients wrote, repr and ttl limits.

Names that are no valid kvmap keys are written straight with redis-py: on a
``redis-server`` of the test's own when the store has no prefix (it is the
whole database), under a fresh prefix on the shared server otherwise.
"""

from __future__ import annotations

import pytest

import kvmap
from kvmap.backends import redis_names as names
from kvmap.backends.redis import RedisBackend
from kvmap.cli import main
from kvmap.errors import BackendUnavailableError, ConfigError
from kvmap.store import check_ttl
from tests.factories.redis import require_shared_redis, unique_prefix
from tests.redis_support import (
    make_backend as make_backend,
)
from tests.redis_support import (
    no_debug_mode_from_the_developer as no_debug_mode_from_the_developer,
)
from tests.redis_support import (
    own_server as own_server,
)
from tests.services import REDIS_URL

#: Redis names no kvmap key maps to, each for a different key rule.
FOREIGN_NAMES = [b"x//y", b"/abs", b"a/../b", b"trail/", b"nul\x00x", b"\xff\xfe"]


@pytest.fixture
def shared_url():
    require_shared_redis()
    return REDIS_URL.rstrip("/") + "/0"


@pytest.mark.parametrize("given_as", ["keyword", "variable", "query"])
def test_max_connections_sizes_the_pool(shared_url, monkeypatch, given_as):
    uri, options = shared_url, {"redis_prefix": unique_prefix()}
    if given_as == "keyword":
        options["max_connections"] = 5
    elif given_as == "variable":
        monkeypatch.setenv("KVMAP_BACKEND_CONFIG__MAX_CONNECTIONS", "5")
    else:
        uri += "?max_connections=5"
    store = kvmap.get_store(uri, **options)
    store["key"] = 1
    assert store["key"] == 1
    store.clear()
    backend = kvmap.open_backend(uri, {"max_connections": 5})
    assert backend._redis.pool.max_connections == 5


def test_a_full_pool_is_reported_as_such(make_backend):
    backend = make_backend(max_connections=1)
    backend["key"] = b"value"
    taken = backend._redis.pool.get_connection()
    try:
        with pytest.raises(BackendUnavailableError, match="pool of 1"):
            backend["key"]
    finally:
        backend._redis.pool.release(taken)
    assert backend["key"] == b"value"


def test_names_that_are_no_keys_are_left_out_of_the_whole_database(own_server):
    client = own_server.client()
    for name in FOREIGN_NAMES:
        client.set(name, b"foreign")
    store = RedisBackend(own_server.url, debug=False)
    store.setitems({"good": b"1", "dir/ok": b"2"})
    assert sorted(store) == ["dir/ok", "good"]
    assert list(store.keys(prefix="dir/")) == ["dir/ok"]
    assert {key: store[key] for key in store} == {"good": b"1", "dir/ok": b"2"}
    store.close()


def test_len_of_the_whole_database_is_dbsize_and_counts_every_name(own_server):
    client = own_server.client()
    for name in FOREIGN_NAMES:
        client.set(name, b"foreign")
    store = RedisBackend(own_server.url, debug=False)
    store["good"] = b"1"
    assert len(store) == client.dbsize() == len(FOREIGN_NAMES) + 1
    store.clear()
    assert len(store) == client.dbsize() == 0
    store.close()


def test_names_that_are_no_keys_are_left_out_under_a_prefix(make_backend):
    backend = make_backend()
    backend.setitems({"good": b"1", "dir/ok": b"2"})
    raw = backend._redis.client
    for name in FOREIGN_NAMES:
        raw.set(backend.redis_prefix.encode() + b":" + name, b"foreign")
    assert sorted(backend) == ["dir/ok", "good"]
    assert len(backend) == 2
    assert {key: backend[key] for key in backend} == {"good": b"1", "dir/ok": b"2"}


def test_names_of_other_redis_types_are_left_out(make_backend):
    backend = make_backend()
    backend["string"] = b"1"
    raw = backend._redis.client
    base = backend.redis_prefix.encode() + b":"
    raw.hset(base + b"hash", "field", "value")
    raw.rpush(base + b"list", "item")
    assert list(backend) == ["string"]
    assert len(backend) == 1
    with pytest.raises(TypeError, match="'hash'"):
        backend["hash"]
    backend.clear()
    assert raw.exists(base + b"hash", base + b"list") == 2
    raw.delete(base + b"hash", base + b"list")


@pytest.mark.parametrize(
    "option, value, allowed",
    [
        ("protocol", 7, "2 or 3"),
        ("db", -1, "an int >= 0"),
        ("max_connections", 0, "an int >= 1"),
        ("socket_timeout", 0, "a number of seconds > 0"),
        ("health_check_interval", -5, "an int of seconds >= 0"),
        ("client_name", "two words", "without spaces"),
    ],
)
def test_a_bad_option_value_is_refused_naming_option_and_variable(
    monkeypatch, option, value, allowed
):
    variable = f"KVMAP_BACKEND_CONFIG__{option.upper()}"
    monkeypatch.setenv(variable, str(value))
    with pytest.raises(ConfigError) as refused:
        kvmap.get_store("redis://127.0.0.1:6379/0", redis_prefix=unique_prefix())
    message = str(refused.value)
    assert f"{option}={value!r}" in message
    assert variable in message and allowed in message


def test_the_command_line_reports_a_bad_option_value(monkeypatch, capsys):
    monkeypatch.setenv("KVMAP_URI", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__PROTOCOL", "7")
    assert main(["keys"]) == 2
    error = capsys.readouterr().err
    assert "KVMAP_BACKEND_CONFIG__PROTOCOL" in error and "2 or 3" in error


def test_a_database_the_server_lacks_is_a_config_error_naming_it(shared_url):
    uri = shared_url.removesuffix("/0") + "/99"
    backend = RedisBackend(uri, redis_prefix=unique_prefix(), debug=False)
    address = uri.removeprefix("redis://").removesuffix("/99")
    reads = [
        lambda: backend["key"],
        lambda: backend.getitems([f"k{n}" for n in range(2500)]),
        lambda: list(backend),
    ]
    for read in reads:
        with pytest.raises(ConfigError) as refused:
            read()
        assert address in str(refused.value) and "database 99" in str(refused.value)
    backend.close()


def test_repr_shows_the_database_the_options_choose(shared_url):
    uri = shared_url.replace("redis://", "redis://:s3cret@").removesuffix("/0")
    store = kvmap.get_store(uri + "/10", redis_prefix="p", db=11)
    shown = repr(store)
    assert "/11'" in shown and "/10" not in shown and "s3cret" not in shown
    plain = RedisBackend(uri + "/10", redis_prefix="p", debug=False)
    assert repr(plain).startswith(f"RedisBackend('{uri.replace('s3cret', '***')}/10'")


@pytest.mark.parametrize("ttl", [1e20, 2.0**64, 10**30])
def test_a_ttl_redis_cannot_take_is_a_value_error(make_backend, ttl):
    backend = make_backend()
    with pytest.raises(ValueError) as refused_set:
        backend.set("key", b"value", ttl=ttl)
    with pytest.raises(ValueError) as refused_batch:
        backend.setitems({"a": b"1", "b": b"2"}, ttl=ttl)
    assert list(backend) == []
    try:
        check_ttl(ttl)
    except ValueError as shared:  # the limit every backend has wins
        assert str(refused_set.value) == str(shared) == str(refused_batch.value)


def test_redis_refuses_a_ttl_past_its_own_limit_even_if_allowed_elsewhere(
    make_backend, monkeypatch
):
    monkeypatch.setattr(names, "check_ttl", float)  # a shared limit above Redis's
    backend = make_backend()
    for write in (
        lambda: backend.set("key", b"value", ttl=1e20),
        lambda: backend.setitems({"a": b"1"}, ttl=1e20),
    ):
        with pytest.raises(ValueError, match=r"at most \d+ seconds on Redis"):
            write()
    backend.set("key", b"value", ttl=names.MAX_TTL)
    assert backend["key"] == b"value"


@pytest.mark.parametrize("prefix", [":", " ", "  :"])
def test_a_prefix_that_names_nothing_is_refused(prefix):
    with pytest.raises(ConfigError, match="names no prefix"):
        RedisBackend("redis://127.0.0.1:6379/0", redis_prefix=prefix)


@pytest.mark.parametrize("uri", ["redis://127.0.0.1:6379/abc", "redis://h:1/0x2"])
def test_a_database_path_that_is_no_number_is_refused(uri):
    with pytest.raises(ConfigError, match="must be a number"):
        RedisBackend(uri, redis_prefix="p")
