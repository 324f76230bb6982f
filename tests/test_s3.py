"""What is specific to the S3 backend, against a moto server over real HTTP.

The contract suite runs on S3 through ``tests/factories/s3.py``; these tests
cover configuration, error reporting, exact names and bulk requests.
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys

import pytest

import kvmap
from kvmap import BackendUnavailableError, ConfigError, InvalidKeyError, ReadOnlyError
from kvmap.backends.s3 import S3Backend
from kvmap.layers.ttl import TTLLayer
from tests.factories.s3 import (
    REGION,
    admin_filesystem,
    free_port,
    make_bucket,
    moto_endpoint,
    s3_options,
    start_moto,
)

SECRET = "s3cr3t-not-to-be-shown"


@pytest.fixture(scope="session")
def endpoint(request):
    return moto_endpoint(request.config)


@pytest.fixture
def bucket(request, endpoint):
    return make_bucket(request, endpoint)


@pytest.fixture
def admin(endpoint):
    return admin_filesystem(endpoint)


def open_s3(endpoint, uri, **options):
    return S3Backend(uri, **{**s3_options(endpoint), **options})


def test_bucket_root_store_round_trips(endpoint, bucket):
    store = open_s3(endpoint, f"s3://{bucket}")
    store["a"] = b"1"
    store["a/b"] = b"2"
    assert store["a"] == b"1"
    assert store["a/b"] == b"2"
    assert sorted(store) == ["a", "a/b"]


def test_endpoint_and_credentials_from_kvmap_variables(
    endpoint, bucket, admin, monkeypatch
):
    monkeypatch.setenv("KVMAP_URI", f"s3://{bucket}/app")
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__KEY", "testing")
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__SECRET", SECRET)
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__ANON", "false")
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__CLIENT_KWARGS__ENDPOINT_URL", endpoint)
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__CLIENT_KWARGS__REGION_NAME", REGION)
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__USE_LISTINGS_CACHE", "false")
    store = kvmap.get_store()
    store["answer"] = {"value": 42}
    assert store["answer"] == {"value": 42}
    assert admin.find(f"{bucket}/app") == [f"{bucket}/app/answer"]

    backend = _innermost(store)
    assert backend.storage_options["anon"] is False
    assert backend.fs.anon is False
    assert backend.storage_options["use_listings_cache"] is False
    assert backend.fs.secret == SECRET


def test_endpoint_and_credentials_from_aws_variables(endpoint, bucket, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", endpoint)
    store = kvmap.get_store(f"s3://{bucket}")
    store["key"] = b"value"
    assert open_s3(endpoint, f"s3://{bucket}")["key"] == b"value"


def test_s3a_scheme_is_the_same_backend(endpoint, bucket):
    store = kvmap.get_store(f"s3a://{bucket}", backend_config=s3_options(endpoint))
    store["key"] = [1, 2]
    assert store["key"] == [1, 2]
    assert isinstance(_innermost(store), S3Backend)


def test_options_reach_the_file_system_constructor_only(endpoint, bucket):
    store = open_s3(endpoint, f"s3://{bucket}", s3_additional_kwargs={})
    calls = []
    real_cat_file = store.fs._cat_file

    async def spy(path, **kwargs):
        calls.append(kwargs)
        return await real_cat_file(path, **kwargs)

    store.fs._cat_file = spy
    store["key"] = b"value"
    assert store["key"] == b"value"
    assert store.getitems(["key"]) == {"key": b"value"}
    assert calls and all(not set(kwargs) & {"key", "secret"} for kwargs in calls)
    assert store.fs.client_kwargs["endpoint_url"] == endpoint


def test_folder_markers_are_never_keys(endpoint, bucket, admin):
    client = _boto3_client(endpoint)
    for marker in ("prefix/", "prefix/folder/", "sub/", "sub/path/", "sub/path/x/"):
        client.put_object(Bucket=bucket, Key=marker, Body=b"")
    admin.pipe_file(f"{bucket}/sub/path/made-by-s3fs/", b"")
    root = open_s3(endpoint, f"s3://{bucket}")
    sub = open_s3(endpoint, f"s3://{bucket}/sub/path")
    sub["x/real"] = b"1"
    sub["x"] = b"2"

    assert sorted(sub) == ["x", "x/real"]
    assert len(sub) == 2
    assert sorted(sub.keys(prefix="x/")) == ["x/real"]
    assert "made-by-s3fs" not in sub
    assert sorted(root) == ["sub/path/x", "sub/path/x/real"]
    assert "prefix" not in root
    assert "" not in list(root)
    sub.clear()
    assert list(sub) == []
    assert client.head_object(Bucket=bucket, Key="sub/path/x/")["ContentLength"] == 0


def test_names_no_key_can_have_are_refused_and_not_listed(endpoint, bucket):
    client = _boto3_client(endpoint)
    for name in ("a//b", "x/./y", "z/../w", "/lead", ".kvmap-value"):
        client.put_object(Bucket=bucket, Key=name, Body=b"foreign")
    store = open_s3(endpoint, f"s3://{bucket}")
    store["a/b"] = b"mine"
    assert list(store) == ["a/b"]
    for key in ("a//b", "x/./y", "z/../w"):
        with pytest.raises(InvalidKeyError):
            store[key]
    with pytest.raises(InvalidKeyError, match="versionId"):
        store["v?versionId=1"] = b"value"


def test_keys_with_glob_characters_are_read_and_deleted_exactly(endpoint, bucket):
    store = open_s3(endpoint, f"s3://{bucket}")
    pairs = {"a*": b"star", "ab": b"plain", "b?c": b"question", "[x]": b"bracket"}
    store.setitems(pairs)
    store["bxc"] = b"would match b?c"
    assert store.getitems(["a*", "b?c", "[x]", "missing*"]) == {
        "a*": b"star",
        "b?c": b"question",
        "[x]": b"bracket",
    }
    store.delitems(["a*", "b?c"])
    assert sorted(store) == ["[x]", "ab", "bxc"]


def test_missing_bucket_is_never_a_missing_key(endpoint):
    store = open_s3(endpoint, "s3://kvmap-no-such-bucket/prefix")
    for action in (
        lambda: store["key"],
        lambda: store.get("key"),
        lambda: "key" in store,
        lambda: store.getitems(["key", "other"]),
        lambda: list(store),
        lambda: store.__setitem__("key", b"value"),
        lambda: store.setitems({"key": b"value"}),
    ):
        with pytest.raises(FileNotFoundError, match="kvmap-no-such-bucket"):
            action()


def test_access_denied_is_never_a_missing_key(request):
    checking = start_moto(request.config, {"INITIAL_NO_AUTH_ACTION_COUNT": "1"})
    admin_filesystem(checking).call_s3("create_bucket", Bucket="guarded")
    store = open_s3(
        checking, "s3://guarded", config_kwargs={"retries": {"max_attempts": 1}}
    )
    for action in (
        lambda: store["key"],
        lambda: store.get("key"),
        lambda: "key" in store,
        lambda: store.getitems(["key"]),
        lambda: list(store),
        lambda: store.__setitem__("key", b"value"),
        lambda: store.delitems(["key"]),
    ):
        with pytest.raises(PermissionError) as raised:
            action()
        assert not isinstance(raised.value, KeyError)


def test_unreachable_endpoint_raises_backend_unavailable(caplog):
    closed = f"http://127.0.0.1:{free_port()}"
    options = {"config_kwargs": {"retries": {"max_attempts": 1}, "connect_timeout": 1}}
    store = open_s3(closed, "s3://bucket", secret=SECRET, **options)
    caplog.set_level(logging.DEBUG, logger="kvmap")
    for action in (lambda: store["key"], lambda: store.getitems(["key"])):
        with pytest.raises(BackendUnavailableError) as raised:
            action()
        assert closed in str(raised.value)
        assert SECRET not in str(raised.value)
    assert SECRET not in caplog.text
    assert "opened S3FileSystem" in caplog.text


def test_credentials_are_redacted(endpoint, bucket, caplog):
    caplog.set_level(logging.DEBUG, logger="kvmap")
    store = kvmap.get_store(
        f"s3://{bucket}", backend_config={**s3_options(endpoint), "secret": SECRET}
    )
    store["key"] = b"value"
    settings = kvmap.Settings.load(
        uri=f"s3://{bucket}", backend_config={"secret": SECRET, "token": SECRET}
    )
    assert SECRET not in repr(store)
    assert SECRET not in repr(settings.describe())
    assert SECRET not in caplog.text


def test_sub_path_store_sees_only_its_own_keys(endpoint, bucket):
    root = open_s3(endpoint, f"s3://{bucket}")
    team_a = open_s3(endpoint, f"s3://{bucket}/teams/a")
    team_b = open_s3(endpoint, f"s3://{bucket}/teams/b/")
    team_a.setitems({"k": b"a", "shared/x": b"a"})
    team_b["k"] = b"b"
    root["teams/ab"] = b"neighbour"
    assert sorted(team_a) == ["k", "shared/x"]
    assert team_b["k"] == b"b"
    assert "shared/x" not in team_b
    team_a.clear()
    assert list(team_a) == []
    assert sorted(root) == ["teams/ab", "teams/b/k"]


def test_bad_uris_are_config_errors():
    with pytest.raises(ConfigError, match="names no bucket"):
        S3Backend("s3://")
    with pytest.raises(ConfigError, match="prefix"):
        S3Backend("s3://bucket/a//b")


def test_twenty_megabyte_value_round_trips(endpoint, bucket):
    store = open_s3(endpoint, f"s3://{bucket}/big")
    value = os.urandom(20 * 2**20)
    store["big"] = value
    assert store["big"] == value
    assert store.getitems(["big"]) == {"big": value}
    middle = 10 * 2**20
    assert store.getrange("big", middle, middle + 16) == value[middle : middle + 16]


def test_getrange_reads_ranges_of_any_value(endpoint, bucket):
    store = open_s3(endpoint, f"s3://{bucket}")
    store.setitems({"empty": b"", "short": b"abc"})
    assert store.getrange("empty", 0, 16) == b""
    assert store.getrange("short", 0, 16) == b"abc"
    assert store.getrange("short", 1, 2) == b"b"
    assert store.getrange("short", 5, 9) == b""
    assert store.getrange("short", -2) == b"bc"
    with pytest.raises(KeyError):
        store.getrange("missing", 0, 16)


def test_ttl_expires_keys_through_the_ttl_layer(endpoint, bucket):
    now = [1000.0]
    store = TTLLayer(open_s3(endpoint, f"s3://{bucket}"), clock=lambda: now[0])
    store.set("short", b"", ttl=10)
    store.set("long", b"value", ttl=100)
    store["forever"] = b"kept"
    now[0] += 50
    assert "short" not in store
    assert sorted(store) == ["forever", "long"]
    assert store.getitems(["short", "long"]) == {"long": b"value"}
    assert store.purge_expired() == 1
    with pytest.raises(KeyError):
        store["short"]


def test_batches_are_bulk_requests(endpoint, bucket):
    store = open_s3(endpoint, f"s3://{bucket}/batch")
    calls = _spy(store, ["cat", "pipe", "cat_file", "pipe_file"])
    requests = _spy_requests(store)
    pairs = {f"k/{number}": bytes([number % 256]) for number in range(1500)}
    store.setitems(pairs)
    assert store.getitems([*pairs, "missing"]) == pairs
    store.delitems([*pairs, "missing"])
    assert [name for name, _ in calls] == ["pipe", "cat"]
    assert len(calls[1][1][0]) == 1501
    assert [name for name, _ in requests] == ["delete_objects", "delete_objects"]
    assert list(store) == []


def test_ranged_batches_are_one_concurrent_call(endpoint, bucket):
    store = open_s3(endpoint, f"s3://{bucket}/ranges")
    store.setitems({"long": b"0123456789", "short": b"01", "empty": b""})
    calls = _spy(store, ["cat_ranges", "cat_file"])
    found = store.getranges(["long", "short", "empty", "missing"], 2, 5)
    assert found == {"long": b"234", "short": b"", "empty": b""}
    assert calls[0][0] == "cat_ranges"
    assert len(calls[0][1][0]) == 4


def test_listing_through_the_ttl_layer_reads_heads_in_one_batch(endpoint, bucket):
    store = kvmap.get_store(f"s3://{bucket}/listing", **s3_options(endpoint))
    store.setitems({f"k{number}": b"x" * 100 for number in range(50)}, ttl=60)
    backend = store.inner.inner
    calls = _spy(backend, ["cat_ranges", "cat_file"])
    assert len([key for key in store]) == 50
    assert [name for name, _ in calls] == ["cat_ranges"]


def test_prefix_listing_asks_the_server_for_that_prefix(endpoint, bucket):
    store = open_s3(endpoint, f"s3://{bucket}/sub")
    store.setitems({"a/1": b"", "b/1": b""})
    requests = _spy_requests(store)
    assert [key for key in store.keys(prefix="a/")] == ["a/1"]
    assert requests == [("list_objects_v2", {"Bucket": bucket, "Prefix": "sub/a/"})]


def test_read_only_store_refuses_writes_before_any_request():
    closed = f"http://127.0.0.1:{free_port()}"
    store = open_s3(closed, "s3://bucket", read_only=True)
    for action in (
        lambda: store.__setitem__("key", b"value"),
        lambda: store.__delitem__("key"),
        lambda: store.setitems({"key": b"value"}),
        lambda: store.delitems(["key"]),
    ):
        with pytest.raises(ReadOnlyError, match="read-only"):
            action()
    assert store._fs is None  # nothing was opened, so nothing was sent


def test_read_only_option_from_the_environment(endpoint, bucket, monkeypatch):
    open_s3(endpoint, f"s3://{bucket}")["kept"] = b"value"
    monkeypatch.setenv("KVMAP_BACKEND_CONFIG__READ_ONLY", "true")
    store = kvmap.get_store(
        f"s3://{bucket}", serialization_mode="raw", backend_config=s3_options(endpoint)
    )
    assert store["kept"] == b"value"
    with pytest.raises(ReadOnlyError):
        store["new"] = b"value"


def test_pickled_store_reconnects_in_a_new_process(endpoint, bucket):
    store = kvmap.get_store(f"s3://{bucket}/p", backend_config=s3_options(endpoint))
    store["from parent"] = "hello"
    script = (
        "import pickle, sys\n"
        "store = pickle.loads(sys.stdin.buffer.read())\n"
        "store['from child'] = store['from parent'] + ' back'\n"
    )
    subprocess.run(
        [sys.executable, "-c", script], input=pickle.dumps(store), check=True
    )
    assert store["from child"] == "hello back"


def test_forked_child_opens_its_own_connection(endpoint, bucket):
    multiprocessing = pytest.importorskip("multiprocessing")
    store = open_s3(endpoint, f"s3://{bucket}")
    store["parent"] = b"1"
    parent_fs = store.fs
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as pool:
        pool.apply(_write_in_child, (store,))
    assert store["child"] == b"read 1"
    assert store.fs is parent_fs


def _write_in_child(store):
    store["child"] = b"read " + store["parent"]


def _innermost(store):
    while hasattr(store, "inner"):
        store = store.inner
    return store


def _boto3_client(endpoint):
    boto3 = pytest.importorskip("boto3")
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def _spy(store, names):
    calls = []
    for name in names:
        method = getattr(store.fs, name)

        def spy(*args, _name=name, _method=method, **kwargs):
            calls.append((_name, args))
            return _method(*args, **kwargs)

        setattr(store.fs, name, spy)
    return calls


def _spy_requests(store):
    requests = []
    call_s3 = store.fs.call_s3

    def spy(method, **kwargs):
        requests.append((method, kwargs))
        return call_s3(method, **kwargs)

    store.fs.call_s3 = spy
    return requests
