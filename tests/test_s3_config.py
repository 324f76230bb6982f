"""Configuration of the S3 backend: URIs, endpoints, credentials, options.

Against a moto server over real HTTP; the contract suite runs on S3 through
``tests/factories/s3.py``.
"""

from __future__ import annotations

import pytest

import kvmap
from kvmap import ConfigError, ReadOnlyError
from kvmap.backends.s3 import S3Backend
from tests.factories.s3 import REGION, free_port, s3_options
from tests.s3_support import SECRET, open_s3
from tests.s3_support import admin as admin
from tests.s3_support import bucket as bucket
from tests.s3_support import endpoint as endpoint


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


def _innermost(store):
    while hasattr(store, "inner"):
        store = store.inner
    return store
