"""Keys and values on S3: exact names, folder markers, big values, ranges, ttl.

Against a moto server over real HTTP.
"""

from __future__ import annotations

import os

import pytest

from kvmap import InvalidKeyError
from kvmap.layers.ttl import TTLLayer
from tests.factories.s3 import REGION
from tests.s3_support import admin as admin
from tests.s3_support import bucket as bucket
from tests.s3_support import endpoint as endpoint
from tests.s3_support import open_s3


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


def _boto3_client(endpoint):
    boto3 = pytest.importorskip("boto3")
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
