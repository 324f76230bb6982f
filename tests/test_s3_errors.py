"""S3 errors: a missing bucket, a denied access or a dead endpoint is never a
missing key, and no error, log or repr shows a secret.
"""

from __future__ import annotations

import logging

import pytest

import kvmap
from kvmap import BackendUnavailableError
from tests.factories.s3 import admin_filesystem, free_port, s3_options, start_moto
from tests.s3_support import SECRET, open_s3
from tests.s3_support import bucket as bucket
from tests.s3_support import endpoint as endpoint


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
